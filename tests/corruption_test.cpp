// Damaged store files: flipping bytes in a table file (SST), a blob file, the
// write-ahead log or the MANIFEST never crashes a program or yields a wrong
// value: a store that opens returns correct results (damaged entries are
// recomputed), one that does not gives an error naming the directory, and
// `repair` rebuilds a store whose MANIFEST is damaged.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Store;
using memostore::test::LogCapture;
using memostore::test::TempDir;
using memostore::test::square;

namespace {

constexpr int k_squares = 300;
constexpr int k_big = 8;
constexpr int k_logged_from = 100'000;  // memo_child's keys, left in the write-ahead log

std::string big(int i) { return std::string(40'000, static_cast<char>('A' + i)); }

/// A store with table files, blob files and a write-ahead log that still
/// holds entries (its writer was killed), as a pristine copy to damage.
int build_pristine(const fs::path& dir) {
  {
    Store store = Store::open(dir);
    auto memo_square = memostore::memo(store, "square", &square);
    auto memo_big = memostore::memo(store, "big", &big);
    for (int x = 0; x < k_squares; ++x) {
      (void)memo_square(x);
    }
    for (int i = 0; i < k_big; ++i) {
      (void)memo_big(i);
    }
  }  // the first close of a new store: every family gets a table file, the large values blob files
  memostore::test::ChildProcess writer(
      {memostore::test::child_program(), dir.string(), "squares-from", std::to_string(k_logged_from)});
  int last = k_logged_from - 1;
  for (int i = 0; i < 50; ++i) {
    last = memostore::test::next_returned(writer);
  }
  ::kill(writer.pid(), SIGKILL);
  (void)writer.wait();
  return last;
}

std::vector<fs::path> files_of_kind(const fs::path& dir, const std::string& kind) {
  std::vector<fs::path> files;
  for (const auto& file : fs::directory_iterator(dir)) {
    const std::string name = file.path().filename().string();
    if (file.path().extension() == kind || (kind == "MANIFEST" && name.rfind("MANIFEST-", 0) == 0)) {
      files.push_back(file.path());
    }
  }
  return files;
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.get(byte);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.put(static_cast<char>(byte ^ 0x5a));
}

/// Opens the damaged store and checks every call returns the right value.
/// Returns false if the store could not be opened (the error was checked).
bool check_store(const fs::path& dir, int last_logged) {
  try {
    Store store = Store::open(dir);
    auto memo_square = memostore::memo(store, "square", &square);
    auto memo_big = memostore::memo(store, "big", &big);
    for (int x = 0; x < k_squares; ++x) {
      REQUIRE(memo_square(x) == square(x));
    }
    for (int x = k_logged_from; x <= last_logged; ++x) {
      REQUIRE(memo_square(x) == square(x));
    }
    for (int i = 0; i < k_big; ++i) {
      REQUIRE(memo_big(i) == big(i));
    }
    (void)memostore::verify(store);  // reads everything; must not crash either
    return true;
  } catch (const memostore::Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(dir.string()) != std::string::npos);
    return false;
  }
}

}  // namespace

TEST_SUITE_BEGIN("corruption");

TEST_CASE("flipped bytes in any store file never crash and never give a wrong value") {
  TempDir dir;
  const int last_logged = build_pristine(dir / "pristine");
  LogCapture log;  // damaged reads warn; keep the test output quiet
  for (const std::string kind : {".sst", ".blob", ".log", "MANIFEST"}) {
    const auto pristine_files = files_of_kind(dir / "pristine", kind);
    REQUIRE_MESSAGE(!pristine_files.empty(), "the pristine store has no " << kind << " file");
    int opened = 0;
    int refused = 0;
    for (const fs::path& pristine_file : pristine_files) {
      const std::uint64_t size = fs::file_size(pristine_file);
      for (int step = 0; step < 4; ++step) {
        const std::uint64_t offset = size * static_cast<std::uint64_t>(step) / 4 + 3;
        if (offset >= size) {
          continue;
        }
        const fs::path copy = dir / "damaged";
        fs::remove_all(copy);
        fs::copy(dir / "pristine", copy);
        flip_byte(copy / pristine_file.filename(), offset);
        INFO(kind << " " << pristine_file.filename() << " byte " << offset);
        (check_store(copy, last_logged) ? opened : refused) += 1;
      }
    }
    MESSAGE(kind << ": " << opened << " damaged copies opened with correct results, " << refused
                 << " refused with a clear error");
  }
}

TEST_CASE("a store whose MANIFEST is damaged is refused with an error, and repair brings it back") {
  TempDir dir;
  const fs::path store_dir = dir / "store";
  const int last_logged = build_pristine(store_dir);
  {
    Store store = Store::open(store_dir);  // replays the killed writer's log; a clean close leaves it in the log
  }
  for (const fs::path& manifest : files_of_kind(store_dir, "MANIFEST")) {
    std::ofstream(manifest, std::ios::binary | std::ios::trunc) << std::string(200, '\x7f');
  }
  const std::string message = memostore::test::error_message([&] { (void)Store::open(store_dir); });
  CHECK(message.find(store_dir.string()) != std::string::npos);
  const memostore::VerifyReport repaired = memostore::repair(store_dir);
  CHECK(repaired.entries_checked >= k_squares + k_big);
  // RepairDB cannot keep blob files: the large values are dropped, never wrong.
  CHECK(repaired.removed == k_big);
  Store store = Store::open(store_dir);
  int computed = 0;
  auto memo_square = memostore::memo(store, "square", memostore::state_not_keyed([&](int x) {
    ++computed;
    return square(x);
  }));
  for (int x = 0; x < k_squares; ++x) {
    REQUIRE(memo_square(x) == square(x));
  }
  for (int x = k_logged_from; x <= last_logged; ++x) {  // only ever in a write-ahead log
    REQUIRE(memo_square(x) == square(x));
  }
  CHECK(computed == 0);  // every table file and log was intact: no small entry was lost
  auto memo_big = memostore::memo(store, "big", memostore::state_not_keyed([&](int i) {
    ++computed;
    return big(i);
  }));
  for (int i = 0; i < k_big; ++i) {
    REQUIRE(memo_big(i) == big(i));
  }
  CHECK(computed == k_big);
  CHECK(memostore::verify(store).clean());
  CHECK(store.stats().total.entries == memostore::contents(store).entries);
}

TEST_SUITE_END();
