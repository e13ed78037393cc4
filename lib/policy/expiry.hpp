// Time-to-live arithmetic, in Unix milliseconds: the one definition of
// "expired" that memo entries (on disk) and singletons (in memory) share.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <memostore/policy.hpp>

namespace memostore::detail {

/// Milliseconds since the Unix epoch.
inline std::int64_t unix_ms(Clock::time_point when) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

/// The moment something created at `created_ms` with `ttl` expires, in Unix
/// milliseconds; 0 (never) without a ttl. A ttl of zero or less expires at once.
inline std::int64_t deadline_ms(std::int64_t created_ms, std::optional<Duration> ttl) noexcept {
  if (!ttl) {
    return 0;
  }
  const std::int64_t deadline = created_ms + std::max<std::int64_t>(ttl->count(), 0);
  return deadline == 0 ? 1 : deadline;  // 0 means never
}

/// True once `now_ms` has reached a deadline; a deadline of 0 never expires.
inline bool expired(std::int64_t deadline_ms, std::int64_t now_ms) noexcept {
  return deadline_ms != 0 && now_ms >= deadline_ms;
}

}  // namespace memostore::detail
