// expect: the function returns void
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto f = memostore::memo(store, "f", [](int) {});
  f(1);
}
