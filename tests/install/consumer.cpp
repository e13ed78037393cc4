// An outside program built against an installed memostore with nothing but
// `pkg-config --cflags --libs memostore`.
#include <cstdio>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  int calls = 0;
  auto store = memostore::Store::open(argv[1]);
  auto words = memostore::memo(store, "words", memostore::state_not_keyed([&calls](const std::string& s) {
    ++calls;
    return std::vector<std::string>{s, s + s};
  }));
  const bool same = words("ab") == words("ab");
  std::printf("same=%d calls=%d\n", same ? 1 : 0, calls);
  return same && calls == 1 ? 0 : 1;
}
