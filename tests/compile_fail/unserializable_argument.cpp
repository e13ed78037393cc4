// expect: an argument type cannot be part of the key
#include <memostore/memostore.hpp>
struct Connection {
  int fd = 0;
};
void use(memostore::Store& store, Connection& c) {
  auto f = memostore::memo(store, "f", [](Connection& conn) { return conn.fd; });
  f(c);
}
