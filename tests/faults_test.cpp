// Faults an unlucky operator meets (issue 26): a disk that fills up, damaged
// files that verify and repair must get past, results waiting in the
// hand-over folder, and stored names that hold terminal escapes. The library
// and the real `memostore` tool, on real stores.
#include <doctest/doctest.h>

#include <sys/mount.h>

#include <csignal>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>
#include <rocksdb/env.h>

#include <nlohmann/json.hpp>

#include "storage/handover.hpp"
#include "storage/warning_log.hpp"
#include "util/escape.hpp"
#include "util/log.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::ProcessResult;
using memostore::test::TempDir;
using Json = nlohmann::json;

using memostore::test::tool;

namespace {

/// A 1 MiB tmpfs mounted on a new directory where the test may mount one (as
/// root, as in CI), unmounted at scope exit. Elsewhere mounted() is false and
/// the tests limit the child's file sizes (RLIMIT_FSIZE) instead.
class SmallDisk {
 public:
  explicit SmallDisk(fs::path at) : m_path(std::move(at)) {
    fs::create_directories(m_path);
    m_mounted = ::mount("tmpfs", m_path.c_str(), "tmpfs", 0, "size=1m") == 0;
    if (!m_mounted) {
      MESSAGE("cannot mount a tmpfs (not root?): limiting file sizes with RLIMIT_FSIZE instead");
    }
  }
  ~SmallDisk() {
    if (m_mounted) {
      ::umount2(m_path.c_str(), MNT_DETACH);
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const noexcept { return m_mounted; }
  fs::path operator/(const std::string& name) const { return m_path / name; }
  /// What a write past the end says: ENOSPC on the tmpfs, EFBIG under the limit.
  std::string error_text() const { return m_mounted ? "No space left on device" : "File too large"; }
  /// `argv` run so that its writes fail once the disk is full: as it is on
  /// the tmpfs, else with its files limited to 256 KiB.
  std::vector<std::string> limited(std::vector<std::string> argv) const {
    if (m_mounted) {
      return argv;
    }
    // An ignored SIGXFSZ is inherited through exec: the write fails with EFBIG.
    argv.insert(argv.begin(), {"/bin/sh", "-c", "trap '' XFSZ; ulimit -f 256; exec \"$@\"", "sh"});
    return argv;
  }

 private:
  fs::path m_path;
  bool m_mounted = false;
};

std::string filled(int x) { return std::to_string(x) + std::string(1024, '#'); }

/// Runs `memostore --dir DIR args...`.
ProcessResult run_tool(const SmallDisk& disk, const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {tool(), "--dir", dir.string()});
  return memostore::test::run_process(disk.limited(args));
}

std::string small_value(int x) { return std::string(300, static_cast<char>('a' + x % 26)) + std::to_string(x); }
std::string large_value(int x) { return std::string(40'000, static_cast<char>('A' + x % 26)) + std::to_string(x); }
constexpr int k_small = 30;
constexpr int k_large = 10;

/// A store of k_small small entries (in a table file) and k_large values of
/// 40 KB (in blob files), closed (its first close writes the files).
void build_mixed_store(const fs::path& dir) {
  Store store = Store::open(dir);
  auto small = memostore::memo(store, "small", &small_value);
  auto large = memostore::memo(store, "large", &large_value);
  for (int x = 0; x < k_small; ++x) {
    (void)small(x);
  }
  for (int x = 0; x < k_large; ++x) {
    (void)large(x);
  }
}

/// The largest file of `dir` whose name ends in `extension`.
fs::path largest_file(const fs::path& dir, const std::string& extension) {
  fs::path largest;
  for (const auto& file : fs::directory_iterator(dir)) {
    if (file.path().extension() == extension && (largest.empty() || file.file_size() > fs::file_size(largest))) {
      largest = file.path();
    }
  }
  REQUIRE_MESSAGE(!largest.empty(), "no " << extension << " file in " << dir);
  return largest;
}

/// Flips a few bytes in the middle of `file`.
void flip_middle(const fs::path& file) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(fs::file_size(file) / 2);
  for (std::streamoff at = middle; at < middle + 4; ++at) {
    stream.seekg(at);
    char byte = 0;
    stream.get(byte);
    stream.seekp(at);
    stream.put(static_cast<char>(byte ^ 0x5a));
  }
}

/// Counts how many calls of each function compute on `dir` (none: all hit).
std::pair<int, int> computed_after(const fs::path& dir) {
  Store store = Store::open(dir);
  int small_computed = 0;
  int large_computed = 0;
  auto small = memostore::memo(store, "small", memostore::state_not_keyed([&](int x) {
    ++small_computed;
    return small_value(x);
  }));
  auto large = memostore::memo(store, "large", memostore::state_not_keyed([&](int x) {
    ++large_computed;
    return large_value(x);
  }));
  for (int x = 0; x < k_small; ++x) {
    REQUIRE(small(x) == small_value(x));
  }
  for (int x = 0; x < k_large; ++x) {
    REQUIRE(large(x) == large_value(x));
  }
  return {small_computed, large_computed};
}

}  // namespace

TEST_SUITE_BEGIN("faults");

TEST_CASE("issue 26: a process whose disk fills up exits normally with all its output, and keeps what was stored") {
  TempDir dir;
  SmallDisk disk(dir / "disk");
  const std::string store = (disk / "store").string();
  const std::string child = memostore::test::child_program();
  // A store that holds results already: its close syncs the log rather than
  // flushing, the path that aborted after a failed log write.
  REQUIRE(memostore::test::run_process({child, store, "fill", "10"}).exit_code == 0);
  const std::vector<std::string> args =
      disk.mounted() ? std::vector<std::string>{child, store, "fill", "5000"}
                     : std::vector<std::string>{child, store, "fill", "5000", "256"};
  const ProcessResult filling = memostore::test::run_process(args);
  INFO(filling.err);
  REQUIRE(filling.exit_code == 0);
  CHECK(filling.out.find("done") != std::string::npos);  // buffered output, complete
  CHECK(memostore::test::output_value(filling.out, "wrong") == "0");
  const int failed_from = std::stoi(memostore::test::output_value(filling.out, "failed-from"));
  CHECK(failed_from > 10);
  CHECK(failed_from < 5000);  // the disk did fill
  CHECK(filling.err.find(disk.error_text()) != std::string::npos);
  CHECK(filling.err.find(store) != std::string::npos);

  // Every result stored before the disk filled is there (read without writing: the disk is still full).
  Store reader = Store::open(StoreOptions{.dir = store, .mode = memostore::Mode::readonly});
  int computed = 0;
  auto memo_filled = memostore::memo(reader, "filled", memostore::state_not_keyed([&](int x) {
    ++computed;
    return filled(x);
  }));
  for (int x = 0; x < failed_from; ++x) {
    REQUIRE(memo_filled(x) == filled(x));
  }
  CHECK(computed == 0);
}

TEST_CASE("issue 26: import and merge on a full disk exit 1 naming the directory and the cause, and never abort") {
  TempDir dir;
  {
    Store source = Store::open(dir / "source");
    auto memo_filled = memostore::memo(source, "filled", &filled);
    for (int x = 0; x < 3000; ++x) {  // 3 MiB: more than the small disk holds
      (void)memo_filled(x);
    }
  }
  const ProcessResult exported =
      memostore::test::run_tool(dir / "source", {"export", (dir / "export").string()});
  REQUIRE(exported.exit_code == 0);
  SmallDisk disk(dir / "disk");
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"import", (dir / "export").string()},
        std::vector<std::string>{"merge", (dir / "source").string()}}) {
    const fs::path target = disk / command[0];
    const ProcessResult result = run_tool(disk, target, command);
    INFO(command[0] << ": " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(target.string()) != std::string::npos);
    CHECK(result.err.find(disk.error_text()) != std::string::npos);
    if (disk.mounted()) {
      CHECK(result.err.find("ENOSPC") != std::string::npos);
    }
    if (command[0] == "import") {  // issue 32: a failed import leaves no new store behind
      CHECK_FALSE(fs::exists(target));
      continue;
    }
    // The store is left sound: it opens and reads.
    const ProcessResult stats = memostore::test::run_tool(target, {"stats"});
    CHECK(stats.exit_code == 0);
  }
}

