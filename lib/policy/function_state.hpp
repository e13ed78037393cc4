// FunctionState: one function name's counters and limits in an open store.
// Counters change on every call from many threads, so they are atomics (the
// hit counters striped per thread); the policy's flush writes what they hold.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <memostore/policy.hpp>

namespace memostore::detail {

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

  /// Hits and the compute time they saved.
  struct HitCount {
    std::uint64_t hits = 0;
    std::uint64_t saved_ns = 0;
  };

  /// Counts a hit on an entry that took `saved_ns` to compute. Lock-free, and
  /// threads mostly write different cache lines (see HitStripe).
  void count_hit(std::uint64_t saved_ns) noexcept;
  /// Hits not yet written by a flush.
  HitCount pending_hits() const noexcept;
  /// Hits not yet written, reset to zero: what a flush writes (or a zeroing drops).
  HitCount take_pending_hits() noexcept;
  /// This process's hits, for the exit summary: those taken so far and those pending.
  HitCount session_hits() const noexcept;

  // Counted in memory and written by flush.
  alignas(64) std::atomic<std::uint64_t> pending_misses{0};
  std::atomic<std::uint64_t> pending_expirations{0};
  std::atomic<std::uint64_t> pending_rejected{0};
  std::atomic<std::uint64_t> pending_checked{0};         // stored results compared with a fresh computation
  std::atomic<std::uint64_t> pending_stale{0};           // ... that differed
  std::atomic<std::uint64_t> pending_changed_layout{0};  // entries that no longer decode as the result type
  std::atomic<std::uint64_t> pending_fallback_hits{0};   // hits found in a fallback directory (also in hits)
  std::atomic<std::uint64_t> pending_refreshes{0};        // results recomputed by a refresh (MemoOptions::refresh_after)
  std::atomic<std::uint64_t> pending_refresh_failures{0}; // background refreshes that threw
  std::atomic<std::uint64_t> pending_evictions{0};
  std::atomic<std::uint64_t> pending_stores{0};
  std::atomic<std::uint64_t> pending_compute_ns{0};
  std::atomic<std::int64_t> pending_entries{0};
  std::atomic<std::int64_t> pending_bytes{0};

  // Live totals in this process: what was loaded plus every change since.
  std::atomic<std::int64_t> entries{0};
  std::atomic<std::int64_t> bytes{0};

  // How long this function's latest computation in this process took (with
  // encoding): whether a miss is worth a claim (Inflight::automatic).
  // k_no_computation_yet until one was made.
  static constexpr std::uint64_t k_no_computation_yet = ~std::uint64_t{0};
  std::atomic<std::uint64_t> latest_compute_ns{k_no_computation_yet};
  // This process's misses, for the exit summary.
  std::atomic<std::uint64_t> session_misses{0};

  /// Read on every hit (the ttl) and after every store: lock-free.
  FunctionLimits limits() const noexcept;
  std::optional<Duration> ttl() const noexcept;
  void set_limits(const FunctionLimits& limits) noexcept;

 private:
  // Hit counters, one stripe per cache line, a thread always on the same
  // stripe: two threads hitting one function through one line of counters
  // made W5 scale 0.8-1.5 x instead of about 1.9 x.
  struct alignas(64) HitStripe {
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> saved_ns{0};
  };
  static constexpr std::size_t k_hit_stripes = 8;
  HitStripe m_pending_hits[k_hit_stripes];
  std::atomic<std::uint64_t> m_taken_hits{0};  // by take_pending_hits, for session_hits
  std::atomic<std::uint64_t> m_taken_saved_ns{0};

  const std::string m_name;
  std::atomic<Duration::rep> m_ttl_ms{-1};  // -1: none
  std::atomic<std::uint64_t> m_max_entries{0};
  std::atomic<std::uint64_t> m_max_bytes{0};
};

}  // namespace memostore::detail
