// Results outlive the process: real child processes, restarts and SIGKILL.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/test_support.hpp"

using memostore::test::output_value;
using memostore::test::run_process;
using memostore::test::TempDir;

TEST_SUITE_BEGIN("restart");

TEST_CASE("results survive a restart: the second process computes nothing") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  const auto first = memostore::test::run_child(cache, {"squares", "200"});
  REQUIRE(first.exit_code == 0);
  CHECK(output_value(first.out, "computed") == "200");
  const auto second = memostore::test::run_child(cache, {"squares", "250"});
  REQUIRE(second.exit_code == 0);
  CHECK(output_value(second.out, "computed") == "50");
  CHECK(second.err.empty());
}

TEST_CASE("a result whose call returned survives SIGKILL right after") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  for (int k : {3, 4, 5}) {
    const auto killed = memostore::test::run_child(cache, {"square-then-kill", std::to_string(k)});
    CHECK(killed.exit_code == 128 + 9);
    CHECK(output_value(killed.out, "computed") == "1");
  }
  const auto after = memostore::test::run_child(cache, {"squares", "6"});
  REQUIRE(after.exit_code == 0);
  CHECK(output_value(after.out, "computed") == "3");  // 0, 1 and 2; 3, 4 and 5 survived the kills
}

/// The write-ahead logs in a store directory.
int logs_in(const std::string& dir) {
  int logs = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    logs += file.path().extension() == ".log" ? 1 : 0;
  }
  return logs;
}

TEST_CASE("write-ahead logs left for the next open stay few, whether processes close or are killed") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  int most_logs = 0;
  for (int run = 1; run <= 12; ++run) {  // a close leaves its log for the next open, up to 8 of them
    const auto closed = memostore::test::run_child(cache, {"squares", std::to_string(run)});
    REQUIRE(closed.exit_code == 0);
    CHECK(output_value(closed.out, "computed") == "1");
    most_logs = std::max(most_logs, logs_in(cache));
  }
  CHECK(most_logs <= 9);
  for (int k = 100; k < 112; ++k) {  // a killed process never closes: the next open flushes when too many gathered
    const auto killed = memostore::test::run_child(cache, {"square-then-kill", std::to_string(k)});
    CHECK(killed.exit_code == 128 + 9);
    most_logs = std::max(most_logs, logs_in(cache));
  }
  CHECK(most_logs <= 10);
  const auto after = memostore::test::run_child(cache, {"squares", "12"});
  CHECK(output_value(after.out, "computed") == "0");  // every result kept through the replays and flushes
}

TEST_CASE("default_store uses MEMOSTORE_DIR") {
  TempDir dir;
  const std::string cache = (dir / "from-env").string();
  const auto first = memostore::test::run_child("-", {"squares", "10"}, {{"MEMOSTORE_DIR", cache}});
  REQUIRE(first.exit_code == 0);
  CHECK(output_value(first.out, "mode") == "readwrite");
  const auto second = memostore::test::run_child("-", {"squares", "10"}, {{"MEMOSTORE_DIR", cache}});
  CHECK(output_value(second.out, "computed") == "0");
}

TEST_CASE("default_store computes without a cache, with one warning, when its directory is unusable") {
  TempDir dir;
  const std::string file = (dir / "a-file").string();
  run_process({"/bin/sh", "-c", "echo x > " + file});
  const auto result = memostore::test::run_child("-", {"squares", "5"}, {{"MEMOSTORE_DIR", file}});
  CHECK(result.exit_code == 0);
  CHECK(output_value(result.out, "computed") == "5");
  CHECK(output_value(result.out, "mode") == "off");
  CHECK(result.err.find("memostore: warning: default store unusable") != std::string::npos);
  CHECK(result.err.find(file) != std::string::npos);
  CHECK(result.err.find('\n') == result.err.size() - 1);  // exactly one line
}

TEST_CASE("default_store with a bad MEMOSTORE_MODE computes without a cache, with one warning") {
  TempDir dir;
  const auto result = memostore::test::run_child("-", {"squares", "3"},
                                  {{"MEMOSTORE_DIR", (dir / "c").string()}, {"MEMOSTORE_MODE", "bogus"}});
  CHECK(result.exit_code == 0);
  CHECK(output_value(result.out, "computed") == "3");
  CHECK(result.err.find("valid modes are readwrite, readonly, refresh, off and check") != std::string::npos);
}

TEST_SUITE_END();
