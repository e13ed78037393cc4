// issue 26: hostile cache directories. Links planted under the names
// memostore writes, stores owned or writable by others, another program's
// RocksDB database, and a store another process is still creating. Each
// case plants the attack, runs the library or the tool, and checks that a
// victim directory and file outside the store are unchanged, that nothing
// crashed, and what was refused and said.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <memostore/memostore.hpp>
#include <rocksdb/db.h>

#include "tiers/process_claim.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::ErrorCode;
using memostore::Store;
using memostore::test::error_message;
using memostore::test::run_process;
using memostore::test::TempDir;
using memostore::test::read_file;

using memostore::test::tool;

namespace {

/// A directory and a file outside the store that an attack aims at.
struct Victim {
  explicit Victim(const TempDir& dir) : folder(dir / "victim"), file(dir / "victim-file") {
    fs::create_directories(folder / "data");
    std::ofstream(folder / "data" / "precious") << "keep me";
    std::ofstream(folder / "12345-0000abcd.unit") << "not a unit";
    std::ofstream(file) << "precious file";
  }
  void check_unchanged() const {
    CHECK(read_file(folder / "data" / "precious") == "keep me");
    CHECK(read_file(folder / "12345-0000abcd.unit") == "not a unit");
    CHECK(read_file(file) == "precious file");
  }
  fs::path folder;
  fs::path file;
};

/// A store in `dir` holding f(`x`) (written now, if it was not), closed again.
void make_store(const fs::path& dir, int x = 1) {
  Store store = Store::open(dir);
  auto f = memostore::memo(store, "f", [](int x) { return x + 1; });
  REQUIRE(f(x) == x + 1);
}

/// A store's refusal, by the library (read-write and readonly) and the tool:
/// each names `named`, and the tool exits 3 with the same message.
void check_refused(const fs::path& dir, const std::string& named, const std::string& cause) {
  for (const auto mode : {memostore::Mode::readwrite, memostore::Mode::readonly}) {
    const std::string message = error_message([&] { (void)Store::open({.dir = dir, .mode = mode}); });
    CHECK(message.find(named) != std::string::npos);
    CHECK(message.find(cause) != std::string::npos);
  }
  for (const char* command : {"stats", "gc"}) {
    const auto result = memostore::test::run_tool(dir, {command});
    CHECK(result.exit_code == 3);
    CHECK(result.err.find(named) != std::string::npos);
    CHECK(result.err.find(cause) != std::string::npos);
  }
}

/// A process (forked, no RocksDB in it) holding `dir`/LOCK's POSIX lock, as
/// a process creating a store there does, until destroyed.
class LockHolder {
 public:
  explicit LockHolder(const fs::path& dir) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(m_release) == 0);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::close(ready[0]);
      ::close(m_release[1]);  // else its read below never sees the test close its end
      const int fd = ::open((dir / "LOCK").c_str(), O_RDWR | O_CREAT, 0644);
      struct flock whole {};
      whole.l_type = F_WRLCK;
      whole.l_whence = SEEK_SET;
      const bool locked = fd >= 0 && ::fcntl(fd, F_SETLK, &whole) == 0;
      char byte = locked ? 'y' : 'n';
      (void)!::write(ready[1], &byte, 1);
      (void)!::read(m_release[0], &byte, 1);  // until the test closes its end
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(m_release[0]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    REQUIRE(byte == 'y');
  }
  ~LockHolder() {
    ::close(m_release[1]);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  int pid() const noexcept { return m_pid; }

 private:
  int m_pid = -1;
  int m_release[2] = {-1, -1};
};

/// A RocksDB database made with RocksDB directly, as another program would:
/// the given families, and in each one record "k" = "v", but no memostore
/// format record.
void make_foreign_database(const fs::path& dir, const std::vector<std::string>& families) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : families) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &db).ok());
  for (auto* handle : handles) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), handle, "k", "v").ok());
  }
  REQUIRE(db->Flush(rocksdb::FlushOptions(), handles).ok());
  for (auto* handle : handles) {
    REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  REQUIRE(db->Close().ok());
  delete db;
}

/// Every family of the database in `dir` and its records, as text.
std::string foreign_contents(const fs::path& dir) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.string(), descriptors, &handles, &db).ok());
  std::string text;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      text += names[i] + ":" + it->key().ToString() + "=" + it->value().ToString() + "\n";
    }
  }
  for (auto* handle : handles) {
    (void)db->DestroyColumnFamilyHandle(handle);
  }
  delete db;
  return text;
}

}  // namespace

TEST_SUITE_BEGIN("hostile_dir");

TEST_CASE("issue 26: a link planted at DIR/secondaries is refused; nothing under its target is deleted") {
  TempDir dir;
  const Victim victim(dir);
  make_store(dir / "store");
  fs::create_directory_symlink(victim.folder, dir / "store" / "secondaries");
  check_refused(dir / "store", (dir / "store" / "secondaries").string(), "symbolic link");
  // The default store runs uncached instead, and says why.
  const auto child = memostore::test::run_child("-", {"squares", "3"},
                                 {{"MEMOSTORE_DIR", (dir / "store").string()}});
  CHECK(child.exit_code == 0);
  CHECK(memostore::test::output_value(child.out, "mode") == "off");
  CHECK(memostore::test::output_value(child.out, "computed") == "3");
  CHECK(child.err.find("secondaries") != std::string::npos);
  victim.check_unchanged();
}

