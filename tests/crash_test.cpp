// Crash safety: a writing process killed with SIGKILL at random moments,
// again and again on one store, never loses a result whose call returned,
// and never leaves an entry that decodes wrongly.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "support/test_support.hpp"

using memostore::test::ChildProcess;
using memostore::test::TempDir;
using memostore::test::square;

TEST_SUITE_BEGIN("crash");

TEST_CASE("results whose call returned survive SIGKILL at random moments, 50 times over") {
  TempDir dir;
  constexpr int k_kills = 50;
  constexpr int k_keys_per_run = 100'000;  // each run starts on fresh keys
  std::mt19937 random(20261124);
  std::uniform_int_distribution<int> calls_before_kill(1, 300);
  std::vector<int> returned_per_run;
  for (int run = 0; run < k_kills; ++run) {
    const int base = run * k_keys_per_run;
    ChildProcess writer(
        {memostore::test::child_program(), (dir / "store").string(), "squares-from", std::to_string(base)});
    // Read k "returned" lines, then kill: the writer has run on meanwhile, so
    // the kill lands at an arbitrary point of some later call.
    const int wanted = calls_before_kill(random);
    int last_returned = base - 1;
    for (int i = 0; i < wanted; ++i) {
      last_returned = memostore::test::next_returned(writer);
    }
    ::kill(writer.pid(), SIGKILL);
    CHECK(writer.wait() == 128 + SIGKILL);
    returned_per_run.push_back(last_returned);

    // Reopen: every returned result is a hit with the right value.
    memostore::Store store = memostore::Store::open(dir / "store");
    int computed = 0;
    auto memo_square = memostore::test::counting_square(store, computed);
    for (int x = base; x <= last_returned; ++x) {
      REQUIRE(memo_square(x) == square(x));
    }
    INFO("run " << run << ": " << (last_returned - base + 1) << " calls had returned");
    CHECK(computed == 0);
  }
  // Every entry in the store, including those written by calls the kill
  // interrupted, is whole and under the right key.
  memostore::Store store = memostore::Store::open(dir / "store");
  const memostore::VerifyReport report = memostore::verify(store);
  CHECK(report.clean());
  std::uint64_t acknowledged = 0;  // calls that returned, over all runs
  for (std::size_t run = 0; run < returned_per_run.size(); ++run) {
    acknowledged += static_cast<std::uint64_t>(returned_per_run[run] - static_cast<int>(run) * k_keys_per_run + 1);
  }
  CHECK(report.entries_checked >= acknowledged);
  CHECK(memostore::contents(store).entries == report.entries_checked);
}

TEST_SUITE_END();
