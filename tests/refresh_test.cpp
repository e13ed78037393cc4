// issue 31: stale-while-revalidate (MemoOptions::refresh_after, Memo::refresh,
// StoreOptions::refresh_threads). A hit on an entry older than refresh_after
// returns the stored result at once and one background refresh replaces it;
// failures keep the old result until ttl; closing is bounded. Time moves on
// a ManualClock; a refresh is waited for through the pool (wait_idle) or a
// gate inside the function, never by sleeping.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <memostore/memostore.hpp>
#include <nlohmann/json.hpp>

#include "singleton/singleton_table.hpp"
#include "store/store_core.hpp"
#include "support/redis_server.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::ErrorCode;
using memostore::FunctionStats;
using memostore::ManualClock;
using memostore::Mode;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::ChildProcess;
using memostore::test::child_program;
using memostore::test::LogCapture;
using memostore::test::output_value;
using memostore::test::wait_for_line;
using memostore::test::open_store;
using memostore::test::ScopedEnv;
using memostore::test::TempDir;
using namespace std::chrono_literals;

namespace {

/// A door the function under test waits at: closed, a refresh blocks inside
/// the user's function until the test opens it, so a test sees a hit return
/// while its refresh is still computing.
class Door {
 public:
  void close() {
    std::lock_guard lock(m_mutex);
    m_open = false;
  }
  void open() {
    {
      std::lock_guard lock(m_mutex);
      m_open = true;
    }
    m_changed.notify_all();
  }
  /// Counts a caller waiting, then waits for the door to open.
  void pass() {
    std::unique_lock lock(m_mutex);
    ++m_waiting;
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return m_open; });
  }
  int waiting() const {
    std::lock_guard lock(m_mutex);
    return m_waiting;
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_open = true;
  int m_waiting = 0;
};

/// What the memoized function sees: how often it ran, whether it throws, a door.
struct Probe {
  std::atomic<int> calls{0};
  std::atomic<bool> throws{false};
  Door door;
};

/// f(x) = 100 * (its run number) + x, through `probe` (shared: an abandoned
/// refresh may return after the test case ended).
auto counted(const Store& store, const std::shared_ptr<Probe>& shared, memostore::MemoOptions options) {
  return memostore::memo(store, "counted", memostore::state_not_keyed([shared](int x) {
                           Probe& probe = *shared;
                           const int run = ++probe.calls;
                           probe.door.pass();
                           if (probe.throws) {
                             throw std::runtime_error("the source is down");
                           }
                           return run * 100 + x;
                         }),
                         std::move(options));
}

FunctionStats stats_of(const Store& store) {
  for (const FunctionStats& s : store.stats().functions) {
    if (s.name == "counted") {
      return s;
    }
  }
  return FunctionStats{};
}

void wait_for_refreshes(const Store& store) { memostore::detail::core_of(store)->refreshes().wait_idle(); }

const memostore::MemoOptions k_refreshed{.ttl = 1h, .refresh_after = 10s};

/// Runs `memo_child DIR refreshed-square 7` to its end, letting whatever it
/// computes (a miss, or the refresh of an entry copied from the remote tier)
/// finish at once: the entry is then stored in `dir`, 1 ms from stale.
void seed(const fs::path& dir, const std::map<std::string, std::string>& environment = {}) {
  ChildProcess child({child_program(), dir.string(), "refreshed-square", "7"}, environment);
  child.close_stdin();
  REQUIRE(child.wait() == 0);
  REQUIRE(output_value(child.out(), "served") == "49");
}

/// With `first` refreshing square 7 (it printed "computing" and waits), a
/// second process on `second_dir` serves the stale entry and does not refresh it.
void check_second_leaves_the_refresh(ChildProcess& first, const fs::path& second_dir,
                                     const std::map<std::string, std::string>& environment) {
  ChildProcess second({child_program(), second_dir.string(), "refreshed-square", "7"}, environment);
  const bool left_it = wait_for_line(second, "computed=0", "computing");
  second.close_stdin();  // had it refreshed too, this lets it finish
  CHECK(second.wait() == 0);
  CHECK_MESSAGE(left_it, "the second process refreshed the key too: " << second.out() << second.err());
  first.close_stdin();
  CHECK(first.wait() == 0);
  CHECK(output_value(first.out(), "computed") == "1");
}

