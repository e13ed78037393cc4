// expect: memostore::memo needs a callable with one fixed signature
// issue 32: this gave four errors, the right one last; now it is the only one, used or not.
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto f = memostore::memo(store, "f", [](auto x) { return x; });
  int y = f(2);
  (void)y;
}
