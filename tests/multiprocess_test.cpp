// Several processes on one cache directory: the first holds RocksDB's lock
// (primary), the others share it as secondaries that hand their writes over.
// Database-level cases use two instances in this process (RocksDB's lock is
// per process, so the second becomes a secondary) and call catch_up() instead
// of waiting; store-level cases use real child processes.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/vector.hpp>
#include <fmt/format.h>
#include <memostore/memostore.hpp>

#include "tiers/process_claim.hpp"
#include "storage/handover.hpp"
#include "store/store_core.hpp"
#include "support/database.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Store;
using memostore::detail::Batch;
using memostore::detail::Database;
using memostore::detail::Family;
using memostore::test::ChildProcess;
using memostore::test::TempDir;
using memostore::test::open_database;
using memostore::test::counting_square;
using memostore::test::square;

namespace {

/// The value under `key`, or "<absent>".
std::string read(const Database& database, std::string_view key, Family family = Family::entries) {
  std::string value = "<absent>";
  auto found = database.get(family, key, [&](std::string_view v) { value = std::string(v); });
  REQUIRE(found);
  return value;
}

std::uint64_t counter(const Database& database, std::string_view key) {
  std::uint64_t value = 0;
  REQUIRE(database.get(Family::stats, key, [&](std::string_view v) { value = memostore::detail::decode_counter(v); }));
  return value;
}

constexpr std::string_view k_counter{"f\0hits", 6};

}  // namespace

TEST_SUITE_BEGIN("multiprocess");

TEST_CASE("a second opener shares the store: it reads its own writes at once and the primary applies them") {
  TempDir dir;
  auto primary = open_database(dir.path());
  auto secondary = open_database(dir.path());
  CHECK_FALSE(primary->secondary());
  REQUIRE(secondary->secondary());

  REQUIRE(secondary->put(Family::entries, "k1", "from the secondary"));
  CHECK(read(*secondary, "k1") == "from the secondary");  // at once, before anyone applied it
  CHECK(memostore::detail::pending_units(dir.path()).size() == 1);
  CHECK(read(*primary, "k1") == "<absent>");
  REQUIRE(primary->catch_up());  // applies the unit
  CHECK(memostore::detail::pending_units(dir.path()).empty());
  CHECK(read(*primary, "k1") == "from the secondary");

  REQUIRE(primary->put(Family::entries, "k2", "from the primary"));
  // Visible after the next catch-up at the latest (entries may show sooner: a
  // secondary reads them through a read-only instance opened on demand).
  REQUIRE(secondary->catch_up());
  CHECK(read(*secondary, "k2") == "from the primary");
  CHECK(read(*secondary, "k1") == "from the secondary");  // now through the database, not its own record

  // Removals, range removals and counters travel the same way.
  Batch batch(*secondary);
  batch.remove(Family::entries, "k2");
  batch.add(k_counter, 5);
  REQUIRE(secondary->write(batch));
  REQUIRE(secondary->put(Family::entries, "p/1", "x"));
  REQUIRE(secondary->put(Family::entries, "p/2", "y"));
  REQUIRE(secondary->remove_prefix({Family::entries}, "p/"));
  REQUIRE(secondary->put(Family::entries, "p/3", "written after the range removal"));
  CHECK(read(*secondary, "k2") == "<absent>");
  CHECK(read(*secondary, "p/1") == "<absent>");
  CHECK(read(*secondary, "p/3") == "written after the range removal");
  REQUIRE(primary->catch_up());
  CHECK(read(*primary, "k2") == "<absent>");
  CHECK(read(*primary, "p/2") == "<absent>");
  CHECK(read(*primary, "p/3") == "written after the range removal");
  CHECK(counter(*primary, k_counter) == 5);
}

