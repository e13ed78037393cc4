// The two-step pipeline the lineage tests memoize, in the test and in
// memo_child (same names, types and values, so both read and write the same
// entries): "lineage_up" makes K numbers, "lineage_down" sums a Shared of them.
#pragma once

#include <cstddef>
#include <vector>

#include <cereal/types/vector.hpp>
#include <memostore/memo.hpp>
#include <memostore/shared.hpp>
#include <memostore/store.hpp>

namespace memostore::test {

inline std::vector<double> lineage_values(int k) {
  std::vector<double> values(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<double>(i) * 0.5;
  }
  return values;
}

inline double lineage_sum(const Shared<std::vector<double>>& values) {
  double sum = 0;
  for (double v : *values) {
    sum += v;
  }
  return sum;
}

inline auto lineage_up(const Store& store) { return memo(store, "lineage_up", &lineage_values); }
inline auto lineage_down(const Store& store) { return memo(store, "lineage_down", &lineage_sum); }

}  // namespace memostore::test
