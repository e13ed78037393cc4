// Check mode and changed layouts (issue 25): what the key cannot see is found.
// Mode::check and StoreOptions::check_rate compare a stored result with a
// fresh computation; a stored result whose type kept its name but changed its
// fields is explained as a changed layout. The swapped-struct case runs as
// separate processes built from two versions of the struct, with the real tool.
#include <doctest/doctest.h>

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>
#include <memostore/memostore.hpp>

#include "support/test_support.hpp"

using memostore::test::LogCapture;
using memostore::test::TempDir;
using memostore::test::run_process;

namespace {

const memostore::FunctionStats& function_stats(const memostore::StoreStats& stats, const std::string& name) {
  for (const auto& f : stats.functions) {
    if (f.name == name) return f;
  }
  FAIL("no statistics for " << name);
  return stats.total;
}

/// The `stats --json` row of `name`, from the real tool.
nlohmann::json tool_stats(const std::filesystem::path& dir, const std::string& name) {
  const auto result = memostore::test::run_tool(dir, {"--json", "stats"});
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const nlohmann::json stats = nlohmann::json::parse(result.out);
  for (const auto& row : stats["functions"]) {
    if (row["name"] == name) return row;
  }
  FAIL("stats --json has no row for " << name << ": " << result.out);
  return {};
}

}  // namespace

TEST_SUITE_BEGIN("check");

TEST_CASE("check mode returns the fresh result, reports a stale entry once and replaces it") {
  TempDir dir;
  std::atomic<int> generation = 1;
  std::atomic<int> calls = 0;
  auto make = [&](memostore::Store& store) {
    return memostore::memo(store, "f", memostore::state_not_keyed([&](int x) {
                             ++calls;
                             return x * 10 + generation;  // not deterministic: what check mode finds
                           }));
  };
  {
    memostore::Store store = memostore::Store::open(dir / "cache");
    auto f = make(store);
    CHECK(f(1) == 11);
    CHECK(f(2) == 21);
  }
  generation = 2;  // the function's answer changed without a version bump
  LogCapture log;
  std::vector<std::string> errors;
  memostore::set_log_handler([&](memostore::LogLevel level, std::string_view message) {
    if (level == memostore::LogLevel::error) errors.emplace_back(message);
  });
  {
    memostore::Store store = memostore::Store::open({.dir = dir / "cache", .mode = memostore::Mode::check});
    auto f = make(store);
    calls = 0;
    CHECK(f(1) == 12);  // the fresh result, not the stored 11
    CHECK(calls == 1);
    CHECK(f(3) == 32);  // a miss is computed and stored as in readwrite
    const auto stats = function_stats(store.stats(), "f");
    CHECK(stats.checked == 1);
    CHECK(stats.stale == 1);
  }
  memostore::set_log_handler(memostore::log_to_stderr);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("stale entry of f (version 0)") != std::string::npos);
  CHECK(errors[0].find("first difference at byte 0") != std::string::npos);
  CHECK(errors[0].find("bump `version`") != std::string::npos);
  CHECK(errors[0].find("not deterministic") != std::string::npos);
  {
    memostore::Store store = memostore::Store::open(dir / "cache");
    auto f = make(store);
    calls = 0;
    CHECK(f(1) == 12);  // the entry was replaced
    CHECK(f(3) == 32);  // and the miss stored
    CHECK(calls == 0);
    CHECK(function_stats(store.stats(), "f").stale == 1);  // kept across restarts
  }
}

TEST_CASE("check mode on an unchanged function reports nothing and counts the check") {
  TempDir dir;
  auto square = [](int x) { return x * x; };
  {
    memostore::Store store = memostore::Store::open(dir / "cache");
    CHECK(memostore::memo(store, "square", square)(7) == 49);
  }
  LogCapture log;
  memostore::Store store = memostore::Store::open({.dir = dir / "cache", .mode = memostore::Mode::check});
  CHECK(memostore::memo(store, "square", square)(7) == 49);
  const auto stats = function_stats(store.stats(), "square");
  CHECK(stats.checked == 1);
  CHECK(stats.stale == 0);
  CHECK(log.warnings().empty());
}

