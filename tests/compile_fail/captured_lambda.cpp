// expect: memostore::memo: the callable carries state
// issue 25: a captured threshold is not in the key, so changing it returned
// the first run's answer. Memoizing a capturing lambda must not compile.
#include <memostore/memostore.hpp>
void use(memostore::Store& store, int threshold) {
  auto above = memostore::memo(store, "above", [threshold](int x) { return x > threshold; });
  (void)above;
}