/// The refreshes the store in `dir` counted for refreshed_square (`memostore stats --json`).
std::uint64_t refreshes_counted(const fs::path& dir) {
  const auto stats = memostore::test::run_tool(dir, {"stats", "--json"});
  REQUIRE(stats.exit_code == 0);
  const nlohmann::json parsed = nlohmann::json::parse(stats.out);
  for (const auto& function : parsed.at("functions")) {
    if (function.at("name") == "refreshed_square") {
      return function.at("refreshes").get<std::uint64_t>();
    }
  }
  return 0;
}

}  // namespace

TEST_SUITE_BEGIN("refresh");

TEST_CASE("a stale hit returns the stored result at once and the next hit after its refresh the new one") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.clock = clock});
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  auto f = counted(store, shared, k_refreshed);
  CHECK(f(1) == 101);
  clock->advance(9s);
  CHECK(f(1) == 101);
  wait_for_refreshes(store);
  CHECK(probe.calls == 1);  // younger than refresh_after: no refresh

  clock->advance(1s);
  probe.door.close();
  CHECK(f(1) == 101);  // returned while the refresh waits at the door
  memostore::test::wait_until([&] { return probe.door.waiting() == 2; }, "the refresh starting");
  CHECK(f(1) == 101);  // still computing: the old result is served
  probe.door.open();
  wait_for_refreshes(store);
  CHECK(probe.calls == 2);
  CHECK(f(1) == 201);
  CHECK(stats_of(store).refreshes == 1);
  CHECK(stats_of(store).misses == 1);
}

TEST_CASE("many threads hitting a stale key start one refresh") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.refresh_threads = 2, .clock = clock});
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  auto f = counted(store, shared, k_refreshed);
  CHECK(f(1) == 101);
  CHECK(f(2) == 202);
  clock->advance(1min);
  probe.door.close();
  std::atomic<int> old_results{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        old_results += f(1) == 101 ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  CHECK(old_results == 8 * 50);
  CHECK(f(2) == 202);  // another key has its own refresh
  memostore::test::wait_until([&] { return probe.door.waiting() == 4; }, "both refreshes starting");
  probe.door.open();
  wait_for_refreshes(store);
  CHECK(probe.calls == 4);  // two misses, one refresh per key
  // The two refreshes ran at once: which took the third call is a race.
  const std::pair<int, int> refreshed{f(1), f(2)};
  CHECK((refreshed == std::pair<int, int>{301, 402} ||
         refreshed == std::pair<int, int>{401, 302}));
  CHECK(stats_of(store).refreshes == 2);
}

TEST_CASE("a throwing refresh keeps the old result, counts, is logged once, backs off, and ttl still ends it") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.clock = clock});
  LogCapture log;
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  auto f = counted(store, shared, {.ttl = 1min, .refresh_after = 10s});
  CHECK(f(1) == 101);
  clock->advance(10s);
  probe.throws = true;
  CHECK(f(1) == 101);
  wait_for_refreshes(store);
  CHECK(probe.calls == 2);
  CHECK(stats_of(store).refresh_failures == 1);
  CHECK(log.count("a background refresh threw (the source is down)") == 1);

  CHECK(f(1) == 101);  // within the first second of backoff: not tried again
  wait_for_refreshes(store);
  CHECK(probe.calls == 2);
  clock->advance(1s);
  CHECK(f(1) == 101);  // tried again, fails again, not logged again
  wait_for_refreshes(store);
  CHECK(probe.calls == 3);
  CHECK(stats_of(store).refresh_failures == 2);
  clock->advance(1s);
  CHECK(f(1) == 101);  // the backoff doubled: 2 s after the second failure
  wait_for_refreshes(store);
  CHECK(probe.calls == 3);
  CHECK(log.count("a background refresh threw") == 1);

  clock->advance(1min);  // past the ttl: a miss, computed in the caller's thread
  CHECK_THROWS_WITH_AS(f(1), "the source is down", std::runtime_error);
  probe.throws = false;
  CHECK(f(1) == 501);
  CHECK(stats_of(store).refreshes == 0);
}

