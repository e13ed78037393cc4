// expect: memostore::memo: an argument is a std::filesystem::path, std::string_view or const char*
// issue 32: a path argument is not its file's content; the advice is std::string or memostore::File,
// not a cereal header that does not exist for it. The handle is used as usual: still one error.
#include <filesystem>
#include <memostore/memostore.hpp>
void use(memostore::Store& store) {
  auto size = memostore::memo(store, "size", [](const std::filesystem::path& p) { return p.string().size(); });
  std::size_t n = size(std::filesystem::path("prices.csv"));
  (void)n;
}
