// Choosing what to evict under a budget: least recently used first, and
// anything superseded (an old version of a function) before everything else.
// Memo's store and per-function budgets and the singleton tables all use it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace memostore::detail {

/// A budget; 0 means no limit on that dimension.
struct Limits {
  std::uint64_t max_entries = 0;
  std::uint64_t max_bytes = 0;
};

/// One evictable thing. `last_used` orders by recency: smaller is older.
struct Candidate {
  std::uint64_t last_used = 0;
  std::uint64_t bytes = 0;
  bool superseded = false;
};

/// Indices into `candidates` of what to evict, in eviction order, so that the
/// rest fit `limits`. Nothing is chosen while everything fits. Once over a
/// limit, eviction goes on until the rest fit `keep_fraction` of it (1.0:
/// just enough; about 0.9 leaves room so the next writes do not evict again).
/// Costs O(n log n) in the candidates.
std::vector<std::size_t> choose_evictions(std::span<const Candidate> candidates, const Limits& limits,
                                          double keep_fraction);

}  // namespace memostore::detail
