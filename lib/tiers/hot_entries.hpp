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
// 10 MB copy next to which the lock costs nothing. Thread-safe.
//
// A hit writes nothing shared beyond the entry itself (its reference count,
// its access time and hit count, and its "used" flag when unset): it takes
// its own thread's stripe of the shard's lock (StripedSharedMutex), marks the
// entry used (CLOCK: eviction takes the oldest entry not used since the sweep
// last passed it, instead of moving each hit to the front of a list) and
// counts itself on its own stripe. Two threads hitting one shard used to hand
// the lock's, the list's and the counter's cache lines back and forth on
// every hit (W5).
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
#include "policy/store_policy.hpp"
#include "storage/database.hpp"
#include "tiers/decoded_result.hpp"
#include "tiers/hot_admission.hpp"
#include "util/striped_shared_mutex.hpp"

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
  /// Hits served from this copy that no flush has taken yet, and the latest
  /// one's time (Unix ms): the access buffer's job for entries in memory, so
  /// a hot hit looks up one table instead of two.
  mutable std::atomic<std::uint64_t> unflushed_hits{0};
  mutable std::atomic<std::int64_t> last_hit_ms{0};
  /// The result decoded by a shared read (Memo::shared), if one was. Set at
  /// most once, under its shard's lock held exclusively (with the shard's
  /// bytes); read under the lock.
  mutable DecodedResult decoded;
};

class HotEntries {
 public:
  /// Entries of up to this many bytes (key and envelope) are copied; larger
  /// values live in blob files and are held where RocksDB read them.
  static constexpr std::size_t k_max_copied_bytes = k_min_blob_size;

  /// `copied_budget`: the memory copied entries and their bookkeeping may use;
  /// `held_budget`: the bytes of large entries kept pinned. 0 keeps none.
  HotEntries(std::uint64_t copied_budget, std::uint64_t held_budget);

  /// The entry for `key` if it is kept and its generation is `generation`;
  /// null otherwise. Counts a hit when found. An older small copy stays until
  /// the caller, having read the current entry, inserts it (or it is
  /// evicted); an older large one is dropped at once, releasing its pin.
  /// With `decoded`, also copies there the entry's decoded result, if any,
  /// or that of a copy of another generation (marked stale).
  std::shared_ptr<const HotEntry> find(std::string_view key, std::uint64_t generation,
                                       DecodedResult* decoded = nullptr);

  /// Keeps a copy of `envelope` (a well-formed entry, checked by the caller)
  /// for `key`, read when the database's entry_changes() was `generation`,
  /// with `decoded` (its decoded result) if given. Does nothing for entries
  /// over k_max_copied_bytes or without a budget.
  void insert(std::string_view key, std::string_view envelope, std::uint64_t generation,
              const DecodedResult* decoded = nullptr);

  /// Keeps `decoded` with `entry`, found by find() and kept without one, if
  /// it is still kept and the budget allows: later shared hits return it.
  void keep_decoded(const HotEntry& entry, const DecodedResult& decoded);

  /// Whether an entry just read and checked for `key` should be kept: not at
  /// its first read (HotAdmission) unless `at_once` (a shared read, whose
  /// decoded result is kept for the next), never without a budget. Records the read.
  bool admits(std::string_view key, bool at_once = false) noexcept {
    return m_admission != nullptr && (m_admission->admits(key) || at_once);
  }

  /// Counts as a read of `key` an entry this process just stored (computed,
  /// or copied from a lower tier): a result made here is likely read again,
  /// so its first hit is kept.
  void expect_reads(std::string_view key) noexcept {
    if (m_admission != nullptr) {
      m_admission->record(key);
    }
  }

  /// Whether a blob-sized entry of `bytes` (key and envelope) would be kept
  /// held rather than copied: the caller then holds it.
  bool holds(std::size_t bytes) const noexcept;

  /// Keeps `value` (a checked blob-sized entry, `view` pointing into it) for
  /// `key`. Drops held entries no longer current, which would
  /// otherwise keep their pins until evicted.
  void insert_held(std::string_view key, HeldValue value, const EntryView& view, std::uint64_t generation,
                   const DecodedResult* decoded = nullptr);

