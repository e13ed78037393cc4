// File and Dir arguments and MemoOptions::depends_on: results follow the
// bytes on disk, an unchanged file is not read again, and a changed one is
// always noticed.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <memostore/memostore.hpp>
#include <xxhash.h>

#include "codec/input_records.hpp"
#include "inputs/content_hash.hpp"
#include "store/store_core.hpp"
#include "support/test_support.hpp"
#include "util/endian.hpp"

namespace fs = std::filesystem;
using memostore::Dir;
using memostore::File;
using memostore::test::TempDir;
using memostore::test::open_store;

using memostore::test::read_file;
using memostore::test::write_file;

namespace {

timespec modification_time(const fs::path& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_mtim;
}

/// What `touch -d` does: sets the modification time back (the change time,
/// which no user can set, moves on).
void restore_modification_time(const fs::path& path, const timespec& mtime) {
  const timespec times[2] = {mtime, mtime};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

/// A clock past the racy window of every file the test writes: fingerprints
/// are remembered at once.
std::shared_ptr<memostore::ManualClock> settled_clock() {
  return std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now() + std::chrono::hours(1));
}

}  // namespace

TEST_CASE("a changed byte recomputes even with the same size and a restored modification time") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  const fs::path data = tmp / "data/prices.csv";
  write_file(data, "1,2,3");
  std::atomic<int> computed{0};
  auto load = memostore::memo(store, "load", memostore::state_not_keyed([&](const File& f) {
    ++computed;
    return read_file(f.path());
  }));

  CHECK(load(File(data)) == "1,2,3");
  CHECK(load(File(data)) == "1,2,3");
  CHECK(computed == 1);
  CHECK(store.stats().inputs.files_checked == 1);  // the second call only looked at the identity

  const timespec mtime = modification_time(data);
  write_file(data, "1,2,4");
  restore_modification_time(data, mtime);
  CHECK(load(File(data)) == "1,2,4");
  CHECK(computed == 2);
}

TEST_CASE("the same bytes at another path hit; the path is not part of the key") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  write_file(tmp / "a/prices.csv", "10,20");
  std::atomic<int> computed{0};
  auto load = memostore::memo(store, "load", memostore::state_not_keyed([&](const File& f) {
    ++computed;
    return read_file(f.path());
  }));
  CHECK(load(File(tmp / "a/prices.csv")) == "10,20");
  fs::copy_file(tmp / "a/prices.csv", tmp / "b.csv");
  fs::rename(tmp / "a", tmp / "moved");
  CHECK(load(File(tmp / "b.csv")) == "10,20");
  CHECK(load(File(tmp / "moved/prices.csv")) == "10,20");
  CHECK(computed == 1);
  CHECK(load.cached(File(tmp / "b.csv")));
}

TEST_CASE("an unchanged file is not read again, also after a restart; FileCheck::content reads it every time") {
  TempDir tmp;
  const fs::path data = tmp / "big.bin";
  write_file(data, std::string(1 << 20, 'x'));
  auto size_of = [](const File& f) { return static_cast<std::uint64_t>(fs::file_size(f.path())); };
  {
    auto store = open_store(tmp / "store", {.clock = settled_clock()});
    auto measure = memostore::memo(store, "measure", size_of);
    for (int i = 0; i < 5; ++i) {
      CHECK(measure(File(data)) == 1u << 20);
    }
    const auto inputs = store.stats().inputs;
    CHECK(inputs.files_hashed == 1);
    CHECK(inputs.bytes_hashed == 1u << 20);
    CHECK(inputs.files_checked == 4);
  }
  {
    auto store = open_store(tmp / "store", {.clock = settled_clock()});  // the hash is remembered in the store
    auto measure = memostore::memo(store, "measure", size_of);
    CHECK(measure(File(data)) == 1u << 20);
    CHECK(store.stats().inputs.files_hashed == 0);
    CHECK(store.stats().inputs.files_checked == 1);
  }
  {
    auto store = memostore::Store::open(
        {.dir = tmp / "store", .file_check = memostore::FileCheck::content, .clock = settled_clock()});
    auto measure = memostore::memo(store, "measure", size_of);
    CHECK(measure(File(data)) == 1u << 20);
    CHECK(measure(File(data)) == 1u << 20);
    CHECK(store.stats().inputs.files_hashed == 2);
    CHECK(store.stats().inputs.files_checked == 0);
  }
  {
    memostore::test::ScopedEnv check("MEMOSTORE_FILE_CHECK", "content");
    auto store = open_store(tmp / "store", {.clock = settled_clock()});
    auto measure = memostore::memo(store, "measure", size_of);
    CHECK(measure(File(data)) == 1u << 20);
    CHECK(store.stats().inputs.files_hashed == 1);
  }
}