TEST_CASE("Memo::refresh recomputes and stores now, whatever the entry's age") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.clock = clock});
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  auto f = counted(store, shared, {});
  CHECK(f(1) == 101);
  CHECK(f.refresh(1) == 201);
  CHECK(f(1) == 201);
  CHECK(probe.calls == 2);
  CHECK(stats_of(store).refreshes == 1);
  probe.throws = true;
  CHECK_THROWS_AS(f.refresh(1), std::runtime_error);
  probe.throws = false;
  CHECK(f(1) == 201);  // a refresh that threw left the entry as it was
}

TEST_CASE("readonly mode, refresh_threads = 0 and a young entry never refresh in the background") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  {
    Store store = open_store(dir / "store", {.clock = clock});
    CHECK(counted(store, shared, k_refreshed)(1) == 101);
  }
  clock->advance(1min);
  {
    Store store = open_store(dir / "store", {.mode = Mode::readonly, .clock = clock});
    CHECK(counted(store, shared, k_refreshed)(1) == 101);
    wait_for_refreshes(store);
  }
  {
    Store store = open_store(dir / "store", {.refresh_threads = 0, .clock = clock});
    auto f = counted(store, shared, k_refreshed);
    CHECK(f(1) == 101);
    wait_for_refreshes(store);
    CHECK(f(1) == 101);
  }
  CHECK(probe.calls == 1);
}

TEST_CASE("MEMOSTORE_EXPLAIN says a stale result was served and is refreshing") {
  TempDir dir;
  ScopedEnv explain("MEMOSTORE_EXPLAIN", "1");
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.clock = clock});
  LogCapture log;
  auto shared = std::make_shared<Probe>();
  auto f = counted(store, shared, k_refreshed);
  CHECK(f(1) == 101);
  clock->advance(90s);
  CHECK(f(1) == 101);
  wait_for_refreshes(store);
  bool said = false;
  for (const std::string& line : log.infos()) {
    said = said || (line.find("counted (version 0)") != std::string::npos &&
                    line.find("served a result 1m30s old, refreshing") != std::string::npos);
  }
  CHECK(said);
}

/// An argument type that can be keyed but not copied.
struct MoveOnly {
  int value = 0;
  MoveOnly() = default;
  MoveOnly(MoveOnly&&) = default;
  MoveOnly(const MoveOnly&) = delete;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
};

TEST_CASE("refresh_after with an argument that cannot be copied is refused when the memo is made") {
  TempDir dir;
  Store store = open_store(dir / "store");
  CHECK(memostore::memo(store, "moved", [](MoveOnly m) { return m.value; })(MoveOnly{}) == 0);
  const std::string message = memostore::test::error_message(
      [&] {
        (void)memostore::memo(store, "moved", [](MoveOnly m) { return m.value; }, {.refresh_after = 1s});
      },
      ErrorCode::config);
  CHECK(message.find("memostore::memo(\"moved\"): refresh_after is set") != std::string::npos);
}

