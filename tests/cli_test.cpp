// The memostore tool as users run it: the real binary on real stores built
// here, checking output (tables and JSON), exit codes (0 ok, 1 problems,
// 2 usage, 3 store unavailable) and what each command changes.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <fmt/format.h>
#include <memostore/memostore.hpp>
#include <nlohmann/json.hpp>

#include "support/entries.hpp"
#include "support/test_support.hpp"

using memostore::Store;
using memostore::test::ProcessResult;
using memostore::test::TempDir;
using Json = nlohmann::json;

using memostore::test::run_tool;
using memostore::test::tool;

namespace {

/// Runs the command with --json; requires exit code `expected_exit` and parses stdout.
Json run_json(const std::filesystem::path& dir, std::vector<std::string> args, int expected_exit = 0) {
  args.push_back("--json");
  const ProcessResult result = run_tool(dir, args);
  INFO("stderr: " << result.err);
  REQUIRE(result.exit_code == expected_exit);
  return Json::parse(result.out);
}

/// A store with `squares` entries of "square" (version 1) and `names` of
/// "greet" (version 0), each value `value_bytes` long, plus one hit on square(0).
void build_store(const std::filesystem::path& dir, int squares = 10, int names = 3, std::size_t value_bytes = 10) {
  Store store = Store::open(dir);
  auto square = memostore::memo(
      store, "square", memostore::state_not_keyed([&](int x) { return std::string(value_bytes, 'a') + std::to_string(x * x); }), {.version = 1});
  auto greet =
      memostore::memo(store, "greet", memostore::state_not_keyed([&](const std::string& name) { return std::string(value_bytes, 'b') + name; }));
  for (int i = 0; i < squares; ++i) {
    (void)square(i);
  }
  for (int i = 0; i < names; ++i) {
    (void)greet("name" + std::to_string(i));
  }
  (void)square(0);
}

Json function_row(const Json& stats, const std::string& name) {
  for (const Json& row : stats["functions"]) {
    if (row["name"] == name) {
      return row;
    }
  }
  return Json();
}

}  // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("--help works for the tool and for every command") {
  TempDir dir;
  const ProcessResult top = run_tool(dir.path(), {"--help"});
  CHECK(top.exit_code == 0);
  for (const char* command :
       {"stats", "ls", "show", "clear", "gc", "compact", "verify", "repair", "export", "import", "merge"}) {
    CHECK(top.out.find(command) != std::string::npos);
    const ProcessResult help = run_tool(dir.path(), {command, "--help"});
    INFO(command);
    CHECK(help.exit_code == 0);
    CHECK(help.out.find(std::string("Usage:")) != std::string::npos);
  }
  CHECK(top.out.find("Exit codes") != std::string::npos);
}

