// Store: opening, modes, environment overrides, clear errors, and storage
// failures that must not break the computation.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>

#include "storage/database.hpp"
#include "storage/warning_log.hpp"
#include "support/test_support.hpp"

using memostore::test::LogCapture;
using memostore::test::TempDir;
namespace fs = std::filesystem;

namespace {

/// Sets an environment variable for one scope.
using memostore::test::ScopedEnv;

/// A file system whose writes start failing on demand, like a disk that fills up.
class FailingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingFileSystem(std::atomic<bool>& failing)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), m_failing(failing) {}
  const char* Name() const override { return "FailingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    auto status = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (status.ok()) {
      *result = std::make_unique<File>(std::move(*result), m_failing);
    }
    return status;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::atomic<bool>& failing)
        : FSWritableFileOwnerWrapper(std::move(file)), m_failing(failing) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (m_failing) {
        return rocksdb::IOStatus::NoSpace("injected: no space left on device");
      }
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
      if (m_failing) {
        return rocksdb::IOStatus::NoSpace("injected: no space left on device");
      }
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }

   private:
    std::atomic<bool>& m_failing;
  };

  std::atomic<bool>& m_failing;
};

}  // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("open creates the directory with its parents") {
  TempDir dir;
  auto store = memostore::Store::open(dir / "a" / "b" / "cache");
  CHECK(fs::is_directory(dir / "a" / "b" / "cache"));
  CHECK(store.mode() == memostore::Mode::readwrite);
  CHECK(store.dir() == dir / "a" / "b" / "cache");
}

TEST_CASE("a path that is a file gives an io error naming it") {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  const std::string message =
      memostore::test::error_message([&] { memostore::Store::open(dir / "file"); }, memostore::ErrorCode::io);
  CHECK(message.find((dir / "file").string()) != std::string::npos);
  CHECK(message.find("not a directory") != std::string::npos);
}

TEST_CASE("a path below a file cannot be created: io error naming it and what to do") {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  const std::string message = memostore::test::error_message([&] { memostore::Store::open(dir / "file" / "cache"); },
                                                             memostore::ErrorCode::io);
  CHECK(message.find("cannot create cache directory") != std::string::npos);
  CHECK(message.find("MEMOSTORE_DIR") != std::string::npos);
}

TEST_CASE("a directory holding other files is refused, and left untouched") {
  TempDir dir;
  std::ofstream(dir / "notes.txt") << "mine";
  CHECK_THROWS_WITH_AS(memostore::Store::open(dir.path()), doctest::Contains("is not a memostore store"),
                       memostore::Error);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("opening the same directory twice in one process shares the database") {
  TempDir dir;
  auto a = memostore::Store::open(dir.path());
  auto b = memostore::Store::open(dir.path() / ".");
  CHECK(memostore::detail::core_of(a) == memostore::detail::core_of(b));
  int calls = 0;
  auto fn = [&calls](int x) {
    ++calls;
    return x;
  };
  memostore::memo(a, "f", memostore::state_not_keyed(fn))(1);
  memostore::memo(b, "f", memostore::state_not_keyed(fn))(1);
  CHECK(calls == 1);
}

TEST_CASE("opens write no info log: RocksDB's option dump and LOG rotation are skipped") {
  TempDir dir;
  for (int run = 0; run < 3; ++run) {
    auto store = memostore::Store::open(dir.path());
    memostore::memo(store, "f", [](int x) { return x; })(run);
  }
  for (const auto& file : fs::directory_iterator(dir.path())) {
    CHECK_MESSAGE(file.path().filename().string().rfind("LOG", 0) != 0, file.path());
  }
}

TEST_CASE("RocksDB's warnings and errors are appended to LOG, its info and option dump are not") {
  TempDir dir;
  const fs::path file = dir / "LOG";
  {
    auto log = memostore::detail::warning_log(file);
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "info %d", 1);
    rocksdb::Header(log, "header %d", 2);
    CHECK_FALSE(fs::exists(file));  // nothing worth a file yet
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "disk %s", "slow");
    rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, log, "table %d damaged", 7);
  }
  {
    auto log = memostore::detail::warning_log(file);  // a later process appends
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "again");
  }
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("[WARN] disk slow\n") != std::string::npos);
  CHECK(text.find("[ERROR] table 7 damaged\n") != std::string::npos);
  CHECK(text.find("[WARN] again\n") != std::string::npos);
  CHECK(text.find("info 1") == std::string::npos);
  CHECK(text.find("header 2") == std::string::npos);
}

