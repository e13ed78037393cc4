// expect: memostore::singleton: a memostore::File or memostore::Dir argument is keyed by the file's content
// issue 32: the runtime error used to advise std::filesystem::path, which does not compile either; now
// one compile error that names what works (a std::string path, or memo for the content).
#include <memory>
#include <string>
#include <memostore/memostore.hpp>
struct Config {
  std::string path;
};
void use() {
  auto config = memostore::singleton("config", [](const memostore::File& f) { return Config{f.path().string()}; });
  std::shared_ptr<Config> c = config(memostore::File("app.toml"));
  (void)c;
}
