// StorePolicy: the ttl, budget and statistics half of an open store's own
// directory (the local tier).
//
// Counters per function live in the "stats" family. Every counter change and
// every last-access time is kept in memory and written in batches (merged by
// RocksDB's uint64add) every k_flush_interval by the storage facade's
// bookkeeping thread (tiers/tiers.hpp), which also hands over the counts kept
// by the tiers above (the hot tier's hits, the remote tier's counters), and on
// flush(), stats(), evict(), gc() and at close: a hit never writes, and a
// store writes only its entry and its info record. Four merges per store
// cost more than the store itself (measured: 14 µs against 8 µs).
// A crash loses up to k_flush_interval of counts. The live totals (entries,
// bytes) that budgets rely on are then recounted from the info records: a
// marker records a clean close, and an open without it recounts on the
// bookkeeping thread. Nothing here calls up into another tier: what this
// removes is reported to the caller of each cleanup (RemovedFn). Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <memostore/detail/function_ref.hpp>
#include <memostore/policy.hpp>
#include <memostore/stats.hpp>

#include "codec/meta.hpp"
#include "policy/access_buffer.hpp"
#include "policy/function_state.hpp"
#include "policy/expiry.hpp"
#include "storage/database.hpp"
#include "util/wakeup.hpp"

namespace memostore::detail {

/// How often buffered counters and access times are written; also the
/// precision of last-access times after a crash.
inline constexpr std::chrono::seconds k_flush_interval{2};

/// Once over a budget, evict down to this fraction of it.
inline constexpr double k_keep_fraction = 0.9;

/// Told of each entry a cleanup removed, once the removal is written: the
/// caller drops what it keeps of it elsewhere (the hot tier's copy and hits).
using RemovedFn = FunctionRef<void(std::string_view key)>;

struct StorePolicySettings {
  std::uint64_t max_bytes = 0;  // 0: no bound
  std::optional<Duration> default_ttl;
  std::shared_ptr<const Clock> clock;  // never null
  bool writable = true;
  bool explain = false;     // MEMOSTORE_EXPLAIN: log why each miss missed
  bool exit_summary = false;  // MEMOSTORE_STATS: one line at close
  bool always_hash_inputs = false;  // MEMOSTORE_FILE_CHECK=content
  std::uint64_t hot_cache_bytes = 0;  // the hot tier's budget (MEMOSTORE_HOT_CACHE)
  double check_rate = 0;  // the fraction of hits checked against a fresh computation (MEMOSTORE_CHECK_RATE)
  unsigned refresh_threads = 1;  // the background refresh pool (StoreOptions::refresh_threads); 0: none
};

/// The counter changes a batch makes; applied in memory once it is written.
struct LiveChange {
  FunctionState* function = nullptr;
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
  std::uint64_t stores = 0;
  std::uint64_t compute_ns = 0;
  std::optional<Counter> removal;  // evictions or expirations, counted once
  std::string removed_key;  // the entry a removal removed, for the caller to forget elsewhere
};

/// What a scan-based cleanup does beyond applying the budgets.
struct CleanupRequest {
  bool collect_garbage = false;  // remove expired and superseded entries
  FunctionState* only = nullptr;  // one function's caps only; null: the whole store
  std::optional<std::uint64_t> max_bytes = std::nullopt;  // instead of the store's budget
  std::optional<std::int64_t> unused_before_ms = std::nullopt;  // remove entries last used before this
  // With collect_garbage: true for the key of an entry whose input files changed since it
  // was stored, so it goes. Decided before the cleanup (hashing files must not hold the
  // cleanup lock); the key holds the inputs' hashes, so an entry stored meanwhile under
  // the same key has the same inputs. Empty: inputs are not looked at.
  std::function<bool(std::string_view key)> inputs_changed = {};
};

/// Entries and bytes, e.g. what a clear removed.
struct Totals {
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
};

class StorePolicy {
 public:
  /// Loads the live counters.
  StorePolicy(Database& database, StorePolicySettings settings);
  /// Prints the exit summary (MEMOSTORE_STATS); close() wrote what was buffered.
  ~StorePolicy();
  StorePolicy(const StorePolicy&) = delete;
  StorePolicy& operator=(const StorePolicy&) = delete;

  /// The state for `name`, created on first use. The address is stable.
  FunctionState& function(std::string_view name);

  std::int64_t now_ms() const { return unix_ms(m_settings.clock->now()); }
  const StorePolicySettings& settings() const noexcept { return m_settings; }

  /// The ttl that applies to `function`: its own, else the store's default.
  std::optional<Duration> ttl_for(const FunctionState& function) const;

  // --- The memo path ---

  /// A hit on `key`, whose entry records `compute_ns`.
  void record_hit(FunctionState& function, std::string_view key, std::uint64_t compute_ns, std::int64_t now_ms);
  void record_miss(FunctionState& function) noexcept;
  /// An entry found expired on read (it is replaced by the recomputed one).
  void record_expired_read(FunctionState& function) noexcept;
  /// Counts an entry ignored for lacking a valid signature.
  void record_rejected(FunctionState& function) noexcept;
  /// Counts a hit found in a fallback directory (besides record_hit).
  void record_fallback_hit(FunctionState& function) noexcept;
  /// Counts a refreshed result (MemoOptions::refresh_after, Memo::refresh),
  /// or a background refresh that threw.
  void record_refresh(FunctionState& function, bool failed) noexcept;
  /// Counts a stored result compared with a fresh computation (check mode),
  /// and whether they differed.
  void record_check(FunctionState& function, bool stale) noexcept;
  /// Counts an entry whose bytes no longer decode as the function's result type.
  void record_changed_layout(FunctionState& function) noexcept;