TEST_SUITE_END();

TEST_CASE("issue 26: verify reads past damaged table blocks and blob files, and verify --fix then repair ends clean") {
  TempDir dir;
  const fs::path store = dir / "store";
  build_mixed_store(store);
  flip_middle(largest_file(store, ".sst"));
  flip_middle(largest_file(store, ".blob"));

  const ProcessResult found = memostore::test::run_tool(store, {"verify"});
  INFO(found.out << found.err);
  CHECK(found.exit_code == 1);
  CHECK(found.out.find("checked 40 entries") != std::string::npos);  // every entry, past the damage
  const std::size_t listed = static_cast<std::size_t>(
      std::count(found.out.begin(), found.out.end(), '\n') - 1);  // problem lines before the summary
  CHECK(found.out.find("damaged large ") != std::string::npos);    // an entry whose blob is damaged
  CHECK(found.out.find("damaged small ") != std::string::npos);    // entries in the damaged table block
  CHECK(found.out.find("damaged file: ") != std::string::npos);
  CHECK(found.out.find("verify --fix` removes the") != std::string::npos);
  CHECK(found.out.find(" repair` copies every entry") != std::string::npos);

  const Json fixed = Json::parse(memostore::test::run_tool(store, {"verify", "--fix", "--json"}).out);
  std::size_t damaged_entries = 0;
  for (const Json& problem : fixed["problems"]) {
    damaged_entries += problem["hash"] != "" ? 1 : 0;
  }
  CHECK(damaged_entries > 1);
  CHECK(listed > damaged_entries);  // and the damaged files
  CHECK(fixed["removed"] == damaged_entries);  // every entry it named
  CHECK(fixed["needs_repair"] == true);

  // What is left is file damage only: the advice moves on to repair, never back to --fix.
  const ProcessResult left = memostore::test::run_tool(store, {"verify"});
  INFO(left.out);
  CHECK(left.exit_code == 1);
  CHECK(left.out.find("damaged small") == std::string::npos);
  CHECK(left.out.find("damaged large") == std::string::npos);
  CHECK(left.out.find("verify --fix") == std::string::npos);
  CHECK(left.out.find(" repair` copies every entry") != std::string::npos);

  const ProcessResult repaired = memostore::test::run_tool(store, {"repair"});
  INFO(repaired.out << repaired.err);
  CHECK(repaired.exit_code == 0);
  const ProcessResult clean = memostore::test::run_tool(store, {"verify"});
  CHECK(clean.exit_code == 0);
  CHECK(clean.out.find("no problems") != std::string::npos);
  // Only the entries verify named are gone: the 40 KB values outside the damaged blob were kept.
  const auto [small_computed, large_computed] = computed_after(store);
  CHECK(small_computed + large_computed == static_cast<int>(damaged_entries));
  CHECK(large_computed < k_large);
}