TEST_CASE("closing the store during a slow refresh returns within the bound and leaves a valid store") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  std::chrono::steady_clock::duration closing{};
  {
    Store store = open_store(dir / "store", {.clock = clock});
    auto f = counted(store, shared, k_refreshed);
    CHECK(f(1) == 101);
    clock->advance(1min);
    probe.door.close();
    CHECK(f(1) == 101);
    memostore::test::wait_until([&] { return probe.door.waiting() == 2; }, "the refresh starting");
    const auto started = std::chrono::steady_clock::now();
    {
      Store last = std::move(store);
      auto gone = std::move(f);
    }  // the last handles: the store closes here
    closing = std::chrono::steady_clock::now() - started;
  }
  probe.door.open();  // the abandoned refresh returns now, and writes nothing
  CHECK(closing >= memostore::detail::k_refresh_close_wait);
  CHECK(closing < memostore::detail::k_refresh_close_wait + 5s);
  const auto verify = memostore::test::run_tool(dir / "store", {"verify"});
  CHECK_MESSAGE(verify.exit_code == 0, verify.out, verify.err);
  Store store = open_store(dir / "store", {.refresh_threads = 0, .clock = clock});
  CHECK(counted(store, shared, {.ttl = 1h})(1) == 101);  // the old result, not half a new one
  CHECK(stats_of(store).refreshes == 0);
}

TEST_CASE("two processes sharing the store start one refresh between them (share_inflight)") {
  TempDir dir;
  seed(dir / "store");
  ChildProcess first({child_program(), (dir / "store").string(), "refreshed-square", "7"});
  REQUIRE(wait_for_line(first, "computing"));  // its refresh holds the key's file claim
  check_second_leaves_the_refresh(first, dir / "store", {});
  CHECK(refreshes_counted(dir / "store") == 1);
}

TEST_CASE("two directories sharing a redis-server start one refresh between them (share_inflight)") {
  TempDir dir;
  memostore::test::RedisServer redis(dir / "redis");
  const std::map<std::string, std::string> remote{{"MEMOSTORE_REMOTE", redis.url()}};
  seed(dir / "one", remote);
  seed(dir / "two", remote);  // found in Redis, copied, and (stale already) refreshed once
  const std::uint64_t before = refreshes_counted(dir / "one") + refreshes_counted(dir / "two");
  ChildProcess first({child_program(), (dir / "one").string(), "refreshed-square", "7"}, remote);
  REQUIRE(wait_for_line(first, "computing"));  // its refresh holds the remote lease
  check_second_leaves_the_refresh(first, dir / "two", remote);
  CHECK(refreshes_counted(dir / "one") + refreshes_counted(dir / "two") == before + 1);
}

TEST_CASE("an old singleton object is replaced in the background, and its holders keep the old one") {
  auto clock = std::make_shared<ManualClock>();
  auto shared = std::make_shared<Probe>();
  Probe& probe = *shared;
  LogCapture log;
  auto connection = memostore::singleton(
      "refreshed_connection", memostore::state_not_keyed([shared](int x) {
        const int run = ++shared->calls;
        shared->door.pass();
        if (shared->throws) {
          throw std::runtime_error("the server is down");
        }
        return std::make_shared<const int>(run * 100 + x);
      }),
      {.ttl = 1h, .clock = clock, .refresh_after = 10s});
  const auto first = connection(1);
  CHECK(*first == 101);
  clock->advance(10s);
  probe.door.close();
  CHECK(connection(1) == first);  // returned at once while its replacement is made
  memostore::test::wait_until([&] { return probe.door.waiting() == 2; }, "the replacement starting");
  CHECK(connection(1) == first);
  probe.door.open();
  memostore::detail::wait_for_singleton_refreshes();
  const auto second = connection(1);
  CHECK(*second == 201);
  CHECK(*first == 101);  // the holder's object is alive and unchanged
  CHECK(probe.calls == 2);

  clock->advance(10s);
  probe.throws = true;
  CHECK(connection(1) == second);
  memostore::detail::wait_for_singleton_refreshes();
  CHECK(probe.calls == 3);
  CHECK(connection(1) == second);  // the failure kept it, and the backoff holds the next try
  memostore::detail::wait_for_singleton_refreshes();
  CHECK(probe.calls == 3);
  CHECK(log.count("singleton \"refreshed_connection\": a background replacement of an old object threw "
                  "(the server is down)") == 1);
  connection.clear();
}

TEST_SUITE_END();
