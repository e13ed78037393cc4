// StorePolicy: the ttl, budget and statistics half of an open store.
//
// Counters per function live in the "stats" family. Those that change with
// the entries (stores, evictions, live entries and bytes, compute time) are
// written in the same batch as the entries, so they never disagree with them
// after a crash. Those that change on hits (hits, misses, time saved,
// expirations found on read) and last-access times are kept in memory and
// written in batches by a background thread every k_flush_interval, on
// flush(), stats(), evict(), gc() and at close: a hit never writes.
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <memostore/policy.hpp>
#include <memostore/stats.hpp>

#include "codec/meta.hpp"
#include "storage/database.hpp"

namespace memostore::detail {

/// How often buffered counters and access times are written; also the
/// precision of last-access times after a crash.
inline constexpr std::chrono::seconds k_flush_interval{2};

/// Once over a budget, evict down to this fraction of it.
inline constexpr double k_keep_fraction = 0.9;

struct StorePolicySettings {
  std::uint64_t max_bytes = 0;  // 0: no bound
  std::optional<Duration> default_ttl;
  std::shared_ptr<const Clock> clock;  // never null
  bool writable = true;
  bool explain = false;     // MEMOSTORE_EXPLAIN: log why each miss missed
  bool exit_summary = false;  // MEMOSTORE_STATS: one line at close
};

/// One function's limits, as the latest memo handle for it set them.
struct FunctionLimits {
  std::optional<Duration> ttl;
  std::uint64_t max_entries = 0;
  std::uint64_t max_bytes = 0;
};

/// The state of one function name in one open store.
class FunctionState {
 public:
  explicit FunctionState(std::string name) : m_name(std::move(name)) {}

  const std::string& name() const noexcept { return m_name; }

  // Counted in memory and written by flush. Hits and saved time share a cache line.
  alignas(64) std::atomic<std::uint64_t> pending_hits{0};
  std::atomic<std::uint64_t> pending_saved_ns{0};
  alignas(64) std::atomic<std::uint64_t> pending_misses{0};
  std::atomic<std::uint64_t> pending_expirations{0};

  // Live totals as of the latest write in this process (persisted with each write).
  std::atomic<std::int64_t> entries{0};
  std::atomic<std::int64_t> bytes{0};

  // This process's calls, for the exit summary.
  std::atomic<std::uint64_t> session_hits{0};
  std::atomic<std::uint64_t> session_misses{0};
  std::atomic<std::uint64_t> session_saved_ns{0};

  FunctionLimits limits() const;
  void set_limits(const FunctionLimits& limits);

 private:
  const std::string m_name;
  mutable std::mutex m_mutex;
  FunctionLimits m_limits;  // guarded by m_mutex
};

/// Changes to live totals that a batch carries; applied in memory once the
/// batch is written.
struct LiveChange {
  FunctionState* function = nullptr;
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
};

class StorePolicy {
 public:
  /// Loads the live counters; starts the flush thread for a writable store.
  StorePolicy(Database& database, StorePolicySettings settings);
  /// Stops the thread, writes what is buffered, prints the exit summary.
  ~StorePolicy();
  StorePolicy(const StorePolicy&) = delete;
  StorePolicy& operator=(const StorePolicy&) = delete;

  /// The state for `name`, created on first use. The address is stable.
  FunctionState& function(std::string_view name);

  std::int64_t now_ms() const { return unix_ms(m_settings.clock->now()); }
  static std::int64_t unix_ms(Clock::time_point when) noexcept;
  const StorePolicySettings& settings() const noexcept { return m_settings; }

  /// The ttl that applies to `function`: its own, else the store's default.
  std::optional<Duration> ttl_for(const FunctionState& function) const;

  // --- The memo path ---

  /// A hit on `key`, whose entry records `compute_ns`.
  void record_hit(FunctionState& function, std::string_view key, std::uint64_t compute_ns, std::int64_t now_ms);
  void record_miss(FunctionState& function) noexcept;
  /// An entry found expired on read (it is replaced by the recomputed one).
  void record_expired_read(FunctionState& function) noexcept;

  /// Adds the bookkeeping of a new entry to `batch` (which puts the entry);
  /// `replaced_size` is the size of the entry it overwrites, if any.
  LiveChange stage_store(Batch& batch, FunctionState& function, std::string_view key, const EntryMeta& meta,
                         std::optional<std::uint64_t> replaced_size, std::uint64_t compute_ns);

  /// Adds the removal of an entry of `size` bytes, its bookkeeping and
  /// counters, to `batch`. `counter` is evictions, expirations or none.
  LiveChange stage_remove(Batch& batch, FunctionState& function, std::string_view key, std::uint64_t size,
                          std::optional<Counter> counter);

  /// Applies written changes to the in-memory totals.
  void apply(const LiveChange& change) noexcept;

  /// After a write: if `function` or the store is over budget, evicts (on
  /// this thread, unless another thread is already evicting).
  void enforce_budgets(FunctionState& function);

  /// The size of the entry `key` according to its info record, if any.
  std::optional<std::uint64_t> stored_size(std::string_view key) const;

  /// Sets a function's (or, with an empty name, every function's) live totals to zero,
  /// in `batch`; for clear.
  std::vector<LiveChange> stage_reset(Batch& batch, std::string_view function);

  /// True if `key` was evicted by this process (remembered only while explaining).
  bool was_evicted(std::string_view key) const;

  // --- Maintenance ---

  /// Writes buffered counters and access times.
  Result<void> flush();
  StoreStats stats();
  Result<CleanupReport> evict();
  Result<CleanupReport> gc();

 private:
  struct AccessShard {
    std::mutex mutex;
    std::unordered_map<std::string, std::int64_t> last_access;  // guarded by mutex
  };
  static constexpr std::size_t k_access_shards = 16;

  void load_counters();
  void run_flush_thread();
  Result<CleanupReport> cleanup(bool collect_garbage, FunctionState* only);
  void remember_evicted(std::string_view key);
  std::uint64_t total_bytes() const noexcept;
  void print_exit_summary();

  Database& m_database;
  const StorePolicySettings m_settings;

  mutable std::mutex m_functions_mutex;
  std::map<std::string, std::unique_ptr<FunctionState>, std::less<>> m_functions;  // guarded by m_functions_mutex

  std::array<AccessShard, k_access_shards> m_access;
  std::mutex m_flush_mutex;     // one flush at a time
  std::mutex m_cleanup_mutex;   // one eviction or gc at a time

  mutable std::mutex m_evicted_mutex;
  std::unordered_set<std::string> m_evicted;  // guarded by m_evicted_mutex; only while explaining

  std::mutex m_thread_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;  // guarded by m_thread_mutex
  std::thread m_thread;
};

}  // namespace memostore::detail