TEST_CASE("issue 26: an abandoned secondary folder is removed without following links in it") {
  TempDir dir;
  const Victim victim(dir);
  make_store(dir / "store");
  // A folder named as memostore names them, of a process that is gone,
  // holding a link to the victim; and a folder named otherwise (not ours).
  const fs::path abandoned = dir / "store" / "secondaries" / "999999999-0000abcd";
  fs::create_directories(abandoned);
  fs::create_directory_symlink(victim.folder, abandoned / "link");
  fs::create_directories(dir / "store" / "secondaries" / "not-ours");
  make_store(dir / "store", 2);  // a writing open removes what dead processes left
  CHECK(!fs::exists(fs::symlink_status(abandoned)));
  CHECK(fs::exists(dir / "store" / "secondaries" / "not-ours"));
  victim.check_unchanged();
}

TEST_CASE("issue 26: a link planted at DIR/inflight/<claim> is never written through; the call computes") {
  TempDir dir;
  const Victim victim(dir);
  memostore::test::LogCapture log;
  Store store = Store::open(dir / "store");
  int computed = 0;
  auto f = memostore::memo(store, "f",
                           memostore::state_not_keyed([&](int x) {
                             ++computed;
                             return x * 10;
                           }),
                           {.inflight = memostore::Inflight::shared});
  REQUIRE(f(3) == 30);
  std::string key;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    key = entry.key;
    return false;
  });
  REQUIRE(!key.empty());
  f.forget(3);
  const fs::path claim = dir / "store" / "inflight" / memostore::detail::claim_name(key);
  REQUIRE(fs::exists(claim.parent_path()));
  fs::create_symlink(victim.file, claim);
  CHECK(f(3) == 30);
  CHECK(computed == 2);
  CHECK(log.count(claim.string()) == 1);
  CHECK(log.count("symbolic link") == 1);
  CHECK(fs::is_symlink(claim));
  victim.check_unchanged();
}

TEST_CASE("issue 26: a link planted at DIR/LOG or DIR/LOCK refuses the store; its target is unchanged") {
  for (const char* name : {"LOG", "LOCK"}) {
    CAPTURE(name);
    TempDir dir;
    const Victim victim(dir);
    make_store(dir / "store");
    fs::remove(dir / "store" / name);
    fs::create_symlink(victim.file, dir / "store" / name);
    check_refused(dir / "store", (dir / "store" / name).string(), "symbolic link");
    victim.check_unchanged();
  }
}

TEST_CASE("issue 26: a link planted at DIR/handover refuses the store; no unit in its target is deleted") {
  TempDir dir;
  const Victim victim(dir);
  make_store(dir / "store");
  fs::remove_all(dir / "store" / "handover");
  fs::create_directory_symlink(victim.folder, dir / "store" / "handover");
  check_refused(dir / "store", (dir / "store" / "handover").string(), "symbolic link");
  victim.check_unchanged();
}

TEST_CASE("issue 26: export never writes through a file or link planted at its temporary name") {
  TempDir dir;
  const Victim victim(dir);
  Store store = Store::open(dir / "store");
  auto f = memostore::memo(store, "f", [](int x) { return x + 1; });
  REQUIRE(f(1) == 2);
  const fs::path file = dir / "out.export";
  const fs::path temporary = fs::path(file).concat(".tmp-" + std::to_string(::getpid()));
  fs::create_symlink(victim.file, temporary);
  const std::string message = error_message([&] { (void)memostore::export_to(store, file); }, ErrorCode::io);
  CHECK(message.find(temporary.string()) != std::string::npos);
  CHECK(!fs::exists(file));
  CHECK(fs::is_symlink(temporary));
  victim.check_unchanged();
  fs::remove(temporary);
  CHECK(memostore::export_to(store, file).entries == 1);  // and works once the name is free
}

TEST_CASE("issue 26: a store directory that is itself a link is refused; its target stays untouched") {
  TempDir dir;
  fs::create_directory(dir / "target");
  fs::create_directory_symlink(dir / "target", dir / "link");
  check_refused(dir / "link", (dir / "link").string(), "symbolic link");
  CHECK(fs::is_empty(dir / "target"));
}

TEST_CASE("issue 26: a store writable by group or others is refused unless directory_permissions grants it") {
  TempDir dir;
  make_store(dir / "store");
  fs::permissions(dir / "store", fs::perms::all);
  check_refused(dir / "store", (dir / "store").string(), "writable by others (mode 0777)");
  fs::permissions(dir / "store", fs::perms::owner_all | fs::perms::group_all);
  check_refused(dir / "store", (dir / "store").string(), "writable by its group (mode 0770)");
  // Asked for: a store a group shares.
  Store shared = Store::open({.dir = dir / "store", .directory_permissions = fs::perms::owner_all | fs::perms::group_all});
  auto f = memostore::memo(shared, "f", [](int x) { return x + 1; });
  CHECK(f(1) == 2);
}