TEST_CASE("a damaged hand-over unit is discarded with a warning, never applied") {
  TempDir dir;
  memostore::test::LogCapture log;
  auto primary = open_database(dir.path());
  auto secondary = open_database(dir.path());
  REQUIRE(secondary->put(Family::entries, "k", "value"));
  const auto units = memostore::detail::pending_units(dir.path());
  REQUIRE(units.size() == 1);
  {
    std::fstream file(units[0], std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(14);
    file.put('#');
  }
  REQUIRE(primary->catch_up());
  CHECK(read(*primary, "k") == "<absent>");
  CHECK(memostore::detail::pending_units(dir.path()).empty());
  CHECK(log.count("damaged hand-over unit") == 1);
}

TEST_CASE("units left when the primary is gone are applied by the last secondary to close, or the next opener") {
  TempDir dir;
  {
    auto primary = open_database(dir.path());
    auto secondary = open_database(dir.path());
    primary.reset();  // the primary goes first
    REQUIRE(secondary->put(Family::entries, "late", "handed over after the primary closed"));
  }  // the secondary applies it as primary on its way out
  CHECK(memostore::detail::pending_units(dir.path()).empty());
  auto reopened = open_database(dir.path());
  CHECK(read(*reopened, "late") == "handed over after the primary closed");
}

TEST_CASE("when the primary goes, a running secondary takes over applying everyone's units") {
  TempDir dir;
  auto primary = open_database(dir.path());
  auto first = open_database(dir.path());
  auto second = open_database(dir.path());
  primary.reset();
  // Either secondary may take the lock (their background threads try too);
  // a unit is applied by whichever did, and seen by the other when it catches up.
  const auto seen_by_second = [&](std::string_view key, std::string_view value) {
    for (int round = 0; round < 1000; ++round) {
      REQUIRE(first->catch_up());
      REQUIRE(second->catch_up());
      if (read(*second, key) == value) {
        return true;
      }
      std::this_thread::yield();
    }
    return false;
  };
  REQUIRE(first->put(Family::entries, "k", "handed over with no primary"));
  CHECK(seen_by_second("k", "handed over with no primary"));
  REQUIRE(first->put(Family::entries, "k2", "applied by the new applier"));
  CHECK(seen_by_second("k2", "applied by the new applier"));
}

TEST_CASE("a store another process holds is shared: this one's results reach it") {
  TempDir dir;
  ChildProcess holder({memostore::test::child_program(), (dir / "cache").string(), "hold"});
  REQUIRE(holder.read_line() == "ready");
  int computed = 0;
  {
    Store store = Store::open(dir / "cache");
    REQUIRE(memostore::detail::core_of(store)->database()->secondary());
    auto memo_square = counting_square(store, computed);
    for (int i = 0; i < 20; ++i) {
      CHECK(memo_square(i) == square(i));
    }
    for (int i = 0; i < 20; ++i) {
      CHECK(memo_square(i) == square(i));  // its own writes hit at once
    }
    CHECK(computed == 20);
    // Commands that need the store alone say who holds it.
    const std::string message =
        memostore::test::error_message([&] { memostore::compact(store); }, memostore::ErrorCode::locked);
    CHECK(message.find(fmt::format("process {} (memo_child)", holder.pid())) != std::string::npos);
  }
  holder.close_stdin();
  REQUIRE(holder.wait() == 0);
  Store store = Store::open(dir / "cache");
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < 20; ++i) {
    CHECK(memo_square(i) == square(i));
  }
  CHECK(computed == 20);
  CHECK(memostore::verify(store).clean());
}

TEST_CASE("Store::catch_up makes another running process's results visible at once") {
  TempDir dir;
  Store store = Store::open(dir / "cache");  // this process holds the store
  REQUIRE_FALSE(memostore::detail::core_of(store)->database()->secondary());
  // Another process shares it, stores ten results and exits; they wait in its hand-over files.
  ChildProcess other({memostore::test::child_program(), (dir / "cache").string(), "squares", "10"});
  REQUIRE(other.wait() == 0);
  store.catch_up();
  CHECK(memostore::detail::pending_units(dir / "cache").empty());
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < 10; ++i) {
    CHECK(memo_square(i) == square(i));
  }
  CHECK(computed == 0);
}

