// HotEntries: the in-process hot tier in front of RocksDB. Small entries that
// were read and checked recently are kept in memory, so a repeated hit costs a
// map lookup instead of a RocksDB point read (and no signature check: the copy
// is in this process's memory, not in a directory others can write).
// Bounded in bytes (StoreOptions::hot_cache_bytes), least recently used out
// first, in shards with a mutex each. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <memostore/stats.hpp>

#include "codec/envelope.hpp"

namespace memostore::detail {

/// A checked entry, as read from the store.
struct HotEntry {
  std::string key;
  std::string envelope;
  EntryView view;  // into `envelope`
  /// Database::entry_changes() before the read that found the entry: the
  /// copy is current while the count has not moved.
  std::uint64_t generation = 0;
};

class HotEntries {
 public:
  /// Entries of up to this many bytes (key and envelope) are kept; larger
  /// ones live in RocksDB's blob files and blob cache, read without a copy.
  static constexpr std::size_t k_max_entry_bytes = 16 << 10;

  /// `budget_bytes`: the memory the entries and their bookkeeping may use; 0 keeps nothing.
  explicit HotEntries(std::uint64_t budget_bytes);

  /// The entry for `key` if it is kept and its generation is `generation`
  /// (an older copy is dropped); null otherwise. Counts a hit when found.
  std::shared_ptr<const HotEntry> find(std::string_view key, std::uint64_t generation);

  /// Keeps a copy of `envelope` (a well-formed entry, checked by the caller)
  /// for `key`, read when the database's entry_changes() was `generation`.
  /// Does nothing for entries over k_max_entry_bytes or without a budget.
  void insert(std::string_view key, std::string_view envelope, std::uint64_t generation);

  void erase(std::string_view key);

  /// Hits, entries and bytes now.
  HotTierStats stats() const;

 private:
  struct alignas(64) Shard {  // a cache line of its own: threads lock different shards at once
    mutable std::mutex mutex;
    std::list<std::shared_ptr<const HotEntry>> order;  // most recently used first; guarded by mutex
    std::unordered_map<std::string_view, std::list<std::shared_ptr<const HotEntry>>::iterator>
        index;                    // views of the entries' keys; guarded by mutex
    std::uint64_t bytes = 0;      // guarded by mutex
    std::uint64_t hits = 0;       // guarded by mutex
  };
  static constexpr std::size_t k_shards = 16;

  Shard& shard_for(std::string_view key) noexcept;
  /// Removes the entry `it` points to. Requires: the shard's mutex held.
  static void drop(Shard& shard, std::list<std::shared_ptr<const HotEntry>>::iterator it);

  std::uint64_t m_shard_budget;
  Shard m_shards[k_shards];
};

}  // namespace memostore::detail
