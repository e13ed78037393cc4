// memostore policy vocabulary: the clock that time-to-live is measured
// against. Memo entries and singletons share it (and the policy code behind it).
// Clocks are safe to read from many threads; ManualClock may be moved while
// others read it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace memostore {

/// How long an entry or object lives. Any coarser std::chrono duration
/// (seconds, minutes, hours) converts to it implicitly.
using Duration = std::chrono::milliseconds;

/// The wall clock, as a seam: pass a `ManualClock` to test expiry without
/// sleeping. `now()` is called on hits of anything that has a ttl, so it must
/// be cheap and thread-safe.
class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point now() const noexcept = 0;
};

/// The process's wall clock (std::chrono::system_clock). Never null.
std::shared_ptr<const Clock> system_clock();

/// A clock that moves only when told to. Starts at `start` (default: the Unix epoch plus one day).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point(std::chrono::hours(24)))
      : m_now_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}

  time_point now() const noexcept override {
    return time_point(std::chrono::duration_cast<time_point::duration>(
        std::chrono::nanoseconds(m_now_ns.load(std::memory_order_acquire))));
  }

  /// Moves the clock forward (or back, for a negative `step`).
  void advance(std::chrono::nanoseconds step) noexcept { m_now_ns.fetch_add(step.count(), std::memory_order_acq_rel); }

  void set(time_point when) noexcept {
    m_now_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count(),
                   std::memory_order_release);
  }

 private:
  std::atomic<std::int64_t> m_now_ns;
};

}  // namespace memostore
