#include "policy/eviction.hpp"

#include <algorithm>
#include <numeric>

namespace memostore::detail {
namespace {

bool over(std::uint64_t value, std::uint64_t limit) { return limit != 0 && value > limit; }

/// `fraction` of a set limit, never below 1 (0 would mean "no limit").
std::uint64_t scaled(std::uint64_t limit, double fraction) {
  if (limit == 0) {
    return 0;
  }
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(limit) * fraction));
}

}  // namespace

std::vector<std::size_t> choose_evictions(std::span<const Candidate> candidates, const Limits& limits,
                                          double keep_fraction) {
  std::uint64_t entries = candidates.size();
  std::uint64_t bytes = 0;
  for (const Candidate& c : candidates) {
    bytes += c.bytes;
  }
  if (!over(entries, limits.max_entries) && !over(bytes, limits.max_bytes)) {
    return {};
  }
  const Limits target{scaled(limits.max_entries, keep_fraction), scaled(limits.max_bytes, keep_fraction)};

  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Candidate& x = candidates[a];
    const Candidate& y = candidates[b];
    if (x.superseded != y.superseded) {
      return x.superseded;
    }
    return x.last_used < y.last_used;
  });

  std::vector<std::size_t> victims;
  for (std::size_t index : order) {
    if (!over(entries, target.max_entries) && !over(bytes, target.max_bytes)) {
      break;
    }
    victims.push_back(index);
    entries -= 1;
    bytes -= candidates[index].bytes;
  }
  return victims;
}

}  // namespace memostore::detail
