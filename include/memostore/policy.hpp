// memostore policy vocabulary: the clock that time-to-live is measured
// against, and the sizes and durations users write ("2G", "7d"). Memo entries
// and singletons share it (and the policy code behind it).
// Clocks are safe to read from many threads; ManualClock may be moved while
// others read it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

/// Parses a size: a number of bytes with an optional suffix, k, M, G or T
/// (decimal: 1000^n) or Ki, Mi, Gi or Ti (binary: 1024^n), optionally followed by
/// "B": "500M", "2G", "1.5GiB", "4096". The one parser for MEMOSTORE_MAX_SIZE
/// and the command-line tool. Throws `Error` (config) quoting `text`.
std::uint64_t parse_size(std::string_view text);

/// Parses a duration: one or more numbers each with a unit, ms, s, m, h, d or w:
/// "90s", "7d", "3h12m", "250ms". Throws `Error` (config) quoting `text`.
Duration parse_duration(std::string_view text);

/// A size for people: "0 B", "812 B", "1.2 KiB", "3.4 GiB".
std::string format_size(std::uint64_t bytes);

/// A duration for people: "0s", "850ms", "41m12s", "3h12m", "2d4h".
std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace memostore
