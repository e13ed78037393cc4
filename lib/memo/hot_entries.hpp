// HotEntries: the in-process hot tier in front of RocksDB. Entries that were
// read and checked recently are kept in memory, so a repeated hit costs a map
// lookup instead of a RocksDB point read, the checksum over the whole entry
// and the signature check (what is kept cannot change under this process).
//
// Small entries are copied, within StoreOptions::hot_cache_bytes, in shards
// with a mutex each. Large ones (over k_max_copied_bytes, which live in
// RocksDB's blob files) are not copied: they stay where RocksDB read them,
// pinned in its blob cache (or RocksDB's own copy of a value still in its
// memory table), up to StoreOptions::blob_cache_bytes of them, in one shard:
// a 10 MB value would not fit a shard's share of the budget, and its hit is a
// 10 MB copy next to which the lock costs nothing. Least recently used out
// first. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <memostore/stats.hpp>

#include "codec/envelope.hpp"
#include "storage/database.hpp"

namespace memostore::detail {

/// A checked entry, as read from the store.
struct HotEntry {
  std::string key;
  std::string copy;                // a small entry's bytes
  std::optional<HeldValue> held;   // a large entry's bytes, where RocksDB keeps them
  std::string_view envelope;       // into `copy` or `held`
  EntryView view;                  // into `envelope`
  /// Database::entry_changes() before the read that found the entry: the
  /// copy is current while the count has not moved.
  std::uint64_t generation = 0;
};

class HotEntries {
 public:
  /// Entries of up to this many bytes (key and envelope) are copied; larger
  /// values live in blob files and are held where RocksDB read them.
  static constexpr std::size_t k_max_copied_bytes = k_min_blob_size;

  /// `copied_budget`: the memory copied entries and their bookkeeping may use;
  /// `held_budget`: the bytes of large entries kept pinned. 0 keeps none.
  HotEntries(std::uint64_t copied_budget, std::uint64_t held_budget);

  /// The entry for `key` if it is kept and its generation is `generation`
  /// (an older copy is dropped); null otherwise. Counts a hit when found.
  std::shared_ptr<const HotEntry> find(std::string_view key, std::uint64_t generation);

  /// Keeps a copy of `envelope` (a well-formed entry, checked by the caller)
  /// for `key`, read when the database's entry_changes() was `generation`.
  /// Does nothing for entries over k_max_copied_bytes or without a budget.
  void insert(std::string_view key, std::string_view envelope, std::uint64_t generation);

  /// Whether a blob-sized entry of `bytes` (key and envelope) would be kept
  /// held rather than copied: the caller then holds it.
  bool holds(std::size_t bytes) const noexcept;

  /// Keeps `value` (a checked blob-sized entry, `view` pointing into it) for
  /// `key`. Drops held entries no longer current, which would
  /// otherwise keep their pins until evicted.
  void insert_held(std::string_view key, HeldValue value, const EntryView& view, std::uint64_t generation);

  void erase(std::string_view key);

  /// Hits, entries and bytes now.
  HotTierStats stats() const;

 private:
  using Order = std::list<std::shared_ptr<const HotEntry>>;
  struct alignas(64) Shard {  // a cache line of its own: threads lock different shards at once
    mutable std::mutex mutex;
    Order order;  // most recently used first; guarded by mutex
    std::unordered_map<std::string_view, Order::iterator> index;  // views of the entries' keys; guarded by mutex
    std::uint64_t bytes = 0;  // guarded by mutex
    std::uint64_t hits = 0;   // guarded by mutex
    std::atomic<std::size_t> entries{0};  // written under mutex; read without, to skip an empty shard
  };
  static constexpr std::size_t k_shards = 16;

  Shard& shard_for(std::string_view key) noexcept;
  static std::shared_ptr<const HotEntry> find_in(Shard& shard, std::string_view key, std::uint64_t generation);
  /// Inserts `entry`, moving what it pushes out into `released`, to be freed
  /// after the lock (a held entry's release may free a 10 MB value).
  static void insert_into(Shard& shard, std::uint64_t budget, std::shared_ptr<HotEntry> entry, Order& released);
  static void erase_from(Shard& shard, std::string_view key);
  /// Removes the entry `it` points to, into `released` if given. Requires: the shard's mutex held.
  static void drop(Shard& shard, Order::iterator it, Order* released = nullptr);

  std::uint64_t m_shard_budget;
  std::uint64_t m_held_budget;
  Shard m_shards[k_shards];
  Shard m_held;  // the large entries
  std::uint64_t m_held_current = 0;  // guarded by m_held.mutex: held entries older than this were dropped
};

}  // namespace memostore::detail
