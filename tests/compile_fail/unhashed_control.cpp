// expect: COMPILES
// The control case: the same unserializable argument wrapped as Unhashed is fine,
// so the failures above fail for the reason they name.
#include <memostore/memostore.hpp>
struct Connection {
  int fd = 0;
};
void use(memostore::Store& store, Connection& c) {
  auto f = memostore::memo(store, "f", [](memostore::Unhashed<Connection&> conn, int x) { return conn->fd + x; });
  f(c, 1);
}