TEST_CASE("issue 26: a folder memostore uses that others can write to refuses the store") {
  TempDir dir;
  make_store(dir / "store");
  fs::create_directories(dir / "store" / "inflight");
  fs::permissions(dir / "store" / "inflight", fs::perms::all);
  check_refused(dir / "store", (dir / "store" / "inflight").string(), "mode 0777");
}

TEST_CASE("issue 26: a world-writable sticky parent such as /tmp is fine: only the store is checked") {
  TempDir dir;
  fs::create_directory(dir / "shared");
  fs::permissions(dir / "shared", fs::perms::all | fs::perms::sticky_bit);
  make_store(dir / "shared" / "store");
  CHECK((fs::status(dir / "shared" / "store").permissions() & fs::perms::all) == fs::perms::owner_all);
}

TEST_CASE("issue 26: a store owned by another user is refused, read-only too") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root to give a directory to another user");
    return;
  }
  TempDir dir;
  make_store(dir / "store");
  constexpr uid_t k_nobody = 65534;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "store")) {
    REQUIRE(::lchown(entry.path().c_str(), k_nobody, k_nobody) == 0);
  }
  REQUIRE(::chown((dir / "store").c_str(), k_nobody, k_nobody) == 0);
  check_refused(dir / "store", (dir / "store").string(), "uid 65534");
  // The same store handed back (every folder and file of it) is used again.
  for (const auto& entry : fs::recursive_directory_iterator(dir / "store")) {
    REQUIRE(::lchown(entry.path().c_str(), 0, 0) == 0);
  }
  REQUIRE(::chown((dir / "store").c_str(), 0, 0) == 0);
  Store store = Store::open(dir / "store");
  CHECK(memostore::contents(store).entries == 1);
}

TEST_CASE("issue 26: another program's RocksDB database with an entries family is refused and left unchanged") {
  TempDir dir;
  const fs::path other = dir / "otherapp";
  make_foreign_database(other, {rocksdb::kDefaultColumnFamilyName, "entries"});
  const std::string before = foreign_contents(other);
  REQUIRE(before == "default:k=v\nentries:k=v\n");
  for (const auto mode : {memostore::Mode::readwrite, memostore::Mode::readonly}) {
    const std::string message = error_message([&] { (void)Store::open({.dir = other, .mode = mode}); },
                                              ErrorCode::format);
    CHECK(message.find("not a memostore store") != std::string::npos);
  }
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"verify", "--fix"}, {"verify"}, {"stats"}, {"gc"}, {"repair"}, {"clear"}}) {
    std::vector<std::string> argv = {tool(), "--dir", other.string()};
    argv.insert(argv.end(), command.begin(), command.end());
    const auto result = run_process(argv);
    CAPTURE(command.front());
    CHECK(result.exit_code == 3);
    CHECK(result.err.find("not a memostore store") != std::string::npos);
  }
  CHECK(foreign_contents(other) == before);  // no record removed or added, no family added
}

TEST_CASE("issue 26: a store another process is still creating is waited for, then reported as being created") {
  TempDir dir;
  SUBCASE("its CURRENT file is not written yet") {
    fs::create_directory(dir / "store");
    std::ofstream(dir / "store" / "IDENTITY") << "id";
  }
  SUBCASE("its format record is not written yet") {
    make_foreign_database(dir / "store", {rocksdb::kDefaultColumnFamilyName, "entries", "meta", "stats"});
  }
  const LockHolder creator(dir / "store");
  const auto started = std::chrono::steady_clock::now();
  const auto result = memostore::test::run_tool(dir / "store", {"stats"});
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("is being created by process " + std::to_string(creator.pid())) != std::string::npos);
  CHECK(result.err.find("not a memostore store") == std::string::npos);
  CHECK(waited >= std::chrono::seconds(2));  // it waited for the creator first
  const std::string message =
      error_message([&] { (void)Store::open({.dir = dir / "store", .mode = memostore::Mode::readonly}); },
                    ErrorCode::locked);
  CHECK(message.find("being created") != std::string::npos);
}

TEST_CASE("issue 26: stats while another process creates the store never says it is not a memostore store") {
  for (int round = 0; round < 8; ++round) {
    TempDir dir;
    fs::create_directory(dir / "store");
    fs::permissions(dir / "store", fs::perms::owner_all, fs::perm_options::replace);
    memostore::test::ChildProcess creator({memostore::test::child_program(), (dir / "store").string(), "squares", "5"});
    const auto stats = memostore::test::run_tool(dir / "store", {"stats"});
    CHECK(creator.wait() == 0);
    INFO(stats.err);
    CHECK(stats.err.find("not a memostore store") == std::string::npos);
    // Either it waited and read the new store, or it came before the creator
    // started: the library's words, or the tool's for an empty directory.
    CHECK((stats.exit_code == 0 || stats.err.find("no memostore store at") != std::string::npos ||
           stats.err.find("(it is empty)") != std::string::npos));
  }
}

TEST_SUITE_END();
