#include "policy/function_state.hpp"

#include <algorithm>

#include "util/thread_stripe.hpp"

namespace memostore::detail {

void FunctionState::count_hit(std::uint64_t saved_ns) noexcept {
  HitStripe& stripe = m_pending_hits[this_thread_stripe(k_hit_stripes)];
  stripe.hits.fetch_add(1, std::memory_order_relaxed);
  stripe.saved_ns.fetch_add(saved_ns, std::memory_order_relaxed);
}

FunctionState::HitCount FunctionState::pending_hits() const noexcept {
  HitCount count;
  for (const HitStripe& stripe : m_pending_hits) {
    count.hits += stripe.hits.load(std::memory_order_relaxed);
    count.saved_ns += stripe.saved_ns.load(std::memory_order_relaxed);
  }
  return count;
}

FunctionState::HitCount FunctionState::take_pending_hits() noexcept {
  HitCount count;
  for (HitStripe& stripe : m_pending_hits) {
    count.hits += stripe.hits.exchange(0, std::memory_order_relaxed);
    count.saved_ns += stripe.saved_ns.exchange(0, std::memory_order_relaxed);
  }
  m_taken_hits.fetch_add(count.hits, std::memory_order_relaxed);
  m_taken_saved_ns.fetch_add(count.saved_ns, std::memory_order_relaxed);
  return count;
}

FunctionState::HitCount FunctionState::session_hits() const noexcept {
  HitCount count = pending_hits();
  count.hits += m_taken_hits.load(std::memory_order_relaxed);
  count.saved_ns += m_taken_saved_ns.load(std::memory_order_relaxed);
  return count;
}

std::optional<Duration> FunctionState::ttl() const noexcept {
  const Duration::rep ms = m_ttl_ms.load(std::memory_order_relaxed);
  return ms < 0 ? std::nullopt : std::optional<Duration>(Duration(ms));
}

FunctionLimits FunctionState::limits() const noexcept {
  return FunctionLimits{ttl(), m_max_entries.load(std::memory_order_relaxed),
                        m_max_bytes.load(std::memory_order_relaxed)};
}

void FunctionState::set_limits(const FunctionLimits& limits) noexcept {
  // A negative ttl expires at once, like a zero one (deadline_ms); -1 means none.
  m_ttl_ms.store(limits.ttl ? std::max<Duration::rep>(limits.ttl->count(), 0) : -1, std::memory_order_relaxed);
  m_max_entries.store(limits.max_entries, std::memory_order_relaxed);
  m_max_bytes.store(limits.max_bytes, std::memory_order_relaxed);
}

}  // namespace memostore::detail