TEST_CASE("a full LOG moves to LOG.old at a process's first warning") {
  TempDir dir;
  const fs::path file = dir / "LOG";
  std::ofstream(file) << std::string(memostore::detail::k_warning_log_bytes + 1, 'x');
  auto log = memostore::detail::warning_log(file);
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "fresh");
  CHECK(fs::file_size(dir / "LOG.old") == memostore::detail::k_warning_log_bytes + 1);
  CHECK(fs::file_size(file) < 200);
}

TEST_CASE("processes that write a little bookkeeping leave few small tables and never rewrite the large ones") {
  TempDir dir;
  const auto value = [](int x) { return std::string(100, static_cast<char>('a' + x % 26)) + std::to_string(x); };
  constexpr int k_entries = 5000;
  {
    auto store = memostore::Store::open(dir.path());
    auto f = memostore::memo(store, "f", value);
    for (int k = 0; k < k_entries; ++k) {
      f(k);
    }
  }
  const auto tables = [&](std::uintmax_t min_bytes) {
    std::set<std::string> names;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (file.path().extension() == ".sst" && file.file_size() >= min_bytes) {
        names.insert(file.path().filename().string());
      }
    }
    return names;
  };
  const auto large = tables(16 << 10);  // the entries, and a record per entry in `meta`
  REQUIRE(large.size() >= 2);
  // Each process writes its hit's access time (Store::flush opens for
  // writing, as the processes that apply handed-over bookkeeping do); every
  // eighth close flushes them into small tables.
  for (int run = 0; run < 64; ++run) {
    auto store = memostore::Store::open(dir.path());
    const int key = run * 37 % k_entries;
    CHECK(memostore::memo(store, "f", value)(key) == value(key));
    store.flush();
  }
  const auto after = tables(0);
  for (const std::string& name : large) {
    CHECK_MESSAGE(after.count(name) == 1, name << " was rewritten");
  }
  CHECK(after.size() <= 20);  // tables that are never merged would pile up past this
}

TEST_CASE("readonly mode uses hits and never writes") {
  TempDir dir;
  int calls = 0;
  auto fn = [&calls](int x) {
    ++calls;
    return x * 2;
  };
  {
    auto store = memostore::Store::open(dir.path());
    memostore::memo(store, "f", memostore::state_not_keyed(fn))(1);
  }
  {
    auto store = memostore::Store::open({.dir = dir.path(), .mode = memostore::Mode::readonly});
    auto f = memostore::memo(store, "f", memostore::state_not_keyed(fn));
    CHECK(f(1) == 2);
    CHECK(calls == 1);
    CHECK(f(2) == 4);
    CHECK(calls == 2);
    f.clear();  // no-op
    CHECK(f.cached(1));
    // Clearing or collecting the whole store is refused, not skipped
    // (as memostore::clear and memostore::gc refuse: admin_test).
    const std::string message =
        memostore::test::error_message([&] { store.clear(); }, memostore::ErrorCode::usage);
    CHECK(message.find("open readonly") != std::string::npos);
    CHECK_THROWS_AS(store.gc(), memostore::Error);
    CHECK(f.cached(1));
  }
  auto store = memostore::Store::open(dir.path());
  auto f = memostore::memo(store, "f", memostore::state_not_keyed(fn));
  CHECK_FALSE(f.cached(2));
  CHECK(f.cached(1));
}

TEST_CASE("readonly mode on a missing directory is an error, and creates nothing") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(memostore::Store::open({.dir = dir / "missing", .mode = memostore::Mode::readonly}),
                       doctest::Contains("readonly mode does not create one"), memostore::Error);
  CHECK_FALSE(fs::exists(dir / "missing"));
}

