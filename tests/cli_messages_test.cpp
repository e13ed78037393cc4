// What the memostore tool says when something is wrong (issue 32), through
// the real binary: the exit code and the words, in text and with --json; and
// the small promises around them (no store created by mistake, counts that
// agree with their nouns, exports as private as the store).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <fmt/format.h>
#include <memostore/memostore.hpp>
#include <nlohmann/json.hpp>

#include "support/redis_server.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Store;
using memostore::test::ProcessResult;
using memostore::test::run_tool;
using memostore::test::TempDir;
using Json = nlohmann::json;

namespace {

/// A store with 2 entries of "square" (version 1) and 1 of "greet".
void build_store(const fs::path& dir, std::shared_ptr<const memostore::Clock> clock = nullptr) {
  Store store = Store::open({.dir = dir, .clock = std::move(clock)});
  auto square = memostore::memo(store, "square", [](int x) { return x * x; }, {.version = 1});
  auto greet = memostore::memo(store, "greet", [](const std::string& name) { return "hello " + name; });
  (void)square(1);
  (void)square(2);
  (void)greet("ada");
}

std::uint64_t entries_of(const fs::path& dir) {
  const ProcessResult stats = run_tool(dir, {"stats", "--json"});
  REQUIRE(stats.exit_code == 0);
  return Json::parse(stats.out)["entries"].get<std::uint64_t>();
}

/// Every line of `text` starts with "memostore: ", and there is at least one.
bool every_line_prefixed(const std::string& text) {
  if (text.empty()) {
    return false;
  }
  std::size_t start = 0;
  while (start < text.size()) {
    if (text.compare(start, 11, "memostore: ") != 0) {
      return false;
    }
    const std::size_t end = text.find('\n', start);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return true;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE_BEGIN("cli messages");

TEST_CASE("an unknown command names itself and suggests the nearest one") {
  TempDir dir;
  build_store(dir / "store");
  const ProcessResult typo = run_tool(dir / "store", {"stast"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err == "memostore: unknown command 'stast'; did you mean 'stats'?\n");
  CHECK(typo.out.empty());

  const ProcessResult nested = run_tool(dir / "store", {"remote", "pnig"});
  CHECK(nested.exit_code == 2);
  CHECK(nested.err == "memostore: unknown command 'remote pnig'; did you mean 'remote ping'?\n");

  const ProcessResult far = run_tool(dir / "store", {"frobnicate"});  // nothing near: the list
  CHECK(far.exit_code == 2);
  CHECK(contains(far.err, "memostore: unknown command 'frobnicate'; the commands are stats, ls, show, clear"));

  const ProcessResult none = run_tool(dir / "store", {});
  CHECK(none.exit_code == 2);
  CHECK(contains(none.err, "memostore: no command given; the commands are stats, ls"));
  // The value of --dir is not taken for a command, wherever it stands.
  const std::string store = (dir / "store").string();
  CHECK(memostore::test::run_process({memostore::test::tool(), "--dir", store, "stats"}).exit_code == 0);
  CHECK(memostore::test::run_process({memostore::test::tool(), "--dir", "stats"}).err ==
        "memostore: no command given; the commands are stats, ls, show, clear, remote, gc, compact, verify, repair, "
        "export, import, merge (`memostore --help` describes them)\n");
}

TEST_CASE("argument errors start with memostore: and name the command and the option") {
  TempDir dir;
  build_store(dir / "store");
  const std::map<std::vector<std::string>, std::string> cases{
      {{"gc", "--max-size"}, "memostore: gc: --max-size: 1 required"},                     // missing value
      {{"ls", "--bogus"}, "memostore: ls: The following argument was not expected: --bogus"},  // unknown option
      {{"ls", "--limit", "abc"}, "memostore: ls: Could not convert: --limit = abc"},          // bad number
      {{"gc", "--max-size", "12Q"}, "memostore: "},                                          // memostore's parser
  };
  for (const auto& [args, start] : cases) {
    INFO(args.front() << " " << args.back());
    const ProcessResult result = run_tool(dir / "store", args);
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind(start, 0) == 0);
    CHECK(every_line_prefixed(result.err));
    CHECK(result.out.empty());
  }
}

TEST_CASE("with --json every error is a JSON object on stdout with the exit code") {
  TempDir dir;
  build_store(dir / "store");
  fs::create_directories(dir / "empty");
  struct Case {
    std::string store;
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases{
      {"store", {"stast"}, 2},
      {"store", {"ls", "--limit", "abc"}, 2},
      {"store", {"gc", "--max-size", "12Q"}, 2},
      {"store", {"show", "ffff"}, 1},
      {"store", {"clear", "--function", "nosuchfn"}, 1},
      {"empty", {"stats"}, 3},
  };
  for (auto [store, args, code] : cases) {
    INFO(args.front() << " " << args.back());
    args.push_back("--json");
    const ProcessResult result = run_tool(dir / store, args);
    CHECK(result.exit_code == code);
    CHECK(result.err.empty());
    const Json error = Json::parse(result.out);
    CHECK(error.size() == 2);
    CHECK(error["code"] == code);
    CHECK_FALSE(error["error"].get<std::string>().empty());
  }
}

TEST_CASE("a directory without a store is refused in words, exit 3, and no command creates one there") {
  TempDir dir;
  fs::create_directories(dir / "empty");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"stats"}, {"stats", "--zero"}, {"ls"}, {"clear"}, {"gc"}, {"compact"}, {"verify", "--fix"}, {"repair"},
           {"export", (dir / "out.msx").string()}}) {
    INFO(args.front());
    const ProcessResult refused = run_tool(dir / "empty", args);
    CHECK(refused.exit_code == 3);
    CHECK(refused.err.rfind(fmt::format("memostore: no memostore store in {} (it is empty)", (dir / "empty").string()),
                            0) == 0);
    CHECK_FALSE(contains(refused.err, "IO error"));
    CHECK(fs::is_empty(dir / "empty"));
  }
  CHECK_FALSE(fs::exists(dir / "out.msx"));

  fs::create_directories(dir / "notes");
  std::ofstream(dir / "notes" / "todo.txt") << "mine";
  const ProcessResult other = run_tool(dir / "notes", {"clear"});
  CHECK(other.exit_code == 3);
  CHECK(contains(other.err, "is not a memostore store: it holds other files"));
  CHECK(std::distance(fs::directory_iterator(dir / "notes"), fs::directory_iterator()) == 1);
}

TEST_CASE("clear --function of a function without entries exits 1 and lists the functions the store has") {
  TempDir dir;
  build_store(dir / "store");
  const ProcessResult typo = run_tool(dir / "store", {"clear", "--function", "sqare"});
  CHECK(typo.exit_code == 1);
  CHECK(contains(typo.err, "memostore: sqare has no entries to clear in"));
  CHECK(contains(typo.err, "the functions with entries are: greet, square"));
  const ProcessResult version = run_tool(dir / "store", {"clear", "--function", "square", "--version", "7"});
  CHECK(version.exit_code == 1);
  CHECK(contains(version.err, "square version 7 has no entries to clear"));
  CHECK(contains(version.err, "it has entries of version 1"));
  CHECK(entries_of(dir / "store") == 3);

  const ProcessResult cleared = run_tool(dir / "store", {"clear", "--function", "greet"});
  CHECK(cleared.exit_code == 0);
  CHECK(contains(cleared.out, "cleared greet: 1 entry,"));  // and the plural agrees
  CHECK(entries_of(dir / "store") == 2);
}

TEST_CASE("a failed import leaves no new store behind; a file that is not an export leaves a store unchanged") {
  TempDir dir;
  build_store(dir / "source");
  REQUIRE(run_tool(dir / "source", {"export", (dir / "good.msx").string()}).exit_code == 0);
  std::ofstream(dir / "notes.txt") << "not an export";
  const auto good_size = fs::file_size(dir / "good.msx");
  fs::copy_file(dir / "good.msx", dir / "truncated.msx");
  fs::resize_file(dir / "truncated.msx", good_size - 20);  // the last record cut, the trailer gone

  for (const char* file : {"notes.txt", "truncated.msx"}) {
    INFO(file);
    const ProcessResult missing = run_tool(dir / "new", {"import", (dir / file).string()});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.rfind("memostore: ", 0) == 0);
    CHECK(contains(missing.err, "The import left no store behind"));
    CHECK_FALSE(fs::exists(dir / "new"));

    fs::create_directories(dir / "empty");
    CHECK(run_tool(dir / "empty", {"import", (dir / file).string()}).exit_code == 1);
    CHECK(fs::is_empty(dir / "empty"));
  }
  build_store(dir / "kept");
  CHECK(run_tool(dir / "kept", {"import", (dir / "notes.txt").string()}).exit_code == 1);
  CHECK(entries_of(dir / "kept") == 3);
  const ProcessResult imported = run_tool(dir / "new", {"import", (dir / "good.msx").string()});
  CHECK(imported.exit_code == 0);
  CHECK(entries_of(dir / "new") == 3);
}