namespace {

/// The names and sizes of the store's files in `dir` (not recursive), but
/// for its warning log (RocksDB warns there about reading old tables).
std::map<std::string, std::uintmax_t> files_of(const fs::path& dir) {
  std::map<std::string, std::uintmax_t> files;
  for (const auto& file : fs::directory_iterator(dir)) {
    if (file.is_regular_file() && file.path().filename().string().rfind("LOG", 0) != 0) {
      files[file.path().filename().string()] = file.file_size();
    }
  }
  return files;
}

}  // namespace

TEST_CASE("issue 26: repair keeps the results another process handed over while the holder was frozen") {
  TempDir dir;
  const fs::path store = dir / "store";
  const std::string child = memostore::test::child_program();
  {
    memostore::test::ChildProcess holder({child, store.string(), "hold"});
    REQUIRE(memostore::test::wait_for_line(holder, "ready"));
    ::kill(holder.pid(), SIGSTOP);  // holds the lock, applies nothing
    const ProcessResult sharer = memostore::test::run_process({child, store.string(), "squares", "50"});
    INFO(sharer.err);
    REQUIRE(sharer.exit_code == 0);
    CHECK(memostore::test::output_value(sharer.out, "computed") == "50");  // every call returned
    ::kill(holder.pid(), SIGKILL);
    (void)holder.wait();
  }
  REQUIRE(!memostore::detail::pending_units(store).empty());  // the results wait in the hand-over folder

  const ProcessResult repaired = memostore::test::run_tool(store, {"repair"});
  INFO(repaired.out << repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("nothing to repair") != std::string::npos);
  Store reopened = Store::open(store);
  int computed = 0;
  auto square = memostore::memo(reopened, "square", memostore::state_not_keyed([&](int x) {
    ++computed;
    return std::vector<std::int64_t>{x, std::int64_t{x} * x};
  }));
  for (int x = 0; x < 50; ++x) {
    REQUIRE(square(x) == std::vector<std::int64_t>{x, std::int64_t{x} * x});
  }
  CHECK(computed == 0);  // 50 of 50 kept
}

TEST_CASE("issue 26: repair of a healthy store with large values changes nothing and says so") {
  TempDir dir;
  const fs::path store = dir / "store";
  build_mixed_store(store);
  const auto before = files_of(store);
  const ProcessResult repaired = memostore::test::run_tool(store, {"repair"});
  INFO(repaired.out << repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("nothing to repair") != std::string::npos);
  CHECK(repaired.out.find("40 entries") != std::string::npos);
  CHECK(files_of(store) == before);
  const auto [small_computed, large_computed] = computed_after(store);
  CHECK(small_computed == 0);
  CHECK(large_computed == 0);  // every 40 KB value kept
}

