// A separate process for restart, kill and lock tests. It memoizes `square` on
// a store and prints how many times it actually computed.
//
//   memo_child DIR|- squares N          call square(0..N-1); "-" = default_store()
//   memo_child DIR square-then-kill K   call square(K), report, then SIGKILL itself
//   memo_child DIR hold                 open the store, print "ready", wait for stdin EOF;
//                                       for each line read, catch up and print "caught-up"
//   memo_child DIR squares-from B       call square(B), square(B+1), ... printing "returned=i"
//                                       after each call returns, until killed
//   memo_child DIR squares-range B E    call square(B..E-1), printing "returned=i" after each;
//                                       then "computed=" and "wrong=" (wrong values seen)
//   memo_child DIR padded-squares N     with files limited to 256 KiB (RLIMIT_FSIZE): call
//                                       padded(0..N-1), 4 KiB results; print wrong=, computed=
//                                       and warnings= (how many warnings were logged)
//   memo_child DIR fill N [KIB]         call filled(0..N-1), 1 KiB results, until the disk fills
//                                       (with KIB: files limited to KIB KiB by RLIMIT_FSIZE instead);
//                                       print, buffered, "failed-from=" (the call whose store failed
//                                       first, N if none), "computed=", "wrong=", "done"
//   memo_child DIR soak N SEED          4 threads, N operations each on "soaked": calls (hits and
//                                       misses), forgets and clears, each result checked; then
//                                       "calls=" and "wrong="
//   memo_child DIR claimed-square K     call slow_square(K) (share_inflight), which prints
//                                       "computing" and waits for a line on stdin; log lines
//                                       are printed as "log=..."; then "result=" and "computed="
//   memo_child DIR default-square K     the same with default options (Inflight::automatic)
//   memo_child DIR refreshed-square K   call refreshed_square(K) (refresh_after 1 ms, share_inflight),
//                                       which prints "computing" and waits for a line on stdin, from
//                                       a miss or its background refresh; print "served=" after the
//                                       call, wait for the refreshes, print "computed="
//   memo_child DIR forget K             forget square(K), print "forgot"
//   memo_child DIR rounds N             print "ready"; for each line read, call square(0..N-1)
//                                       and print "computed=" (the total so far)
//   memo_child DIR lineage K            "lineage_up"(K) as a Shared, then "lineage_down" of it
//                                       (tests/support/lineage.hpp); print "digest=" (hex), "sum="
//                                       and "computed=" (how many of the two were computed)
//   memo_child - singletons-at-exit     make three singletons and return from main: their
//                                       destructors print at exit, newest first
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "../support/lineage.hpp"

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

std::string padded(int x) {
  ++g_computed;
  return std::to_string(x) + std::string(4096, '.');
}

/// Calls padded(0..n-1) on a store in `dir` whose files may not grow past
/// 256 KiB: the disk "fills up" part way.
int padded_squares_on_a_full_disk(const std::string& dir, int n) {
  std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing us
  const rlimit limit{256 << 10, 256 << 10};
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
    std::perror("setrlimit");
    return 2;
  }
  int warnings = 0;
  memostore::set_log_handler([&](memostore::LogLevel level, std::string_view message) {
    if (level >= memostore::LogLevel::warning) {
      ++warnings;
      std::cerr << message << std::endl;
    }
  });
  {
    memostore::Store store = memostore::Store::open(dir);
    auto memo_padded = memostore::memo(store, "padded", &padded);
    for (int i = 0; i < n; ++i) {
      if (memo_padded(i) != std::to_string(i) + std::string(4096, '.')) {
        std::cout << "wrong=" << i << std::endl;
        return 3;
      }
    }
  }
  std::cout << "computed=" << g_computed << "\nwarnings=" << warnings << std::endl;
  return 0;
}

std::string filled(int x) {
  ++g_computed;
  return std::to_string(x) + std::string(1024, '#');
}

/// Calls filled(0..n-1) on a store on a disk that fills part way (a small
/// file system, or files limited to `limit_kib`). Its output is buffered to
/// the end: an abort at close (RocksDB's assertion after a failed log write)
/// would lose it.
int fill(const std::string& dir, int n, int limit_kib) {
  if (limit_kib > 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing us
    const rlimit limit{static_cast<rlim_t>(limit_kib) << 10, static_cast<rlim_t>(limit_kib) << 10};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      std::perror("setrlimit");
      return 2;
    }
  }
  int current = 0;
  int failed_from = n;
  memostore::set_log_handler([&](memostore::LogLevel level, std::string_view message) {
    if (level >= memostore::LogLevel::warning) {
      failed_from = std::min(failed_from, current);
      std::cerr << message << std::endl;
    }
  });
  int wrong = 0;
  {
    memostore::Store store = memostore::Store::open(dir);
    auto memo_filled = memostore::memo(store, "filled", &filled);
    for (current = 0; current < n; ++current) {
      wrong += memo_filled(current) != std::to_string(current) + std::string(1024, '#') ? 1 : 0;
    }
  }
  std::cout << "failed-from=" << failed_from << "\ncomputed=" << g_computed << "\nwrong=" << wrong << "\ndone\n";
  return 0;
}

