// expect: memostore::memo: an argument is a std::filesystem::path, std::string_view or const char*
// issue 32: a pointer is not its text; the advice is std::string.
#include <string>
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto greet = memostore::memo(store, "greet", [](const char* name) { return std::string("hello ") + name; });
  std::string text = greet("ada");
  (void)text;
}
