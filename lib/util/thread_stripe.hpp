// This thread's stripe: threads take numbers in turn the first time they ask,
// so the first `stripes` threads never share a stripe. For per-thread copies
// of a counter or lock, each on its own cache line, that two threads would
// otherwise keep taking from each other.
#pragma once

#include <atomic>
#include <cstddef>

namespace memostore::detail {

inline std::size_t this_thread_stripe(std::size_t stripes) noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t number = next.fetch_add(1, std::memory_order_relaxed);
  return number % stripes;
}

}  // namespace memostore::detail