TEST_CASE("remote ping needs only the URL, not a local store") {
  TempDir dir;
  memostore::test::RedisServer redis(dir / "redis");
  const ProcessResult ping = run_tool(dir / "nowhere", {"remote", "ping"}, {{"MEMOSTORE_REMOTE", redis.url()}});
  INFO(ping.err);
  CHECK(ping.exit_code == 0);
  CHECK(contains(ping.out, ": Redis "));
  CHECK(contains(ping.out, "round trip"));
  CHECK_FALSE(fs::exists(dir / "nowhere"));

  const ProcessResult unset = run_tool(dir / "nowhere", {"remote", "ping"}, {{"MEMOSTORE_REMOTE", ""}});
  CHECK(unset.exit_code == 2);
  CHECK(contains(unset.err, "memostore: cannot ping the remote tier: none is configured. Set MEMOSTORE_REMOTE"));
}

TEST_CASE("counts agree with their nouns") {
  TempDir dir;
  const auto clock = std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now() + std::chrono::hours(1));
  std::ofstream(dir / "input.txt") << "data";
  {
    Store store = Store::open({.dir = dir / "store", .clock = clock});
    auto load = memostore::memo(store, "load", [](const memostore::File& f) { return f.path().string(); });
    (void)load(memostore::File(dir / "input.txt"));
  }
  fs::remove(dir / "input.txt");
  const ProcessResult verified = run_tool(dir / "store", {"verify"});
  CHECK(verified.out == "checked 1 entry: no problems\n");
  const ProcessResult exported = run_tool(dir / "store", {"export", (dir / "one.msx").string()});
  CHECK(contains(exported.out, ": 1 entry ("));
  const ProcessResult collected = run_tool(dir / "store", {"gc"});
  CHECK(contains(collected.out, "and 1 remembered hash of input files that are gone or changed\n"));
}

