// expect: the result type cannot be stored
#include <memostore/memostore.hpp>
struct Opaque {
  int value = 0;
};
void use(memostore::Store& store) {
  auto f = memostore::memo(store, "f", [](int x) { return Opaque{x}; });
  f(1);
}
