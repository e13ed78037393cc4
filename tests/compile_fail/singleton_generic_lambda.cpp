// expect: memostore::singleton needs a factory with one fixed signature
#include <string>
#include <memostore/memostore.hpp>
void use() {
  auto make = memostore::singleton("s", [](auto n) { return std::string(n, 'x'); });
  (void)make(3);
}