TEST_CASE("stats prints a table and the same numbers as JSON") {
  TempDir dir;
  build_store(dir / "store");
  const ProcessResult table = run_tool(dir / "store", {"stats"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("13 entries") != std::string::npos);
  CHECK(table.out.find("1 hit, 13 misses") != std::string::npos);
  CHECK(table.out.find("function") != std::string::npos);
  CHECK(table.out.find("square") != std::string::npos);
  CHECK(table.err.empty());

  const Json stats = run_json(dir / "store", {"stats"});
  CHECK(stats["entries"] == 13);
  CHECK(stats["hits"] == 1);
  CHECK(stats["misses"] == 13);
  CHECK(stats["disk_bytes"].get<std::uint64_t>() > stats["bytes"].get<std::uint64_t>());
  const Json square = function_row(stats, "square");
  CHECK(square["entries"] == 10);
  CHECK(square["versions"] == Json::array({1}));
  CHECK(square["hits"] == 1);
  CHECK(square["oldest_ms"].is_number());
  CHECK(function_row(stats, "greet")["entries"] == 3);

  // --zero resets the counters, not the contents.
  CHECK(run_tool(dir / "store", {"stats", "--zero"}).exit_code == 0);
  const Json zeroed = run_json(dir / "store", {"stats"});
  CHECK(zeroed["hits"] == 0);
  CHECK(zeroed["misses"] == 0);
  CHECK(zeroed["entries"] == 13);
}

TEST_CASE("stats and ls count the hits of processes that only hit, which wait for the next writer") {
  TempDir dir;
  build_store(dir / "store");
  {
    Store store = Store::open(dir / "store");  // only hits: hands its bookkeeping over at close
    auto square = memostore::memo(
        store, "square", [](int x) -> std::string { FAIL("computed ", x); return {}; }, {.version = 1});
    (void)square(0);
    (void)square(1);
  }
  const Json stats = run_json(dir / "store", {"stats"});
  CHECK(stats["hits"] == 3);
  const Json squares = run_json(dir / "store", {"ls", "--function", "square", "--sort", "hits", "--limit", "1"});
  REQUIRE(squares["entries"].size() == 1);
  CHECK(squares["entries"][0]["hits"] == 2);  // square(0): once in build_store, once above
}

TEST_CASE("ls lists entries, filters by function, sorts and limits") {
  TempDir dir;
  build_store(dir / "store");
  const ProcessResult table = run_tool(dir / "store", {"ls"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.rfind("function", 0) == 0);  // the header comes first
  CHECK(std::count(table.out.begin(), table.out.end(), '\n') == 14);

  const Json all = run_json(dir / "store", {"ls"});
  REQUIRE(all["entries"].size() == 13);
  const Json squares = run_json(dir / "store", {"ls", "--function", "square", "--sort", "hits", "--limit", "2"});
  REQUIRE(squares["entries"].size() == 2);
  CHECK(squares["entries"][0]["function"] == "square");
  CHECK(squares["entries"][0]["hits"] == 1);  // square(0), the only entry hit
  CHECK(squares["entries"][0]["key"].get<std::string>().size() == 12);
  CHECK(squares["entries"][0]["expires_ms"].is_null());

  const Json by_size = run_json(dir / "store", {"ls", "--sort", "size"});
  for (std::size_t i = 1; i < by_size["entries"].size(); ++i) {
    CHECK(by_size["entries"][i - 1]["size"] >= by_size["entries"][i]["size"]);
  }
}

TEST_CASE("show prints one entry; an unknown key exits 1 and an ambiguous one 2") {
  TempDir dir;
  build_store(dir / "store", 40);  // more keys than hex digits: two share a first digit
  const Json listed = run_json(dir / "store", {"ls", "--function", "greet"});
  const std::string key = listed["entries"][0]["key"];
  const ProcessResult shown = run_tool(dir / "store", {"show", key});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("greet") != std::string::npos);
  CHECK(shown.out.find("arguments") != std::string::npos);
  CHECK(shown.out.find("|........bbbbbbbb|") != std::string::npos);  // the preview: a u64 length, then the text

  const Json json = run_json(dir / "store", {"show", key});
  CHECK(json["function"] == "greet");
  CHECK(json["hash"].get<std::string>().rfind(key, 0) == 0);
  CHECK(json["value_size"].get<std::uint64_t>() > 10);
  CHECK(json["problem"].is_null());

  const ProcessResult missing = run_tool(dir / "store", {"show", "ffffffffffffffff"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no entry") != std::string::npos);
  std::map<char, int> first_digits;
  const Json all = run_json(dir / "store", {"ls"});
  for (const Json& entry : all["entries"]) {
    first_digits[entry["key"].get<std::string>()[0]] += 1;
  }
  const auto shared =
      std::find_if(first_digits.begin(), first_digits.end(), [](const auto& d) { return d.second > 1; });
  REQUIRE(shared != first_digits.end());
  const ProcessResult ambiguous = run_tool(dir / "store", {"show", std::string(1, shared->first)});
  CHECK(ambiguous.exit_code == 2);
  CHECK(ambiguous.err.find("give more digits") != std::string::npos);
  CHECK(run_tool(dir / "store", {"show", "nothex"}).exit_code == 2);
}

TEST_CASE("show lists an entry's input files with their hashes; ls --input filters by them") {
  TempDir dir;
  const std::filesystem::path prices = dir / "data/prices.csv";
  std::filesystem::create_directories(prices.parent_path());
  std::ofstream(prices) << "1,2,3";
  std::ofstream(dir / "data/other.csv") << "4";
  {
    Store store = Store::open(dir / "store");
    auto load = memostore::memo(store, "load", [](const memostore::File& f) {
      return static_cast<std::uint64_t>(std::filesystem::file_size(f.path()));
    });
    (void)load(memostore::File(prices));
    (void)load(memostore::File(dir / "data/other.csv"));
    build_store(dir / "store", 2, 0);
  }
  const Json filtered = run_json(dir / "store", {"ls", "--input", prices.string()});
  REQUIRE(filtered["entries"].size() == 1);
  const Json& input = filtered["entries"][0]["inputs"][0];
  CHECK(input["kind"] == "file");
  CHECK(input["path"] == std::filesystem::absolute(prices).lexically_normal().string());
  CHECK(input["hash"].get<std::string>().size() == 32);
  CHECK(run_json(dir / "store", {"ls", "--input", (dir / "data").string()})["entries"].size() == 2);
  CHECK(run_json(dir / "store", {"ls", "--input", (dir / "elsewhere.csv").string()})["entries"].empty());

  const ProcessResult shown = run_tool(dir / "store", {"show", filtered["entries"][0]["key"]});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("input file") != std::string::npos);
  CHECK(shown.out.find(input["path"].get<std::string>() + "  xxh3-128 " + input["hash"].get<std::string>()) !=
        std::string::npos);
}

TEST_CASE("clear, gc and compact change what stats reports") {
  TempDir dir;
  build_store(dir / "store", 40, 3, 20'000);  // large values: blob files

  const ProcessResult cleared = run_tool(dir / "store", {"clear", "--function", "greet"});
  REQUIRE(cleared.exit_code == 0);
  CHECK(cleared.out.find("3 entries") != std::string::npos);
  CHECK(function_row(run_json(dir / "store", {"stats"}), "greet")["entries"] == 0);

  const Json gc = run_json(dir / "store", {"gc", "--max-size", "200KiB"});
  CHECK(gc["evicted"]["entries"].get<int>() > 0);
  const Json after_gc = run_json(dir / "store", {"stats"});
  CHECK(after_gc["bytes"].get<std::uint64_t>() <= 200 * 1024);
  CHECK(after_gc["entries"].get<int>() < 40);

  const ProcessResult cleared_all = run_tool(dir / "store", {"clear"});
  REQUIRE(cleared_all.exit_code == 0);
  // Measured with no process open: the compact command's own "before" may
  // follow a background compaction RocksDB starts at open (then only the
  // info log grows between its two figures).
  std::uint64_t cleared_bytes = 0;
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir / "store")) {
    cleared_bytes += file.is_regular_file() ? file.file_size() : 0;
  }
  const Json compacted = run_json(dir / "store", {"compact"});
  CHECK(compacted["disk_bytes_after"] < cleared_bytes);
  CHECK(compacted["disk_bytes_before"] > 0);
  const ProcessResult compact_text = run_tool(dir / "store", {"compact"});
  CHECK(compact_text.exit_code == 0);
  CHECK(compact_text.out.find("before") != std::string::npos);
  CHECK(compact_text.err.empty());  // no progress bar when stderr is not a terminal
  CHECK(run_json(dir / "store", {"stats"})["entries"] == 0);
}

TEST_CASE("an inherited MEMOSTORE_MODE does not make clear or gc refuse (readonly) or skip (off) the store") {
  TempDir dir;
  for (const char* mode : {"readonly", "off"}) {
    CAPTURE(mode);
    build_store(dir / mode, 4, 0);
    const std::map<std::string, std::string> env{{"MEMOSTORE_MODE", mode}};
    const ProcessResult gc = memostore::test::run_process({tool(), "--dir", (dir / mode).string(), "gc"}, env);
    CHECK(gc.exit_code == 0);
    const ProcessResult cleared = memostore::test::run_process({tool(), "--dir", (dir / mode).string(), "clear"}, env);
    CHECK(cleared.exit_code == 0);
    CHECK(cleared.out.find("4 entries") != std::string::npos);
    CHECK(run_json(dir / mode, {"stats"})["entries"] == 0);
  }
}

TEST_CASE("verify finds a damaged entry, exits 1, and --fix removes it") {
  TempDir dir;
  build_store(dir / "store");
  CHECK(run_tool(dir / "store", {"verify"}).exit_code == 0);
  std::string damaged_hash;
  {
    Store store = Store::open(dir / "store");
    memostore::for_each_entry(store, {.function = "greet"}, [&](const memostore::EntrySummary& entry) {
      damaged_hash = entry.hash;
      memostore::test::tamper_entry(store, entry.key, [](std::string& bytes) { bytes[bytes.size() - 10] ^= 0x20; });
      return false;
    });
  }
  const ProcessResult found = run_tool(dir / "store", {"verify"});
  CHECK(found.exit_code == 1);
  CHECK(found.out.find("greet " + damaged_hash) != std::string::npos);
  CHECK(found.out.find(": 1 problem; ") != std::string::npos);

  const Json fixed = run_json(dir / "store", {"verify", "--fix"}, 1);
  CHECK(fixed["removed"] == 1);
  CHECK(fixed["problems"][0]["hash"] == damaged_hash);
  CHECK(run_tool(dir / "store", {"verify"}).exit_code == 0);
  CHECK(run_json(dir / "store", {"stats"})["entries"] == 12);
}

TEST_CASE("with MEMOSTORE_SECRET, verify lists unsigned entries and the secret appears nowhere in the output") {
  TempDir dir;
  build_store(dir / "store");
  const std::string secret = "cli test secret";
  const ProcessResult found =
      memostore::test::run_tool(dir / "store", {"verify"}, {{"MEMOSTORE_SECRET", secret}});
  CHECK(found.exit_code == 1);
  CHECK(found.out.find("13 problems") != std::string::npos);
  CHECK(found.out.find("not signed") != std::string::npos);
  CHECK(found.out.find(secret) == std::string::npos);
  CHECK(found.err.find(secret) == std::string::npos);
  CHECK(run_tool(dir / "store", {"verify"}).exit_code == 0);  // without the secret, nothing is wrong
}

TEST_CASE("a store that will not open says so, exits 3, and repair brings it back") {
  TempDir dir;
  build_store(dir / "store");
  for (const auto& file : std::filesystem::directory_iterator(dir / "store")) {
    if (file.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(file.path(), std::ios::binary | std::ios::trunc) << std::string(100, '\x01');
    }
  }
  const ProcessResult refused = run_tool(dir / "store", {"stats"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("repair") != std::string::npos);
  const ProcessResult repaired = run_tool(dir / "store", {"repair"});
  INFO(repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("13 entries remain") != std::string::npos);
  CHECK(run_json(dir / "store", {"stats"})["entries"] == 13);
  CHECK(run_tool(dir / "store", {"verify"}).exit_code == 0);
}

TEST_CASE("export then import into an empty store gives an identical ls") {
  TempDir dir;
  build_store(dir / "a");
  const ProcessResult exported = run_tool(dir / "a", {"export", (dir / "a.msx").string()});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.find("13 entries") != std::string::npos);
  const Json imported = run_json(dir / "b", {"import", (dir / "a.msx").string()});
  CHECK(imported["entries"] == 13);

  auto keys = [&](const std::filesystem::path& store) {
    std::vector<std::tuple<std::string, std::string, std::uint64_t, std::int64_t>> rows;
    const Json listed = run_json(store, {"ls"});
    for (const Json& entry : listed["entries"]) {
      rows.emplace_back(entry["function"], entry["hash"], entry["size"], entry["created_ms"]);
    }
    return rows;
  };
  CHECK(keys(dir / "b") == keys(dir / "a"));
  CHECK(run_tool(dir / "b", {"import", (dir / "missing.msx").string()}).exit_code == 2);
}

TEST_CASE("merge of two stores gives the union") {
  TempDir dir;
  build_store(dir / "a", 10, 0);
  {
    Store b = Store::open(dir / "b");
    auto square = memostore::memo(b, "square", [](int x) { return std::string(10, 'a') + std::to_string(x * x); },
                                  {.version = 1});
    for (int i = 5; i < 15; ++i) {  // 5..9 overlap with a
      (void)square(i);
    }
  }
  build_store(dir / "c", 0, 4);
  const Json merged = run_json(dir / "a", {"merge", (dir / "b").string(), (dir / "c").string()});
  CHECK(merged["sources"].size() == 2);
  // From b its 5 new squares and the 5 overlapping ones (newer); from c its 4
  // greets and its square(0) (build_store's last call, newer than a's).
  CHECK(merged["entries"] == 5 + 5 + 5);
  CHECK(run_json(dir / "a", {"stats"})["entries"] == 15 + 4);
  CHECK(run_tool(dir / "a", {"verify"}).exit_code == 0);
}

TEST_CASE("read commands work while another process uses the store; compact names it and exits 3") {
  TempDir dir;
  build_store(dir / "store");
  memostore::test::ChildProcess holder({memostore::test::child_program(), (dir / "store").string(), "hold"});
  REQUIRE(holder.read_line() == "ready");
  CHECK(run_tool(dir / "store", {"stats"}).exit_code == 0);
  CHECK(run_json(dir / "store", {"ls"})["entries"].size() == 13);
  CHECK(run_tool(dir / "store", {"verify"}).exit_code == 0);
  CHECK(run_tool(dir / "store", {"export", (dir / "live.msx").string()}).exit_code == 0);

  const ProcessResult refused = run_tool(dir / "store", {"compact"});  // it needs the store to itself
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find(fmt::format("process {}", holder.pid())) != std::string::npos);
  CHECK(refused.err.find("to itself") != std::string::npos);
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);  // one line
  holder.close_stdin();
  CHECK(holder.wait() == 0);
  CHECK(run_json(dir / "store", {"stats"})["entries"] == 13);
}