TEST_CASE("refresh mode always recomputes and overwrites") {
  TempDir dir;
  int generation = 1;
  int calls = 0;
  auto fn = [&](int x) {
    ++calls;
    return x * generation;
  };
  {
    auto store = memostore::Store::open(dir.path());
    CHECK(memostore::memo(store, "f", memostore::state_not_keyed(fn))(5) == 5);
  }
  generation = 3;
  {
    auto store = memostore::Store::open({.dir = dir.path(), .mode = memostore::Mode::refresh});
    auto f = memostore::memo(store, "f", memostore::state_not_keyed(fn));
    CHECK(f(5) == 15);
    CHECK(f(5) == 15);
    CHECK(calls == 3);
  }
  generation = 100;
  auto store = memostore::Store::open(dir.path());
  CHECK(memostore::memo(store, "f", memostore::state_not_keyed(fn))(5) == 15);  // the refreshed value was stored
  CHECK(calls == 3);
}

TEST_CASE("off mode computes every call and touches nothing on disk") {
  TempDir dir;
  auto store = memostore::Store::open({.dir = dir / "never", .mode = memostore::Mode::off});
  int calls = 0;
  auto f = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x;
  }));
  CHECK(f(1) == 1);
  CHECK(f(1) == 1);
  CHECK(calls == 2);
  CHECK_FALSE(f.cached(1));
  CHECK_FALSE(fs::exists(dir / "never"));
}

TEST_CASE("MEMOSTORE_MODE overrides the mode given in code") {
  TempDir dir;
  ScopedEnv env("MEMOSTORE_MODE", "off");
  auto store = memostore::Store::open({.dir = dir / "cache", .mode = memostore::Mode::readwrite});
  CHECK(store.mode() == memostore::Mode::off);
  CHECK_FALSE(fs::exists(dir / "cache"));
}

TEST_CASE("an unknown MEMOSTORE_MODE is an error that lists the valid modes") {
  TempDir dir;
  ScopedEnv env("MEMOSTORE_MODE", "fast");
  const std::string message =
      memostore::test::error_message([&] { memostore::Store::open(dir.path()); }, memostore::ErrorCode::config);
  CHECK(message.find("MEMOSTORE_MODE") != std::string::npos);
  CHECK(message.find("\"fast\"") != std::string::npos);
  CHECK(message.find("readwrite, readonly, refresh, off and check") != std::string::npos);
  CHECK(memostore::parse_mode("refresh") == memostore::Mode::refresh);
}

TEST_CASE("a bad value of any variable is a config error naming the variable, the value and the valid forms") {
  TempDir dir;
  struct Bad {
    const char* variable;
    const char* value;
    const char* valid;  // a piece of the valid forms the message must list
  };
  const Bad cases[] = {{"MEMOSTORE_MODE", "fast", "readwrite, readonly"},
                       {"MEMOSTORE_MAX_SIZE", "lots", "500M"},
                       {"MEMOSTORE_HOT_CACHE", "lots", "500M"},
                       {"MEMOSTORE_CHECK_RATE", "often", "between 0 and 1"},
                       {"MEMOSTORE_FILE_CHECK", "mtime", "stat and content"},
                       {"MEMOSTORE_REMOTE", "http://cache", "redis://"},
                       {"MEMOSTORE_REMOTE_MODE", "both", "readwrite and readonly"},
                       {"MEMOSTORE_REMOTE_TTL", "soon", "7d"}};
  // The remote variables are read only with a remote tier: a URL nothing listens on (nothing connects at open).
  ScopedEnv remote("MEMOSTORE_REMOTE", "redis://127.0.0.1:1");
  for (const Bad& bad : cases) {
    CAPTURE(bad.variable);
    ScopedEnv env(bad.variable, bad.value);
    const std::string message =
        memostore::test::error_message([&] { memostore::Store::open(dir / "s"); }, memostore::ErrorCode::config);
    CHECK(message.starts_with(std::string(bad.variable) + ": "));
    CHECK(message.find(fmt::format("\"{}\"", bad.value)) != std::string::npos);
    CHECK(message.find(bad.valid) != std::string::npos);
  }
}

TEST_CASE("default_store_dir is MEMOSTORE_DIR when set and non-empty, else .memostore") {
  {
    ScopedEnv env("MEMOSTORE_DIR", "/some/cache");
    CHECK(memostore::default_store_dir() == "/some/cache");
  }
  ScopedEnv empty("MEMOSTORE_DIR", "");
  CHECK(memostore::default_store_dir() == ".memostore");
}

