// expect: memostore::singleton: the factory returns void
#include <memostore/memostore.hpp>
void use() {
  auto s = memostore::singleton("s", [](int) {});
  (void)s(1);
}
