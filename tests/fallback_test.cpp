// issue 30: read-only fallback caches (StoreOptions::fallback,
// MEMOSTORE_FALLBACK). A store that misses asks other stores' directories,
// read-only, before computing: their hits pass every local check, are
// copied into the store and counted; the fallbacks are never written, work
// while another process holds them or when they cannot be written, and a
// fallback that cannot be opened costs a warning, never the computation.
#include <doctest/doctest.h>

#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <memostore/memostore.hpp>

#include "support/entries.hpp"
#include "support/keys.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::ErrorCode;
using memostore::FunctionStats;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::ChildProcess;
using memostore::test::counting_square;
using memostore::test::LogCapture;
using memostore::test::open_store;
using memostore::test::read_file;
using memostore::test::ScopedEnv;
using memostore::test::square;
using memostore::test::TempDir;

namespace {

constexpr uid_t k_nobody = 65534;

/// Computes square(0..count-1) into the store in `dir` (closed on return).
void fill(const fs::path& dir, int count, std::string secret = {}) {
  int computed = 0;
  Store store = open_store(dir, {.secret = std::move(secret)});
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < count; ++i) {
    (void)memo_square(i);
  }
  REQUIRE(computed == count);
}

/// Every file under `dir` with its bytes: what "never written" compares.
std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), dir).string()] = read_file(entry.path());
    }
  }
  return files;
}

/// How many of square(0..count-1) the store in `dir` computed, with `options`.
int computed_in(const fs::path& dir, int count, StoreOptions options = {}) {
  int computed = 0;
  Store store = open_store(dir, std::move(options));
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < count; ++i) {
    CHECK(memo_square(i) == square(i));
  }
  return computed;
}

FunctionStats square_stats(const Store& store) {
  const auto stats = store.stats();
  REQUIRE(stats.functions.size() == 1);
  return stats.functions[0];
}

/// Sets or clears the write permission of `dir` and everything in it.
void set_writable(const fs::path& dir, bool writable) {
  const auto write = fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write;
  const auto change = writable ? fs::perm_options::add : fs::perm_options::remove;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    fs::permissions(entry.path(), fs::perms::owner_write, change);
  }
  fs::permissions(dir, writable ? fs::perms::owner_write : write, change);
}

}  // namespace

TEST_SUITE_BEGIN("fallback");

TEST_CASE("a fallback's hits are counted and copied into the store, and the fallback is never written") {
  TempDir dir;
  fill(dir / "main", 10);
  const auto before = contents(dir / "main");
  {
    int computed = 0;
    Store store = open_store(dir / "local", {.fallback = {dir / "main"}});
    auto memo_square = counting_square(store, computed);
    for (int i = 0; i < 12; ++i) {
      CHECK(memo_square(i) == square(i));
    }
    CHECK(computed == 2);  // 10 and 11 were not in main
    const FunctionStats s = square_stats(store);
    CHECK(s.fallback_hits == 10);
    CHECK(s.hits == 10);
    CHECK(s.misses == 2);
  }
  CHECK(contents(dir / "main") == before);  // byte for byte, and no file added or removed
  // Counted across restarts, and shown by the tool.
  CHECK(square_stats(open_store(dir / "local")).fallback_hits == 10);
  const auto text = memostore::test::run_tool(dir / "local", {"stats"});
  CHECK(text.out.find("fallback: 10 hits found in fallback directories") != std::string::npos);
  const auto json = memostore::test::run_tool(dir / "local", {"stats", "--json"});
  CHECK(json.out.find("\"fallback_hits\": 10") != std::string::npos);
  // Copied: with the fallback gone, every call hits locally.
  fs::remove_all(dir / "main");
  CHECK(computed_in(dir / "local", 12) == 0);
}

TEST_CASE("a fallback another process holds for writing serves hits") {
  TempDir dir;
  fill(dir / "main", 10);
  ChildProcess holder({memostore::test::child_program(), (dir / "main").string(), "hold"});
  REQUIRE(holder.read_line() == "ready");
  CHECK(computed_in(dir / "local", 10, {.fallback = {dir / "main"}}) == 0);
  holder.write_line("catch-up");
  CHECK(holder.read_line() == "caught-up");  // the holder kept working meanwhile
  holder.close_stdin();
  CHECK(holder.wait() == 0);
}

TEST_CASE("a fallback another process is writing to serves what it wrote before this store opened") {
  TempDir dir;
  fill(dir / "main", 10);
  ChildProcess writer({memostore::test::child_program(), (dir / "main").string(), "squares-from", "100"});
  REQUIRE(memostore::test::next_returned(writer) == 100);  // it holds main for writing now
  REQUIRE(memostore::test::next_returned(writer) == 101);
  int computed = 0;
  {
    Store store = open_store(dir / "local", {.fallback = {dir / "main"}});
    auto memo_square = counting_square(store, computed);
    for (int i = 0; i < 10; ++i) {
      CHECK(memo_square(i) == square(i));
    }
    CHECK(memo_square(100) == square(100));  // in the writer's log, not yet in a table
    CHECK(square_stats(store).fallback_hits == 11);
  }
  CHECK(computed == 0);
  const int next = memostore::test::next_returned(writer);
  CHECK(next > 101);  // the writer kept going throughout
}