TEST_CASE("four processes on overlapping keys, one killed mid-run: every returned result survives") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  const std::string child = memostore::test::child_program();
  // Started together on a directory that does not exist yet: one creates it,
  // the others wait for it and share it.
  ChildProcess a({child, cache, "squares-range", "0", "300"});
  ChildProcess b({child, cache, "squares-range", "150", "450"});
  ChildProcess c({child, cache, "squares-range", "300", "600"});
  ChildProcess killed({child, cache, "squares-from", "250"});

  std::set<int> stored;
  const auto killed_returned = memostore::test::returned_numbers(killed, 120);
  REQUIRE(killed_returned.size() == 120);
  ::kill(killed.pid(), SIGKILL);
  CHECK(killed.wait() == 128 + SIGKILL);
  stored.insert(killed_returned.begin(), killed_returned.end());
  for (ChildProcess* finished : {&a, &b, &c}) {
    std::string summary;
    const auto numbers = memostore::test::returned_numbers(*finished, 0, &summary);
    CHECK(finished->wait() == 0);
    INFO("stderr: " << finished->err());
    CHECK(memostore::test::output_value(summary, "wrong") == "0");
    CHECK(numbers.size() == 300);
    stored.insert(numbers.begin(), numbers.end());
  }
  REQUIRE(stored.size() >= 600);

  Store store = Store::open(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  for (int i : stored) {
    CHECK(memo_square(i) == square(i));
  }
  CHECK(computed == 0);  // the union of what every process returned
  CHECK(memostore::verify(store).clean());
  CHECK(memostore::detail::pending_units(dir / "cache").empty());
}

/// Reads `child`'s lines until one contains `text`; false at end of output,
/// or at a line containing `instead` (so a broken feature fails, not hangs).
using memostore::test::wait_for_line;

TEST_CASE("share_inflight: a process waits for another's computation of the same call instead of repeating it") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  memostore::test::check_waiter_takes_owners_result(
      cache, cache, [](int owner_pid) { return fmt::format("waiting for process {}", owner_pid); });
}

TEST_CASE("default options: processes started together on one directory compute a new expensive call once") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  const std::string child = memostore::test::child_program();
  ChildProcess owner({child, cache, "default-square", "7"});
  REQUIRE(wait_for_line(owner, "computing"));
  std::vector<std::unique_ptr<ChildProcess>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{child, cache, "default-square", "7"}));
    REQUIRE(wait_for_line(*waiters.back(), fmt::format("waiting for process {}", owner.pid()), "computing"));
  }
  owner.close_stdin();
  CHECK(owner.wait() == 0);
  for (auto& waiter : waiters) {
    waiter->close_stdin();  // had it computed after all, this would let it finish (and the checks fail)
    CHECK(waiter->wait() == 0);
    CHECK(memostore::test::output_value(waiter->out(), "result") == "49");
    CHECK(memostore::test::output_value(waiter->out(), "computed") == "0");
  }
}

TEST_CASE("default options: a function cheaper than a claim is not claimed after its first computation") {
  TempDir dir;
  Store store = Store::open(dir / "cache");
  auto f = memostore::memo(store, "cheap", [](int x) { return x + 1; });
  CHECK(f(1) == 2);  // not computed yet: worth a claim, which leaves its folder
  REQUIRE(fs::exists(dir / "cache" / "inflight"));
  fs::remove_all(dir / "cache" / "inflight");
  for (int x = 2; x < 10; ++x) {
    CHECK(f(x) == x + 1);
  }
  CHECK_FALSE(fs::exists(dir / "cache" / "inflight"));  // no claim since: the folder was not made again
}

TEST_CASE("share_inflight: a killed owner releases its claim at once, and the waiter computes") {
  TempDir dir;
  const std::string cache = (dir / "cache").string();
  ChildProcess owner({memostore::test::child_program(), cache, "claimed-square", "7"});
  REQUIRE(wait_for_line(owner, "computing"));
  ChildProcess waiter({memostore::test::child_program(), cache, "claimed-square", "7"});
  REQUIRE(wait_for_line(waiter, "waiting for process", "computing"));
  ::kill(owner.pid(), SIGKILL);
  CHECK(owner.wait() == 128 + SIGKILL);
  REQUIRE(wait_for_line(waiter, "computing"));
  waiter.close_stdin();
  CHECK(waiter.wait() == 0);
  CHECK(memostore::test::output_value(waiter.out(), "result") == "49");
  CHECK(memostore::test::output_value(waiter.out(), "computed") == "1");
}