TEST_CASE("gc --older-than removals are counted as unused, not as evictions") {
  TempDir dir;
  const auto clock = std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now() - std::chrono::hours(48));
  build_store(dir / "store", clock);
  const ProcessResult collected = run_tool(dir / "store", {"gc", "--older-than", "1d", "--json"});
  REQUIRE(collected.exit_code == 0);
  const Json report = Json::parse(collected.out);
  CHECK(report["unused"]["entries"] == 3);
  CHECK(report["evicted"]["entries"] == 0);
  const Json stats = Json::parse(run_tool(dir / "store", {"stats", "--json"}).out);
  CHECK(stats["entries"] == 0);
  CHECK(stats["evictions"] == 0);
}

TEST_CASE("an export file gets the store's permissions, owner-only by default, from its creation") {
  TempDir dir;
  build_store(dir / "private");
  {
    Store shared = Store::open({.dir = dir / "shared",
                                .directory_permissions = fs::perms::owner_all | fs::perms::group_read |
                                                         fs::perms::group_exec});
    auto square = memostore::memo(shared, "square", [](int x) { return x * x; });
    (void)square(3);
  }
  const mode_t before = ::umask(0);  // what the file is created with shows, not what umask takes away
  const ProcessResult private_export = run_tool(dir / "private", {"export", (dir / "private.msx").string()});
  const ProcessResult shared_export = run_tool(dir / "shared", {"export", (dir / "shared.msx").string()});
  ::umask(before);
  REQUIRE(private_export.exit_code == 0);
  REQUIRE(shared_export.exit_code == 0);
  CHECK((fs::status(dir / "private.msx").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(dir / "shared.msx").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_SUITE_END();
