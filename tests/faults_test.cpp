// Faults an unlucky operator meets (issue 26): a disk that fills up, damaged
// files that verify and repair must get past, results waiting in the
// hand-over folder, and stored names that hold terminal escapes. The library
// and the real `memostore` tool, on real stores.
#include <doctest/doctest.h>

#include <sys/mount.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::ProcessResult;
using memostore::test::TempDir;

namespace {

std::string tool() {
  const char* path = std::getenv("MEMOSTORE_TOOL");
  REQUIRE_MESSAGE(path != nullptr, "MEMOSTORE_TOOL must name the built memostore tool (meson test sets it)");
  return path;
}

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
  auto memo_filled = memostore::memo(reader, "filled", [&](int x) {
    ++computed;
    return filled(x);
  });
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
      memostore::test::run_process({tool(), "--dir", (dir / "source").string(), "export", (dir / "export").string()});
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
    // The store is left sound: it opens and reads.
    const ProcessResult stats = memostore::test::run_process({tool(), "--dir", target.string(), "stats"});
    CHECK(stats.exit_code == 0);
  }
}

TEST_SUITE_END();