TEST_CASE("share_inflight: nobody waits longer than the lease for a live owner") {
  TempDir dir;
  memostore::test::LogCapture log;
  auto clock = std::make_shared<memostore::ManualClock>();
  Store store = Store::open({.dir = dir.path(), .clock = clock});
  int computed = 0;
  auto f = memostore::memo(store, "f",
                           memostore::state_not_keyed([&](int x) {
                             ++computed;
                             return x + 1;
                           }),
                           {.inflight = memostore::Inflight::shared, .inflight_lease = std::chrono::minutes(5)});
  REQUIRE(f(3) == 4);
  std::string key;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    key = entry.key;
    return false;
  });
  f.forget(3);
  // Another owner holds the claim (a claim is an flock, so a second one conflicts even in this process).
  auto held = memostore::detail::ProcessClaim::try_claim(dir.path(), key, false);
  REQUIRE(held);
  REQUIRE(std::holds_alternative<memostore::detail::ProcessClaim>(*held));
  std::atomic<bool> done{false};
  std::thread time_passes([&] {
    while (!done) {
      clock->advance(std::chrono::minutes(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  CHECK(f(3) == 4);
  done = true;
  time_passes.join();
  CHECK(computed == 2);
  CHECK(log.count("longer than inflight_lease") == 1);
}

TEST_CASE("a cache directory copied or moved to another path still hits") {
  TempDir dir;
  int computed = 0;
  const auto use = [&](const std::filesystem::path& at) {
    Store store = Store::open(at);
    auto memo_square = counting_square(store, computed);
    for (int i = 0; i < 50; ++i) {
      CHECK(memo_square(i) == square(i));
    }
  };
  use(dir / "original");
  REQUIRE(computed == 50);
  std::filesystem::copy(dir / "original", dir / "copy", std::filesystem::copy_options::recursive);
  std::filesystem::rename(dir / "original", dir / "moved");
  use(dir / "copy");
  use(dir / "moved");
  CHECK(computed == 50);
}

// --- Processes that only read ---

namespace {

/// The names of the files a read-write open of RocksDB makes or replaces
/// (MANIFEST, OPTIONS, write-ahead logs) and its tables.
std::set<std::string> database_files(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const std::string extension = entry.path().extension().string();
    if (name.rfind("MANIFEST-", 0) == 0 || name.rfind("OPTIONS-", 0) == 0 || extension == ".log" ||
        extension == ".sst") {
      names.insert(name);
    }
  }
  return names;
}

std::size_t bookkeeping_units(const std::filesystem::path& dir) {
  std::size_t units = 0;
  for (const auto& unit : memostore::detail::pending_units(dir)) {
    units += memostore::detail::is_bookkeeping_unit(unit) ? 1 : 0;
  }
  return units;
}

/// Runs `memo_child dir squares n`; returns how many it computed.
int run_squares(const std::filesystem::path& dir, int n) {
  const auto run = memostore::test::run_child(dir, {"squares", std::to_string(n)});
  REQUIRE_MESSAGE(run.exit_code == 0, (run.out + run.err));
  return std::stoi(memostore::test::output_value(run.out, "computed"));
}

}  // namespace

TEST_CASE("a process that only hits leaves the database's files alone and hands its hit counts over") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 20) == 20);
  const auto before = database_files(dir.path());
  REQUIRE(run_squares(dir.path(), 20) == 0);
  // A read-write open would have written a new MANIFEST, OPTIONS file and log.
  CHECK(database_files(dir.path()) == before);
  CHECK(bookkeeping_units(dir.path()) == 1);

  Store store = Store::open(dir.path());
  const memostore::StoreStats stats = store.stats();  // applies the waiting bookkeeping first
  CHECK(stats.total.hits == 20);
  CHECK(stats.total.misses == 20);
  CHECK(bookkeeping_units(dir.path()) == 0);
  // Each entry's hit (and last use, in the same records) arrived too.
  int entries = 0;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    CHECK(entry.hits == 1);
    ++entries;
    return true;
  });
  CHECK(entries == 20);
}

