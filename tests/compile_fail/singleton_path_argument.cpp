// expect: memostore::singleton: an argument is a std::filesystem::path, std::string_view or const char*
#include <string>
#include <string_view>
#include <memostore/memostore.hpp>
struct Connection {
  std::string url;
};
void use() {
  auto connect = memostore::singleton("db", [](std::string_view url) { return Connection{std::string(url)}; });
  (void)connect("postgres://db");
}