TEST_CASE("a file changed within the racy window is hashed on every call") {
  TempDir tmp;
  // The real time: the file was written just now, so its identity cannot be
  // trusted yet (a same-size write in the same timestamp tick would keep it).
  auto store = open_store(tmp / "store", {.clock = memostore::system_clock()});
  write_file(tmp / "fresh.txt", "v1");
  auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
  CHECK(load(File(tmp / "fresh.txt")) == "v1");
  CHECK(load(File(tmp / "fresh.txt")) == "v1");
  CHECK(store.stats().inputs.files_hashed == 2);
  CHECK(store.stats().inputs.files_checked == 0);
}

TEST_CASE("a directory's fingerprint follows its files: added, removed, renamed, edited; not excluded ones") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  const fs::path corpus = tmp / "corpus";
  write_file(corpus / "a.csv", "a");
  write_file(corpus / "sub/b.csv", "b");
  write_file(corpus / "notes.txt", "ignored");
  std::atomic<int> computed{0};
  auto concat = memostore::memo(store, "concat", memostore::state_not_keyed([&](const Dir& d) {
    ++computed;
    std::string all;
    for (const fs::path& file : d.files()) {
      all += fs::relative(file, d.path()).generic_string() + "=" + read_file(file) + ";";
    }
    return all;
  }));
  auto call = [&] { return concat(Dir(corpus, "*.csv")); };

  CHECK(call() == "a.csv=a;sub/b.csv=b;");
  CHECK(call() == "a.csv=a;sub/b.csv=b;");
  CHECK(computed == 1);

  write_file(corpus / "notes.txt", "changed, but excluded");
  write_file(corpus / "more.txt", "also excluded");
  CHECK(call() == "a.csv=a;sub/b.csv=b;");
  CHECK(computed == 1);

  write_file(corpus / "c.csv", "c");
  CHECK(call() == "a.csv=a;c.csv=c;sub/b.csv=b;");
  CHECK(computed == 2);

  fs::remove(corpus / "c.csv");
  CHECK(call() == "a.csv=a;sub/b.csv=b;");
  CHECK(computed == 2);  // back to the first tree: its entry hits

  fs::rename(corpus / "a.csv", corpus / "z.csv");
  CHECK(call() == "sub/b.csv=b;z.csv=a;");
  CHECK(computed == 3);

  write_file(corpus / "sub/b.csv", "B");
  CHECK(call() == "sub/b.csv=B;z.csv=a;");
  CHECK(computed == 4);

  // A pattern with '/' matches relative paths.
  CHECK(concat(Dir(corpus, "sub/*.csv")) == "sub/b.csv=B;");
}

TEST_CASE("depends_on: a file or directory the arguments do not show joins every key") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  const fs::path config = tmp / "config/model.yaml";
  const fs::path data = tmp / "data";
  write_file(config, "depth: 3");
  write_file(data / "x.csv", "1");
  std::atomic<int> computed{0};
  auto train = memostore::memo(
      store, "train",
      memostore::state_not_keyed([&](int seed) {
        ++computed;
        return seed + static_cast<int>(read_file(tmp / "config/model.yaml").size());
      }),
      {.depends_on = {config, tmp / "data/"}});

  CHECK(train(1) == 9);
  CHECK(train(1) == 9);
  CHECK(computed == 1);
  write_file(config, "depth: 10");
  CHECK(train(1) == 10);
  CHECK(computed == 2);
  write_file(data / "y.csv", "2");
  CHECK(train(1) == 10);
  CHECK(computed == 3);
  CHECK(train(1) == 10);
  CHECK(computed == 3);
}