TEST_CASE("check_rate samples hits in readwrite mode: 1 checks every hit, 0 none") {
  TempDir dir;
  std::atomic<int> calls = 0;
  std::atomic<int> offset = 0;
  auto fn = memostore::state_not_keyed([&](int x) {
    ++calls;
    return x + offset;
  });
  {
    memostore::Store store = memostore::Store::open({.dir = dir / "cache", .check_rate = 0});
    auto f = memostore::memo(store, "f", fn);
    CHECK(f(1) == 1);
    offset = 5;
    CHECK(f(1) == 1);  // never checked: the stored (stale) result
    CHECK(calls == 1);
  }
  {
    memostore::test::ScopedEnv rate("MEMOSTORE_CHECK_RATE", "1");
    memostore::Store store = memostore::Store::open(dir / "cache");
    auto f = memostore::memo(store, "f", fn);
    CHECK(f(1) == 6);  // checked: computed, found stale, replaced
    CHECK(f(1) == 6);  // checked again: equal now
    CHECK(calls == 3);
    const auto stats = function_stats(store.stats(), "f");
    CHECK(stats.checked == 2);
    CHECK(stats.stale == 1);
  }
}

TEST_CASE("a bad check rate is a configuration error naming where it came from") {
  TempDir dir;
  {
    memostore::test::ScopedEnv rate("MEMOSTORE_CHECK_RATE", "often");
    const std::string message =
        memostore::test::error_message([&] { (void)memostore::Store::open(dir / "a"); }, memostore::ErrorCode::config);
    CHECK(message.find("MEMOSTORE_CHECK_RATE") != std::string::npos);
  }
  const std::string message = memostore::test::error_message(
      [&] { (void)memostore::Store::open({.dir = dir / "b", .check_rate = 2}); }, memostore::ErrorCode::config);
  CHECK(message.find("check_rate") != std::string::npos);
  CHECK(memostore::parse_mode("check") == memostore::Mode::check);
}

TEST_CASE("issue 25: swapped fields are found by check mode, an added field is a changed layout (processes)") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  const std::string v1 = memostore::test::program_from_environment("MEMOSTORE_LAYOUT_CHILD_1");
  const std::string v2 = memostore::test::program_from_environment("MEMOSTORE_LAYOUT_CHILD_2");
  const std::string v3 = memostore::test::program_from_environment("MEMOSTORE_LAYOUT_CHILD_3");

  auto first = run_process({v1, cache});
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  CHECK(first.out == "computed=1 mean=11 stddev=2\n");

  // The struct's fields swapped in serialize, no version bump: the stale
  // result the issue reports, served without a word.
  auto swapped = run_process({v2, cache});
  CHECK(swapped.out == "computed=0 mean=2 stddev=11\n");

  // A nightly check run finds it, returns the truth, exits normally and
  // replaces the entry.
  auto checked = run_process({v2, cache}, {{"MEMOSTORE_MODE", "check"}});
  CHECK(checked.exit_code == 0);
  CHECK(checked.out == "computed=1 mean=11 stddev=2\n");
  CHECK(checked.err.find("stale entry of summary (version 0)") != std::string::npos);
  CHECK(checked.err.find("bump `version`") != std::string::npos);
  const auto row = tool_stats(dir / "cache", "summary");
  CHECK(row["stale"] == 1);
  CHECK(row["checked"] == 1);
  const auto text = memostore::test::run_tool(cache, {"stats"});
  CHECK(text.out.find("1 stale (summary 1)") != std::string::npos);

  auto after = run_process({v2, cache});
  CHECK(after.out == "computed=0 mean=11 stddev=2\n");

  // A field added: the entry no longer decodes. Explained as a changed
  // layout with the advice to bump the version, not blamed on damage.
  auto added = run_process({v3, cache});
  CHECK(added.exit_code == 0);
  CHECK(added.out == "computed=1 mean=11 stddev=2\n");
  CHECK(added.err.find("does not fit the current result type") != std::string::npos);
  CHECK(added.err.find("Bump `version`") != std::string::npos);
  CHECK(added.err.find("damaged") == std::string::npos);
  CHECK(tool_stats(dir / "cache", "summary")["changed_layout"] == 1);
}

TEST_SUITE_END();