TEST_CASE("clear and gc work while another process holds the store and keeps calling: it carries them out") {
  TempDir dir;
  const std::string store = (dir / "store").string();
  memostore::test::ChildProcess holder({memostore::test::child_program(), store, "rounds", "5"});
  REQUIRE(holder.read_line() == "ready");
  const auto round = [&holder] {
    holder.write_line("go");
    return holder.read_line();
  };
  REQUIRE(round() == "computed=5");
  REQUIRE(round() == "computed=5");  // hits

  const Json cleared = run_json(dir / "store", {"clear", "--function", "square"});
  CHECK(cleared["entries"] == 5);  // exactly what the holder had stored
  CHECK(round() == "computed=10");  // its next calls miss the cleared entries
  CHECK(round() == "computed=10");

  const Json collected = run_json(dir / "store", {"gc", "--max-size", "1"});
  CHECK(collected["evicted"]["entries"] == 5);
  CHECK(round() == "computed=15");

  // A holder that does not carry it out in time (stopped): exit 3 naming it;
  // the clear is still carried out once it runs again.
  REQUIRE(round() == "computed=15");
  ::kill(holder.pid(), SIGSTOP);
  const ProcessResult late = run_tool(dir / "store", {"clear", "--timeout", "300ms"});
  ::kill(holder.pid(), SIGCONT);
  CHECK(late.exit_code == 3);
  CHECK(late.err.find(fmt::format("process {}", holder.pid())) != std::string::npos);
  CHECK(late.err.find("has not carried out") != std::string::npos);
  memostore::test::wait_until([&] { return run_json(dir / "store", {"stats"})["entries"] == 0; },
                              "the stopped holder to carry out the clear once it runs again");
  CHECK(round() == "computed=20");
  holder.close_stdin();
  CHECK(holder.wait() == 0);
}

