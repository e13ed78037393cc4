// expect: memostore::memo: the callable carries state
// A functor with a data member carries state the key cannot see.
#include <memostore/memostore.hpp>
struct Above {
  int threshold = 10;
  bool operator()(int x) const { return x > threshold; }
};
void use(memostore::Store& store) {
  auto above = memostore::memo(store, "above", Above{20});
  (void)above;
}