/// Mixed load from 4 threads: what the soak test runs in two processes at once.
int soak(const std::string& dir, int operations, int seed) {
  memostore::Store store = memostore::Store::open(dir);
  auto soaked = memostore::memo(store, "soaked", [](int x) { return std::string(static_cast<std::size_t>(x % 97) * 40, 'a' + x % 26); });
  std::atomic<long> calls{0};
  std::atomic<long> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(seed * 16 + t));
      std::uniform_int_distribution<int> key(0, 299);
      std::uniform_int_distribution<int> action(0, 99);
      for (int i = 0; i < operations; ++i) {
        const int x = key(random);
        const int a = action(random);
        if (a < 85) {
          const std::string expected(static_cast<std::size_t>(x % 97) * 40, static_cast<char>('a' + x % 26));
          wrong += soaked(x) != expected ? 1 : 0;
          ++calls;
        } else if (a < 99) {
          soaked.forget(x);
        } else {
          soaked.clear();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::cout << "calls=" << calls << "\nwrong=" << wrong << std::endl;
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
  if (command == "padded-squares") {
    return padded_squares_on_a_full_disk(dir, n);
  }
  if (command == "fill") {
    return fill(dir, n, argc > 4 ? std::stoi(argv[4]) : 0);
  }
  if (command == "soak") {
    return soak(dir, n, argc > 4 ? std::stoi(argv[4]) : 0);
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
    if (command == "squares-range") {
      const int end = argc > 4 ? std::stoi(argv[4]) : n;
      int wrong = 0;
      for (int i = n; i < end; ++i) {
        wrong += memo_square(i) != std::vector<std::int64_t>{i, std::int64_t{i} * i} ? 1 : 0;
        std::cout << "returned=" << i << std::endl;
      }
      std::cout << "computed=" << g_computed << "\nwrong=" << wrong << std::endl;
      return 0;
    }
    if (command == "claimed-square" || command == "default-square") {
      memostore::set_log_handler(
          [](memostore::LogLevel, std::string_view message) { std::cout << "log=" << message << std::endl; });
      auto slow_square = memostore::memo(
          store, "slow_square",
          [](int x) {
            ++g_computed;
            std::cout << "computing" << std::endl;
            std::string line;
            std::getline(std::cin, line);
            return std::int64_t{x} * x;
          },
          command == "claimed-square" ? memostore::MemoOptions{.inflight = memostore::Inflight::shared}
                                      : memostore::MemoOptions{});
      const std::int64_t result = slow_square(n);
      std::cout << "result=" << result << "\ncomputed=" << g_computed << std::endl;
      return 0;
    }
    if (command == "refreshed-square") {
      static std::atomic<int> computed{0};
      auto refreshed_square = memostore::memo(
          store, "refreshed_square",
          [](int x) {
            ++computed;
            std::cout << "computing" << std::endl;
            std::string line;
            std::getline(std::cin, line);
            return std::int64_t{x} * x;
          },
          {.inflight = memostore::Inflight::shared, .refresh_after = std::chrono::milliseconds(1)});
      const std::int64_t served = refreshed_square(n);
      std::cout << "served=" << served << std::endl;
      store.wait_for_refreshes();
      std::cout << "computed=" << computed << std::endl;
      return 0;
    }
    if (command == "lineage") {
      const auto misses_before = store.stats().total.misses;
      const auto up = memostore::test::lineage_up(store).shared(n);
      const double sum = memostore::test::lineage_down(store)(up);
      std::cout << "digest=" << up.digest().hex() << "\nsum=" << sum
                << "\ncomputed=" << store.stats().total.misses - misses_before << std::endl;
      return 0;
    }
    if (command == "forget") {
      memo_square.forget(n);
      std::cout << "forgot" << std::endl;
      return 0;
    }
    if (command == "rounds") {
      std::cout << "ready" << std::endl;
      std::string ignored;
      while (std::getline(std::cin, ignored)) {
        for (int i = 0; i < n; ++i) {
          (void)memo_square(i);
        }
        std::cout << "computed=" << g_computed << std::endl;
      }
      return 0;
    }
    if (command == "hold") {
      std::cout << "ready" << std::endl;
      std::string ignored;
      while (std::getline(std::cin, ignored)) {
        store.catch_up();  // applies what other processes handed over
        std::cout << "caught-up" << std::endl;
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