TEST_CASE("every few processes that only hit, one applies what the others handed over") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 10) == 10);
  constexpr std::size_t waiting_at_most = memostore::detail::k_bookkeeping_units_before_apply;
  for (std::size_t run = 1; run <= waiting_at_most; ++run) {
    REQUIRE(run_squares(dir.path(), 10) == 0);
    CHECK(bookkeeping_units(dir.path()) == run);
  }
  const auto before = database_files(dir.path());
  REQUIRE(run_squares(dir.path(), 10) == 0);  // finds too many waiting: opens for writing and applies them
  CHECK(bookkeeping_units(dir.path()) == 0);
  CHECK(database_files(dir.path()) != before);

  memostore::StoreStats stats;
  {
    Store readonly = Store::open(memostore::StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly});
    stats = readonly.stats();
  }
  CHECK(stats.total.hits == 10 * (waiting_at_most + 1));
}

TEST_CASE("a damaged bookkeeping unit is discarded with a warning that says what is lost") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 10) == 10);
  REQUIRE(run_squares(dir.path(), 10) == 0);
  const auto units = memostore::detail::pending_units(dir.path());
  REQUIRE(units.size() == 1);
  std::filesystem::resize_file(units[0], std::filesystem::file_size(units[0]) / 2);  // torn, as by a power loss
  memostore::test::LogCapture log;
  Store store = Store::open(dir.path());
  CHECK(store.stats().total.hits == 0);
  CHECK(bookkeeping_units(dir.path()) == 0);
  CHECK(log.count("the hit counts and access times it held are lost") == 1);
  REQUIRE(run_squares(dir.path(), 10) == 0);  // still hits: only bookkeeping was lost
}

TEST_CASE("apply_waiting_bookkeeping lets a readonly store count the hits that wait") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 10) == 10);
  REQUIRE(run_squares(dir.path(), 10) == 0);
  const auto readonly_hits = [&] {
    Store readonly = Store::open(memostore::StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly});
    return readonly.stats().total.hits;
  };
  CHECK(readonly_hits() == 0);  // readonly never writes: the hits wait
  {
    Store holder = Store::open(dir.path());
    CHECK_FALSE(memostore::apply_waiting_bookkeeping(dir.path()));  // the holder applies them, not this
  }
  CHECK(memostore::apply_waiting_bookkeeping(dir.path()));
  CHECK(bookkeeping_units(dir.path()) == 0);
  CHECK(readonly_hits() == 10);
  CHECK_FALSE(memostore::apply_waiting_bookkeeping(dir.path()));  // nothing waits
}

TEST_CASE("a process that read first writes through an instance opened at its first write") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 10) == 10);
  REQUIRE(run_squares(dir.path(), 10) == 0);  // leaves its hits waiting
  const auto before = database_files(dir.path());
  Store store = Store::open(dir.path());
  Database& database = *memostore::detail::core_of(store)->database();
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < 10; ++i) {
    CHECK(memo_square(i) == square(i));
  }
  CHECK(computed == 0);
  CHECK(database.reading());
  CHECK(database_files(dir.path()) == before);

  CHECK(memo_square(10) == square(10));  // a miss: its store opens the store for writing
  CHECK(computed == 1);
  CHECK_FALSE(database.reading());
  CHECK(bookkeeping_units(dir.path()) == 0);  // applied at that open
  CHECK(memo_square(10) == square(10));       // read back through the instance for writing
  CHECK(memo_square(3) == square(3));
  CHECK(computed == 1);
  memo_square.forget(3);
  CHECK(memo_square(3) == square(3));
  CHECK(computed == 2);
  CHECK(store.stats().total.hits == 10 + 10 + 2);
}

TEST_CASE("a process that only reads holds the store: a second one shares it and its results are applied") {
  TempDir dir;
  REQUIRE(run_squares(dir.path(), 5) == 5);
  Store holder = Store::open(dir.path());
  Database& database = *memostore::detail::core_of(holder)->database();
  REQUIRE(database.reading());
  REQUIRE(run_squares(dir.path(), 8) == 3);  // a secondary: hands squares 5-7 over
  holder.catch_up();
  CHECK_FALSE(database.reading());  // opened for writing to apply them
  auto memo_square = memostore::memo(holder, "square", [](int x) -> std::vector<std::int64_t> {
    FAIL("computed ", x, ": the other process's result should be here");
    return {};
  });
  CHECK(memo_square(7) == square(7));
}

TEST_SUITE_END();
