// expect: the factory returns a reference or raw pointer, so nobody owns the object
#include <memostore/memostore.hpp>
struct Connection {};
void use() {
  auto s = memostore::singleton("s", [](int) { return new Connection(); });
  (void)s(1);
}