TEST_CASE("MEMOSTORE_EXPLAIN names the input that changed") {
  TempDir tmp;
  memostore::test::ScopedEnv explain("MEMOSTORE_EXPLAIN", "1");
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  const fs::path data = tmp / "data/prices.csv";
  write_file(data, "old");
  auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
  (void)load(File(data));
  write_file(data, "new!");

  memostore::test::LogCapture log;
  CHECK(load(File(data)) == "new!");
  bool named = false;
  for (const std::string& line : log.infos()) {
    named = named || (line.find("input file") != std::string::npos &&
                      line.find(fs::absolute(data).string()) != std::string::npos && line.find("changed") != std::string::npos);
  }
  CHECK_MESSAGE(named, "explained misses: ", log.infos().empty() ? "none" : log.infos().back());
}

TEST_CASE("a missing input is an error naming it; nothing is computed or stored") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  std::atomic<int> computed{0};
  auto load = memostore::memo(store, "load", memostore::state_not_keyed([&](const File& f) {
    ++computed;
    return read_file(f.path());
  }));
  const std::string message =
      memostore::test::error_message([&] { (void)load(File(tmp / "missing.csv")); }, memostore::ErrorCode::io);
  CHECK(message.find("missing.csv") != std::string::npos);
  CHECK(message.find("No such file") != std::string::npos);
  CHECK(message.find("load") != std::string::npos);
  CHECK(computed == 0);
  CHECK(store.stats().total.entries == 0);

  const std::string dir_message =
      memostore::test::error_message([&] { (void)load(File(tmp.path())); }, memostore::ErrorCode::io);
  CHECK(dir_message.find("memostore::Dir") != std::string::npos);

  auto depends = memostore::memo(store, "depends", [](int x) { return x; }, {.depends_on = {tmp / "absent.yaml"}});
  CHECK(memostore::test::error_message([&] { (void)depends(1); }, memostore::ErrorCode::io).find("absent.yaml") !=
        std::string::npos);
}

TEST_CASE("entries record their inputs; listings filter by them") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  write_file(tmp / "in/a.csv", "a");
  write_file(tmp / "in/b.csv", "b");
  auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
  auto plain = memostore::memo(store, "plain", [](int x) { return x; });
  (void)load(File(tmp / "in/a.csv"));
  (void)load(File(tmp / "in/b.csv"));
  (void)plain(1);

  std::vector<memostore::EntrySummary> listed;
  memostore::for_each_entry(store, {.input = tmp / "in/a.csv"}, [&](const auto& entry) {
    listed.push_back(entry);
    return true;
  });
  REQUIRE(listed.size() == 1);
  REQUIRE(listed[0].inputs.size() == 1);
  CHECK(listed[0].inputs[0].path == fs::absolute(tmp / "in/a.csv").lexically_normal().string());
  CHECK_FALSE(listed[0].inputs[0].directory);
  CHECK(listed[0].inputs[0].hash.size() == 32);

  int under_directory = 0;
  memostore::for_each_entry(store, {.input = tmp / "in/"}, [&](const auto&) { return ++under_directory, true; });
  CHECK(under_directory == 2);
  int all = 0;
  memostore::for_each_entry(store, {}, [&](const auto&) { return ++all, true; });
  CHECK(all == 3);
}

TEST_CASE("a File inside a result is its path; a singleton refuses File arguments") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  write_file(tmp / "x.txt", "x");
  auto locate = memostore::memo(store, "locate", memostore::state_not_keyed([&](int) { return File(tmp / "x.txt"); }));
  CHECK(locate(1).path() == tmp / "x.txt");
  CHECK(locate(1).path() == tmp / "x.txt");

  // A File argument does not compile (tests/compile_fail/singleton_file_argument.cpp); one inside
  // another argument is refused when the key is made.
  auto model = memostore::singleton("model", [](const std::vector<File>& files) {
    return std::make_shared<std::string>(read_file(files.front().path()));
  });
  const std::string message = memostore::test::error_message([&] { (void)model(std::vector{File(tmp / "x.txt")}); },
                                                             memostore::ErrorCode::usage);
  CHECK(message.find("only memostore::memo") != std::string::npos);
  CHECK(message.find("pass the path as a std::string (") != std::string::npos);
}

