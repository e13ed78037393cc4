// expect: one fixed signature
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto f = memostore::memo(store, "f", [](auto x) { return x; });
}
