// expect: COMPILES
// The supported factory shapes, with options given as designated initializers
// (also under -Wextra -Werror, whatever fields are left out).
#include <chrono>
#include <memory>
#include <string>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>
struct Connection {
  bool alive() const { return true; }
};
void use() {
  auto by_value = memostore::singleton("a", [](const std::string&) { return Connection(); },
                                       {.ttl = std::chrono::minutes(30), .max_entries = 4,
                                        .validate = [](Connection& c) { return c.alive(); }});
  auto owned = memostore::singleton("b", [](int) { return std::make_unique<Connection>(); }, {.max_entries = 2});
  auto shared = memostore::singleton("c", [](int) { return std::make_shared<const Connection>(); });
  std::shared_ptr<Connection> a = by_value("x");
  std::shared_ptr<Connection> b = owned(1);
  std::shared_ptr<const Connection> c = shared(1);
}