TEST_CASE("gc drops the remembered hashes of files that are gone or changed, and keeps the others") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  for (const char* name : {"keep.txt", "gone.txt", "changed.txt"}) {
    write_file(tmp / name, name);
  }
  auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
  for (const char* name : {"keep.txt", "gone.txt", "changed.txt"}) {
    (void)load(File(tmp / name));
  }
  fs::remove(tmp / "gone.txt");
  write_file(tmp / "changed.txt", "changed!");
  CHECK(store.gc().stale_file_records == 2);
  CHECK(store.gc().stale_file_records == 0);

  const auto before = store.stats().inputs;
  CHECK(load(File(tmp / "keep.txt")) == "keep.txt");
  CHECK(store.stats().inputs.files_checked == before.files_checked + 1);  // still remembered
  CHECK(store.stats().inputs.files_hashed == before.files_hashed);
}

namespace {

std::vector<memostore::EntryInput> inputs_of_only_entry(const memostore::Store& store) {
  std::vector<memostore::EntrySummary> entries;
  memostore::for_each_entry(store, {}, [&](const auto& entry) {
    entries.push_back(entry);
    return true;
  });
  REQUIRE(entries.size() == 1);
  return entries[0].inputs;
}

/// An export file of version 1 (before input records) holding every entry of
/// `store`, written by hand from docs/format.md.
void write_version_1_export(const memostore::Store& store, const fs::path& file) {
  std::string bytes = "MEMOSTORE-EXPORT";
  auto append_u32 = [&](std::uint32_t v) {
    char b[4];
    memostore::detail::put_u32le(b, v);
    bytes.append(b, 4);
  };
  auto append_u64 = [&](std::uint64_t v) {
    char b[8];
    memostore::detail::put_u64le(b, v);
    bytes.append(b, 8);
  };
  append_u32(1);
  std::uint64_t records = 0;
  REQUIRE(memostore::detail::core_of(store)->database()->for_each(memostore::detail::Family::entries, "",
                                             [&](std::string_view key, std::string_view envelope) {
                                               bytes += 'E';
                                               append_u32(static_cast<std::uint32_t>(key.size()));
                                               bytes.append(key);
                                               append_u64(envelope.size());
                                               bytes.append(envelope);
                                               append_u64(0);
                                               ++records;
                                               return true;
                                             }));
  bytes += 'Z';
  append_u64(records);
  append_u64(XXH3_64bits(bytes.data(), bytes.size()));
  std::ofstream(file, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("export, import and merge carry an entry's input files; an export of version 1 still imports") {
  TempDir tmp;
  write_file(tmp / "data.csv", "1,2");
  {
    auto store = open_store(tmp / "store", {.clock = settled_clock()});
    auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
    (void)load(File(tmp / "data.csv"));
    memostore::export_to(store, tmp / "all.export");
    write_version_1_export(store, tmp / "v1.export");
  }
  const auto recorded = inputs_of_only_entry(open_store(tmp / "store", {.clock = settled_clock()}));
  REQUIRE(recorded.size() == 1);

  auto imported = memostore::Store::open(tmp / "imported");
  CHECK(memostore::import_from(imported, tmp / "all.export").entries == 1);
  const auto after_import = inputs_of_only_entry(imported);
  REQUIRE(after_import.size() == 1);
  CHECK(after_import[0].path == recorded[0].path);
  CHECK(after_import[0].hash == recorded[0].hash);

  auto merged = memostore::Store::open(tmp / "merged");
  CHECK(memostore::merge_from(merged, tmp / "store").entries == 1);
  CHECK(inputs_of_only_entry(merged).size() == 1);

  auto old = memostore::Store::open(tmp / "from-v1");
  CHECK(memostore::import_from(old, tmp / "v1.export").entries == 1);
  CHECK(inputs_of_only_entry(old).empty());  // version 1 files have no input records
  auto load = memostore::memo(old, "load", [](const File&) -> std::string { FAIL("computed"); return {}; });
  CHECK(load(File(tmp / "data.csv")) == "1,2");  // the entry still hits
}

TEST_CASE("a readonly store uses the remembered hashes but remembers nothing new") {
  TempDir tmp;
  write_file(tmp / "old.txt", "old");
  write_file(tmp / "new.txt", "new");
  {
    auto store = open_store(tmp / "store", {.clock = settled_clock()});
    auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
    (void)load(File(tmp / "old.txt"));
  }
  for (int run = 0; run < 2; ++run) {
    auto store = memostore::Store::open(
        {.dir = tmp / "store", .mode = memostore::Mode::readonly, .clock = settled_clock()});
    auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
    CHECK(load(File(tmp / "old.txt")) == "old");
    CHECK(load(File(tmp / "new.txt")) == "new");
    CHECK(store.stats().inputs.files_checked == 1);  // old.txt, both runs
    CHECK(store.stats().inputs.files_hashed == 1);   // new.txt, both runs: nothing was written
  }
}

TEST_CASE("with a secret, a planted file hash record cannot make one file pass for another") {
  TempDir tmp;
  write_file(tmp / "a.txt", "content of a");
  write_file(tmp / "b.txt", "content of b");
  auto open = [&](const char* secret) {
    return memostore::Store::open({.dir = tmp / "store", .secret = secret, .clock = settled_clock()});
  };
  memostore::detail::Hash128 hash_of_a;
  {
    auto store = open("the secret");
    auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
    CHECK(load(File(tmp / "a.txt")) == "content of a");
    CHECK(load(File(tmp / "b.txt")) == "content of b");
    hash_of_a = memostore::detail::hash_file(tmp / "a.txt").value().hash;
  }
  // Someone who can write the store (but has not the secret) claims that b.txt,
  // as it is now, holds a's bytes: unsigned, and signed with another secret.
  for (const char* planter : {"", "another secret"}) {
    {
      auto store = open(planter);
      const auto b = fs::absolute(tmp / "b.txt").lexically_normal();
      const std::string key = memostore::detail::file_record_key(b.native());
      std::string record = memostore::detail::encode_file_record(
          {memostore::detail::stat_file(b).value(), hash_of_a});
      if (const auto* signer = memostore::detail::core_of(store)->signer()) {
        const auto signature = signer->sign(key, record).value();
        record.append(reinterpret_cast<const char*>(signature.data()), signature.size());
      }
      REQUIRE(memostore::detail::core_of(store)->database()->put(memostore::detail::Family::store, key, record));
    }
    auto store = open("the secret");
    auto load = memostore::memo(store, "load", [](const File& f) { return read_file(f.path()); });
    CHECK(load(File(tmp / "b.txt")) == "content of b");
    CHECK(store.stats().inputs.files_hashed == 1);  // the planted record was not used
  }
}

TEST_CASE("threads fingerprinting the same and different inputs at once agree") {
  TempDir tmp;
  auto store = open_store(tmp / "store", {.clock = settled_clock()});
  for (int i = 0; i < 8; ++i) {
    write_file(tmp / "tree" / (std::to_string(i) + ".txt"), std::string(1000 + i, 'a' + i));
  }
  std::atomic<int> computed{0};
  auto size_of = memostore::memo(store, "size_of", memostore::state_not_keyed([&](const File& f) {
    ++computed;
    return static_cast<std::uint64_t>(fs::file_size(f.path()));
  }));
  auto files = memostore::memo(store, "files", [](const Dir& d) { return d.files().size(); });
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        const int i = (t + round) % 8;
        wrong += size_of(File(tmp / "tree" / (std::to_string(i) + ".txt"))) != 1000u + static_cast<unsigned>(i);
        wrong += files(Dir(tmp / "tree")) != 8u;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == 0);
  CHECK(computed == 8);
}