TEST_CASE("usage errors exit 2 and an unavailable store exits 3") {
  TempDir dir;
  build_store(dir / "store");
  CHECK(run_tool(dir / "store", {}).exit_code == 2);
  CHECK(run_tool(dir / "store", {"frobnicate"}).exit_code == 2);
  CHECK(run_tool(dir / "store", {"ls", "--sort", "colour"}).exit_code == 2);
  const ProcessResult bad_size = run_tool(dir / "store", {"gc", "--max-size", "12Q"});
  CHECK(bad_size.exit_code == 2);
  CHECK(bad_size.err.find("12Q") != std::string::npos);
  CHECK(run_tool(dir / "store", {"clear", "--version", "1"}).exit_code == 2);

  const ProcessResult missing = run_tool(dir / "nowhere", {"stats"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("nowhere") != std::string::npos);
  CHECK(run_tool(dir / "nowhere", {"clear"}).exit_code == 3);  // a mistyped --dir does not create a store
  CHECK_FALSE(std::filesystem::exists(dir / "nowhere"));
  std::filesystem::create_directories(dir / "not-a-store");
  { std::ofstream(dir / "not-a-store" / "notes.txt") << "mine"; }
  CHECK(run_tool(dir / "not-a-store", {"clear"}).exit_code == 3);
  CHECK(std::filesystem::exists(dir / "not-a-store" / "notes.txt"));
}

TEST_CASE("MEMOSTORE_DIR names the store when --dir is not given") {
  TempDir dir;
  build_store(dir / "store");
  const ProcessResult result =
      memostore::test::run_process({tool(), "stats", "--json"}, {{"MEMOSTORE_DIR", (dir / "store").string()}});
  REQUIRE(result.exit_code == 0);
  CHECK(Json::parse(result.out)["entries"] == 13);
}

TEST_CASE("ls and show tell an entry's age against its function's refresh_after") {
  TempDir dir;
  {
    // Entries made two hours ago (by the store's clock): due for a refresh after one hour.
    auto clock = std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now() - std::chrono::hours(2));
    Store store = Store::open({.dir = dir.path(), .clock = clock});
    auto stale = memostore::memo(store, "stale", [](int x) { return x + 1; }, {.refresh_after = std::chrono::hours(1)});
    auto plain = memostore::memo(store, "plain", [](int x) { return x + 2; });
    (void)stale(1);
    (void)plain(1);
  }
  const Json listed = run_json(dir.path(), {"ls"});
  std::map<std::string, Json> by_function;
  for (const Json& entry : listed["entries"]) {
    by_function[entry["function"]] = entry;
  }
  CHECK(by_function["stale"]["refresh_after_ms"] == 3'600'000);
  CHECK(by_function["plain"]["refresh_after_ms"].is_null());
  const ProcessResult table = run_tool(dir.path(), {"ls", "--function", "stale"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("refresh") != std::string::npos);
  CHECK(table.out.find("due") != std::string::npos);
  const ProcessResult shown =
      run_tool(dir.path(), {"show", by_function["stale"]["key"].get<std::string>(), "--function", "stale"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("refresh after 1h") != std::string::npos);
  CHECK(shown.out.find("refresh due") != std::string::npos);
  {
    // The latest handle made without refresh_after takes it away.
    Store store = Store::open(dir.path());
    (void)memostore::memo(store, "stale", [](int x) { return x + 1; });
  }
  const Json relisted = run_json(dir.path(), {"ls"});
  REQUIRE(relisted["entries"].size() == 2);
  for (const Json& entry : relisted["entries"]) {
    CHECK(entry["refresh_after_ms"].is_null());
  }
}

TEST_SUITE_END();