  /// Counts a hit served from `entry` (found by find()) at `now_ms`, for
  /// take_accesses(). A hit counted as another thread drops the copy may be
  /// lost: only the entry's own hit count and access time miss it.
  static void count_hit(const HotEntry& entry, std::int64_t now_ms) noexcept;

  /// Hands `add` the hits counted since the last call, on copies kept and on
  /// copies dropped since (evicted, replaced or erased).
  void take_accesses(AccessVisitor add);

  /// Drops the copy of `key`, keeping its uncounted hits for take_accesses().
  void erase(std::string_view key) { drop_copies(key, Hits::keep); }
  /// Drops the copy of an entry that was removed, and its uncounted hits
  /// (those of copies dropped before too).
  void forget(std::string_view key);

  /// Hits, entries and bytes now.
  HotTierStats stats() const;

 private:
  /// An entry and whether a hit used it since eviction's sweep last passed it.
  struct Slot {
    explicit Slot(std::shared_ptr<const HotEntry> kept) : entry(std::move(kept)) {}
    std::shared_ptr<const HotEntry> entry;
    std::atomic<bool> used{false};  // set under a shared lock; cleared under the exclusive one
  };
  using Order = std::list<Slot>;  // newest first; the sweep starts at the back
  struct Shard {
    mutable StripedSharedMutex mutex;
    Order order;  // guarded by mutex
    std::unordered_map<std::string_view, Order::iterator> index;  // views of the entries' keys; guarded by mutex
    std::uint64_t bytes = 0;  // guarded by mutex
    std::atomic<std::size_t> entries{0};  // written under mutex; read without, to skip an empty shard
  };
  struct alignas(64) HitStripe {  // a cache line per thread (util/thread_stripe.hpp)
    std::atomic<std::uint64_t> hits{0};
  };
  static constexpr std::size_t k_shards = 16;
  static constexpr std::size_t k_hit_stripes = 8;

  Shard& shard_for(std::string_view key) noexcept;
  struct Found {
    std::shared_ptr<const HotEntry> entry;  // if current
    bool stale = false;                     // a copy of another generation is kept
  };
  Found find_in(Shard& shard, std::string_view key, std::uint64_t generation, DecodedResult* decoded);
  /// The shard that keeps `entry`: one of m_shards, or m_held.
  Shard& shard_of(const HotEntry& entry) noexcept;
  /// Inserts `entry`, moving what it pushes out into `released`, to be freed
  /// after the lock (a held entry's release may free a 10 MB value).
  static void insert_into(Shard& shard, std::uint64_t budget, std::shared_ptr<HotEntry> entry, Order& released);
  /// What becomes of the untaken hits of a copy that is dropped.
  enum class Hits { keep, discard };
  void erase_from(Shard& shard, std::string_view key, Hits hits);
  /// The copies of `key`, small and large.
  void drop_copies(std::string_view key, Hits hits);
  /// Keeps the uncounted hits of `released` copies for take_accesses().
  void keep_hits_of(const Order& released);
  /// Moves the entry `it` points to into `released`, to be freed (and its
  /// hits kept) after the lock. Requires: the shard's mutex held exclusively.
  static void drop(Shard& shard, Order::iterator it, Order& released);

  std::unique_ptr<HotAdmission> m_admission;  // null without any budget
  std::uint64_t m_shard_budget;
  std::uint64_t m_held_budget;
  Shard m_shards[k_shards];
  Shard m_held;  // the large entries
  HitStripe m_hits[k_hit_stripes];
  // Past this many keys, the hits of dropped copies are no longer kept (the
  // function's counts still have them): the flush is far behind, or the store
  // is read-only and never flushes.
  static constexpr std::size_t k_max_dropped_keys = 65536;
  std::mutex m_dropped_mutex;
  std::unordered_map<std::string, Accesses> m_dropped;  // by key; guarded by m_dropped_mutex
  std::uint64_t m_held_current = 0;  // guarded by m_held.mutex: held entries older than this were dropped
};

}  // namespace memostore::detail