namespace {

/// Whether `text` holds a byte a terminal acts on (control characters but
/// for the line breaks of the output itself).
bool has_raw_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\n') || byte == 0x7f;
  });
}

}  // namespace

TEST_CASE("issue 26: names and paths holding terminal escapes are printed escaped, and JSON keeps them exact") {
  TempDir dir;
  const std::string name = "retitle\x1b]0;pwned\x07 clear\x1b[2J\nforged row";
  const fs::path input = dir / "in\x1b[2J\nput.csv";
  std::ofstream(input) << "1,2,3";
  {
    Store store = Store::open(dir / "store");
    auto load = memostore::memo(store, name, [](const memostore::File& f) {
      return static_cast<std::uint64_t>(fs::file_size(f.path()));
    });
    CHECK(load(memostore::File(input)) == 5);
  }
  const fs::path store = dir / "store";
  for (const std::vector<std::string>& command : {std::vector<std::string>{"stats"}, std::vector<std::string>{"ls"}}) {
    const ProcessResult result = memostore::test::run_tool(store, command);
    INFO(command[0] << ": " << result.out);
    CHECK(result.exit_code == 0);
    CHECK_FALSE(has_raw_control(result.out));
    CHECK(result.out.find("retitle\\x1b]0;pwned\\x07 clear\\x1b[2J\\x0aforged row") != std::string::npos);
    CHECK(result.out.find("\nforged row") == std::string::npos);  // no forged line
  }
  const Json listed = Json::parse(memostore::test::run_tool(store, {"ls", "--json"}).out);
  REQUIRE(listed["entries"].size() == 1);
  CHECK(listed["entries"][0]["function"] == name);  // the exact bytes, through JSON's escapes
  CHECK(listed["entries"][0]["inputs"][0]["path"] == fs::absolute(input).lexically_normal().string());
  CHECK(Json::parse(memostore::test::run_tool(store, {"stats", "--json"}).out)["functions"][0]["name"] == name);

  const std::string key = listed["entries"][0]["key"];
  const ProcessResult shown = memostore::test::run_tool(store, {"show", key});
  INFO(shown.out);
  CHECK(shown.exit_code == 0);
  CHECK_FALSE(has_raw_control(shown.out));
  CHECK(shown.out.find("in\\x1b[2J\\x0aput.csv") != std::string::npos);
  CHECK(Json::parse(memostore::test::run_tool(store, {"show", key, "--json"}).out)["function"] == name);

  // A name that is not UTF-8 cannot be JSON text: replaced (U+FFFD), never a failure.
  {
    Store other = Store::open(dir / "latin1");
    auto f = memostore::memo(other, "caf\xe9", [](int x) { return x; });
    CHECK(f(1) == 1);
  }
  const ProcessResult latin1 = memostore::test::run_tool(dir / "latin1", {"ls", "--json"});
  CHECK(latin1.exit_code == 0);
  CHECK(Json::parse(latin1.out)["entries"][0]["function"] == "caf\xef\xbf\xbd");
  CHECK(memostore::test::run_tool(dir / "latin1", {"ls"}).out.find("caf\\xe9") != std::string::npos);

  // An error quoting the name: `show` with a function that has no such key.
  const ProcessResult missing = memostore::test::run_tool(store, {"show", "ffff", "--function", name});
  CHECK(missing.exit_code != 0);
  CHECK_FALSE(has_raw_control(missing.err));
}

TEST_CASE("issue 26: log messages reach the handler and DIR/LOG escaped") {
  memostore::test::LogCapture log;
  const std::string name = "f\x1b]0;pwned\x07\n\xff";  // and a byte that is not UTF-8
  memostore::detail::warn("could not store a result of {}", name);
  REQUIRE(log.warnings().size() == 1);
  CHECK(log.warnings()[0] == "could not store a result of f\\x1b]0;pwned\\x07\\x0a\\xff");
  CHECK(memostore::detail::escaped("caf\xc3\xa9 \xe6\x97\xa5") == "caf\xc3\xa9 \xe6\x97\xa5");  // UTF-8 is kept

  TempDir dir;
  auto warnings = memostore::detail::warning_log(dir / "LOG");
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, warnings, "damaged key %s", name.c_str());
  std::ifstream in(dir / "LOG");
  const std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(logged.find("damaged key f\\x1b]0;pwned\\x07\\x0a\\xff\n") != std::string::npos);
  CHECK_FALSE(has_raw_control(logged));
}
