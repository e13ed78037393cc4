// The counted function tests memoize: memo_child's `square` (same name, types
// and values, so a test and a child process read and write the same entries),
// with a count of its computations.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <cereal/types/vector.hpp>
#include <memostore/callable.hpp>
#include <memostore/memo.hpp>
#include <memostore/store.hpp>

namespace memostore::test {

/// The function tests/helpers/memo_child.cpp memoizes as "square".
inline std::vector<std::int64_t> square(int x) { return {x, std::int64_t{x} * x}; }

/// `square` memoized as "square" in `store`, adding one to `computed` per
/// computation (a hit leaves it alone).
inline auto counting_square(const Store& store, int& computed, MemoOptions options = {}) {
  return memo(
      store, "square",
      state_not_keyed([&computed](int x) {
        ++computed;
        return square(x);
      }),
      std::move(options));
}

}  // namespace memostore::test
