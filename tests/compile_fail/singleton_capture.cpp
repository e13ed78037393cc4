// expect: memostore::singleton: the callable carries state
// A singleton factory capturing its configuration would hand out objects made
// with an old value under the same key.
#include <memostore/memostore.hpp>
#include <string>
struct Connection {
  std::string url;
};
void use(const std::string& url) {
  auto connect = memostore::singleton("db", [url](int pool) { return Connection{url + std::to_string(pool)}; });
  (void)connect;
}
