// expect: memostore::memo: an argument is a std::filesystem::path, std::string_view or const char*
// issue 32: a view refers to text held elsewhere; the advice is std::string.
#include <string_view>
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto length = memostore::memo(store, "length", [](std::string_view text) { return text.size(); });
  if (length("abc") == 3u) {
    length.forget("abc");
  }
}
