// A separate process for restart, kill and lock tests. It memoizes `square` on
// a store and prints how many times it actually computed.
//
//   memo_child DIR|- squares N          call square(0..N-1); "-" = default_store()
//   memo_child DIR square-then-kill K   call square(K), report, then SIGKILL itself
//   memo_child DIR hold                 open the store, print "ready", wait for stdin EOF
//   memo_child DIR squares-from B       call square(B), square(B+1), ... printing "returned=i"
//                                       after each call returns, until killed
//   memo_child - singletons-at-exit     make three singletons and return from main: their
//                                       destructors print at exit, newest first
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

namespace {

int g_computed = 0;

struct SaysGoodbye {
  std::string name;
  explicit SaysGoodbye(std::string name) : name(std::move(name)) {}
  SaysGoodbye(const SaysGoodbye&) = delete;
  ~SaysGoodbye() { std::cout << "destroyed " << name << std::endl; }
};

int singletons_at_exit() {
  auto make = memostore::singleton("goodbye", [](const std::string& name) { return std::make_unique<SaysGoodbye>(name); });
  auto other = memostore::singleton("other", [](const std::string& name) { return std::make_shared<SaysGoodbye>(name); });
  (void)make("first");
  (void)other("second");
  (void)make("third");
  std::cout << "main returns" << std::endl;
  return 0;
}

std::vector<std::int64_t> square(int x) {
  ++g_computed;
  return {x, std::int64_t{x} * x};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: memo_child DIR|- COMMAND [N]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::string command = argv[2];
  const int n = argc > 3 ? std::stoi(argv[3]) : 0;
  if (command == "singletons-at-exit") {
    return singletons_at_exit();
  }
  try {
    memostore::Store store = dir == "-" ? memostore::default_store() : memostore::Store::open(dir);
    auto memo_square = memostore::memo(store, "square", &square);
    if (command == "squares") {
      for (int i = 0; i < n; ++i) {
        const auto v = memo_square(i);
        if (v != std::vector<std::int64_t>{i, std::int64_t{i} * i}) {
          std::cout << "wrong=" << i << std::endl;
          return 3;
        }
      }
      std::cout << "computed=" << g_computed << "\nmode=" << memostore::to_string(store.mode()) << std::endl;
      return 0;
    }
    if (command == "square-then-kill") {
      memo_square(n);
      std::cout << "computed=" << g_computed << std::endl;
      std::raise(SIGKILL);
    }
    if (command == "squares-from") {
      for (int i = n;; ++i) {
        (void)memo_square(i);
        std::cout << "returned=" << i << std::endl;
      }
    }
    if (command == "hold") {
      std::cout << "ready" << std::endl;
      std::string ignored;
      while (std::getline(std::cin, ignored)) {
      }
      return 0;
    }
  } catch (const memostore::Error& e) {
    std::cout << "error=" << memostore::to_string(e.code()) << "\nmessage=" << e.what() << std::endl;
    return 1;
  }
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