  /// Adds the bookkeeping of a new entry to `batch` (which puts the entry);
  /// `replaced_size` is the size of the entry it overwrites, if any;
  /// `inputs` its encoded input files record, empty if it has none.
  LiveChange stage_store(Batch& batch, FunctionState& function, std::string_view key, const EntryMeta& meta,
                         std::optional<std::uint64_t> replaced_size, std::uint64_t compute_ns,
                         std::string_view inputs = {});

  /// Adds the removal of an entry of `size` bytes and its bookkeeping to
  /// `batch`. `removal` is evictions, expirations or none.
  LiveChange stage_remove(Batch& batch, FunctionState& function, std::string_view key, std::uint64_t size,
                          std::optional<Counter> removal);

  /// Writes `batch` and applies `changes` to the counters. Every write of
  /// entries goes through here, so a recount can stop them for a moment.
  Result<void> commit(Batch& batch, std::span<const LiveChange> changes);
  Result<void> commit(Batch& batch, const LiveChange& change) { return commit(batch, std::span(&change, 1)); }

  /// Whether `function` or the whole store is over its budget now.
  bool over_budget(const FunctionState& function) const;

  /// After a write: if `function` or the store is over budget, evicts (on
  /// this thread, unless another thread is already evicting).
  void enforce_budgets(FunctionState& function, RemovedFn removed);

  /// The size of the entry `key` according to its info record, if any.
  std::optional<std::uint64_t> stored_size(std::string_view key) const;

  /// Deletes every entry of `function` (all versions, or only `version`), or
  /// of every function when it is empty, with their bookkeeping, and corrects
  /// the live totals. Returns what was removed, from a scan of the info records.
  Result<Totals> clear(std::string_view function, std::optional<std::uint32_t> version = std::nullopt);

  /// Records `function`'s refresh_after (none: removes it) where the tool
  /// reads it; writes only when it changed.
  Result<void> note_refresh_after(std::string_view function, std::optional<Duration> refresh_after);

  /// Sets every counter but the live totals to zero.
  Result<void> zero_counters();

  /// True if `key` was evicted by this process (remembered only while explaining).
  bool was_evicted(std::string_view key) const;

  // --- Maintenance ---

  /// Whether buffered bookkeeping must be written now or may wait for the
  /// next process that writes (Database::write_bookkeeping).
  enum class Urgency { now, may_wait };

  /// Adds accesses counted outside this policy (the hot tier's hits) to
  /// the buffer the next flush writes.
  void add_accesses(std::string_view key, const Accesses& accesses);
  /// Adds `n` to the store-wide counter under `key` in the stats family at
  /// the next flush (the remote tier's counters).
  void add_counter(std::string key, std::int64_t n);
  /// Raised when the access buffer fills faster than the periodic flush
  /// empties it: the bookkeeping thread flushes early.
  Wakeup& flush_wanted() noexcept { return m_flush_wanted; }

  /// Writes buffered counters and access times.
  Result<void> flush(Urgency urgency = Urgency::now);
  /// The last flush, at close: writes what is buffered (what a process that
  /// only read buffered may wait for the next writer) and records the clean close.
  Result<void> close();
  /// After an unclean close, recounts the live totals from the info records
  /// (and applies the budgets); once per open, the first caller does it.
  void recount_if_unclean(RemovedFn removed);
  StoreStats stats();
  Result<CleanupReport> evict(RemovedFn removed);
  Result<CleanupReport> gc(const CleanupRequest& request, RemovedFn removed);

 private:
  /// Adds "open" to `batch` if this process has not recorded it yet; true if
  /// it did (set m_marked_open once the batch is written).
  bool mark_open(Batch& batch);
  void load_counters();
  void apply(const LiveChange& change) noexcept;
  Result<CleanupReport> cleanup(const CleanupRequest& request, RemovedFn removed);
  void remember_evicted(std::string_view key);
  std::uint64_t total_bytes() const noexcept;
  void print_exit_summary();

  Database& m_database;
  const StorePolicySettings m_settings;

  mutable std::mutex m_functions_mutex;
  std::map<std::string, std::unique_ptr<FunctionState>, std::less<>> m_functions;  // guarded by m_functions_mutex

  AccessBuffer m_accesses;
  std::mutex m_flush_mutex;     // one flush at a time
  // Writers of entries hold it shared; a recount holds it exclusively while
  // it flushes and takes its snapshot, so no change is counted twice.
  std::shared_mutex m_accounting;
  std::atomic<bool> m_recount_pending{false};  // the last close was not clean
  bool m_owns_clean_close = false;             // primary of a writable store: keeps the clean-close record
  std::atomic<bool> m_marked_open{false};      // this process set the record to "open" (or recounted)
  std::mutex m_cleanup_mutex;   // one eviction or gc at a time

  mutable std::mutex m_evicted_mutex;
  std::unordered_set<std::string> m_evicted;  // guarded by m_evicted_mutex; only while explaining

  std::mutex m_counters_mutex;
  std::map<std::string, std::int64_t> m_counters;  // add_counter's, until flushed; guarded by m_counters_mutex

  std::atomic<bool> m_flush_requested{false};  // the access buffer asked for an early flush
  Wakeup m_flush_wanted;
};

}  // namespace memostore::detail