TEST_CASE("a fallback that cannot be written serves hits and stays unchanged") {
  TempDir dir;
  fill(dir / "main", 10);
  const auto before = contents(dir / "main");
  set_writable(dir / "main", false);
  const int computed = computed_in(dir / "local", 10, {.fallback = {dir / "main"}});
  CHECK(computed == 0);
  if (::geteuid() == 0) {
    // Root writes whatever the mode bits say: read main as nobody, for whom they hold.
    fs::permissions(dir.path(), fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(dir / "main", fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    fs::create_directory(dir / "nobody");
    REQUIRE(::chown((dir / "nobody").c_str(), k_nobody, k_nobody) == 0);
    const auto run = memostore::test::run_process(
        {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", memostore::test::child_program(),
         (dir / "nobody" / "local").string(), "squares", "10"},
        {{"MEMOSTORE_FALLBACK", (dir / "main").string()}});
    CHECK(run.exit_code == 0);
    CHECK(memostore::test::output_value(run.out, "computed") == "0");
  }
  set_writable(dir / "main", true);
  CHECK(contents(dir / "main") == before);
}

TEST_CASE("a fallback of an older format this build reads serves hits and keeps its format") {
  TempDir dir;
  fill(dir / "main", 10);
  (void)memostore::test::format_record(dir / "main", std::string("2"));
  CHECK(computed_in(dir / "local", 10, {.fallback = {dir / "main"}}) == 0);
  CHECK(memostore::test::format_record(dir / "main") == "2");  // not upgraded: never written
}

TEST_CASE("a tampered fallback entry is not returned") {
  TempDir dir;
  fill(dir / "main", 3);
  {
    Store main = open_store(dir / "main");
    const std::string key = memostore::test::entry_key<std::vector<std::int64_t>, int>("square", 0, 1);
    memostore::test::tamper_entry(main, key, [](std::string& bytes) { bytes[bytes.size() - 9] ^= 0x40; });
  }
  LogCapture log;
  int computed = 0;
  Store store = open_store(dir / "local", {.fallback = {dir / "main"}});
  auto memo_square = counting_square(store, computed);
  CHECK(memo_square(0) == square(0));
  CHECK(memo_square(1) == square(1));
  CHECK(computed == 1);
  CHECK(log.count("in the fallback cache") == 1);
  CHECK(square_stats(store).fallback_hits == 1);
}

TEST_CASE("a fallback entry signed with another secret is rejected; with this store's, it hits") {
  TempDir dir;
  fill(dir / "main", 3, "main's secret");
  {
    LogCapture log;
    int computed = 0;
    Store store = open_store(dir / "other", {.secret = "another secret", .fallback = {dir / "main"}});
    auto memo_square = counting_square(store, computed);
    CHECK(memo_square(1) == square(1));
    CHECK(computed == 1);
    const FunctionStats s = square_stats(store);
    CHECK(s.rejected == 1);
    CHECK(s.fallback_hits == 0);
    CHECK(log.count("no valid signature for this store's secret") == 1);
  }
  CHECK(computed_in(dir / "local", 3, {.secret = "main's secret", .fallback = {dir / "main"}}) == 0);
}

TEST_CASE("a fallback that cannot be opened is one warning naming it, and the store works without it") {
  TempDir dir;
  fill(dir / "main", 3);
  memostore::test::write_file(dir / "garbage" / "notes.txt", "not a store");
  LogCapture log;
  const int computed =
      computed_in(dir / "local", 3, {.fallback = {dir / "missing", dir / "garbage", dir / "local", dir / "main"}});
  CHECK(computed == 0);  // main, after the three left out, still serves
  CHECK_FALSE(fs::exists(dir / "missing"));
  const auto warnings = log.warnings();
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0].find((dir / "missing").string()) != std::string::npos);
  CHECK(warnings[0].find("does not exist") != std::string::npos);
  CHECK(warnings[1].find((dir / "garbage").string()) != std::string::npos);
  CHECK(warnings[1].find("not a memostore store") != std::string::npos);
  CHECK(warnings[2].find("this store's own directory") != std::string::npos);
}

TEST_CASE("MEMOSTORE_FALLBACK lists fallbacks separated by ':' and overrides the field") {
  TempDir dir;
  fill(dir / "main", 3);
  SUBCASE("it overrides the field") {
    const std::string list = (dir / "missing").string() + ":" + (dir / "main").string();
    ScopedEnv env("MEMOSTORE_FALLBACK", list.c_str());
    LogCapture log;
    CHECK(computed_in(dir / "local", 3, {.fallback = {dir / "elsewhere"}}) == 0);
    CHECK(log.count((dir / "missing").string()) == 1);
    CHECK(log.count((dir / "elsewhere").string()) == 0);
  }
  SUBCASE("empty, the field applies") {
    ScopedEnv env("MEMOSTORE_FALLBACK", "");
    CHECK(computed_in(dir / "local", 3, {.fallback = {dir / "main"}}) == 0);
  }
  SUBCASE("a child process reads it") {
    const auto run = memostore::test::run_child(dir / "local", {"squares", "3"},
                                                {{"MEMOSTORE_FALLBACK", (dir / "main").string()}});
    CHECK(run.exit_code == 0);
    CHECK(memostore::test::output_value(run.out, "computed") == "0");
  }
  SUBCASE("an empty directory in the list is a configuration error naming the variable") {
    const std::string list = (dir / "main").string() + "::" + (dir / "other").string();
    ScopedEnv env("MEMOSTORE_FALLBACK", list.c_str());
    const std::string message = memostore::test::error_message([&] { (void)open_store(dir / "local"); },
                                                               ErrorCode::config);
    CHECK(message.find("MEMOSTORE_FALLBACK") != std::string::npos);
    CHECK(message.find("empty directory") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "local"));
  }
}

TEST_SUITE_END();