TEST_CASE("every named setting parses its names and lists them when it does not know one") {
  using memostore::ErrorCode;
  using memostore::test::error_message;
  for (const memostore::Mode mode :
       {memostore::Mode::readwrite, memostore::Mode::readonly, memostore::Mode::refresh, memostore::Mode::off}) {
    CHECK(memostore::parse_mode(memostore::to_string(mode)) == mode);
  }
  CHECK(memostore::parse_remote_mode("readonly") == memostore::RemoteMode::readonly);
  CHECK(memostore::parse_remote_mode("readwrite") == memostore::RemoteMode::readwrite);
  CHECK(memostore::parse_file_check("stat") == memostore::FileCheck::stat);
  CHECK(memostore::parse_file_check("content") == memostore::FileCheck::content);
  CHECK(error_message([] { memostore::parse_remote_mode("both"); }, ErrorCode::config) ==
        "unknown remote mode \"both\": valid modes are readwrite and readonly");
  CHECK(error_message([] { memostore::parse_file_check("mtime"); }, ErrorCode::config) ==
        "unknown file check \"mtime\": valid values are stat and content");
}

TEST_CASE("a failing disk is logged once and results are still returned") {
  TempDir dir;
  LogCapture log;
  std::atomic<bool> failing{false};
  memostore::detail::set_file_system_for_testing(std::make_shared<FailingFileSystem>(failing));
  {
    auto store = memostore::Store::open(dir.path());
    int calls = 0;
    auto f = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
      ++calls;
      return std::string(100, static_cast<char>('a' + x % 26));
    }));
    CHECK(f(1) == std::string(100, 'b'));
    failing = true;
    for (int i = 2; i < 20; ++i) {
      CHECK(f(i) == std::string(100, static_cast<char>('a' + i % 26)));
    }
    CHECK(f(1) == std::string(100, 'b'));
    CHECK(calls == 19);
    CHECK(log.count("could not store a result of f") == 1);
    CHECK(log.count("disk is full") == 1);
  }
  memostore::detail::set_file_system_for_testing(nullptr);
}

TEST_SUITE_END();

TEST_CASE("a new cache directory is private to its owner unless configured otherwise") {
  TempDir dir;
  namespace fs = std::filesystem;
  (void)memostore::Store::open(dir / "private");
  CHECK((fs::status(dir / "private").permissions() & fs::perms::all) == fs::perms::owner_all);
  (void)memostore::Store::open(
      {.dir = dir / "shared", .directory_permissions = fs::perms::owner_all | fs::perms::group_all});
  CHECK((fs::status(dir / "shared").permissions() & fs::perms::all) == (fs::perms::owner_all | fs::perms::group_all));
  // An existing directory keeps its permissions.
  fs::create_directories(dir / "existing");
  fs::permissions(dir / "existing", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  (void)memostore::Store::open(dir / "existing");
  CHECK((fs::status(dir / "existing").permissions() & fs::perms::others_read) == fs::perms::others_read);
}

TEST_CASE("a full disk: calls return correct results, one warning is logged, and the store stays intact") {
  TempDir dir;
  // The child's files may not grow past 256 KiB: writes start failing part way.
  const auto child = memostore::test::run_process(
      {memostore::test::child_program(), (dir / "store").string(), "padded-squares", "200"});
  INFO(child.err);
  REQUIRE(child.exit_code == 0);
  CHECK(memostore::test::output_value(child.out, "computed") == "200");
  CHECK(memostore::test::output_value(child.out, "warnings") == "1");
  CHECK(child.err.find("File too large") != std::string::npos);

  // Afterwards (no limit) the store opens, is sound, and what was stored hits.
  auto store = memostore::Store::open(dir / "store");
  CHECK(memostore::verify(store).clean());
  const auto stored = memostore::contents(store).entries;
  CHECK(stored > 0);
  CHECK(stored < 200);
  int computed = 0;
  auto padded = memostore::memo(store, "padded", memostore::state_not_keyed([&](int x) {
    ++computed;
    return std::to_string(x) + std::string(4096, '.');
  }));
  for (int i = 0; i < 200; ++i) {
    REQUIRE(padded(i) == std::to_string(i) + std::string(4096, '.'));
  }
  CHECK(computed == 200 - static_cast<int>(stored));
}
