// The policy layer on real stores: ttl on read and in compaction, size
// budgets and LRU eviction, superseded versions, gc, statistics across
// restarts, explained misses and the exit summary.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>

#include "codec/meta.hpp"
#include "store/store_core.hpp"
#include "support/entries.hpp"
#include "support/keys.hpp"
#include "support/test_support.hpp"

using memostore::ManualClock;
using memostore::Store;
using memostore::StoreOptions;
using memostore::detail::Family;
using memostore::test::LogCapture;
using memostore::test::ScopedEnv;
using memostore::test::TempDir;
using memostore::test::open_store;
using namespace std::chrono_literals;

namespace {

bool has_record(const Store& store, Family family, const std::string& key) {
  auto found = memostore::detail::core_of(store)->database()->get(family, key, [](std::string_view) {});
  REQUIRE(found);
  return found.value();
}

/// Live bytes as the entries family holds them: every key plus its value.
std::uint64_t stored_bytes(const Store& store) {
  std::uint64_t bytes = 0;
  REQUIRE(memostore::detail::core_of(store)->database()->for_each(Family::entries, "", [&](std::string_view k, std::string_view v) {
    bytes += k.size() + v.size();
    return true;
  }));
  return bytes;
}

/// The store's counters agree with what it holds: `entries` live entries, and
/// exactly the bytes the entries family holds.
void check_live_totals(Store& store, std::uint64_t entries) {
  const auto stats = store.stats();
  CHECK(stats.total.entries == entries);
  CHECK(stats.total.bytes == stored_bytes(store));
}

std::string value_of_size(int x, std::size_t size) { return std::string(size, static_cast<char>('a' + x % 26)); }

}  // namespace

TEST_SUITE_BEGIN("budget");

TEST_CASE("an entry older than its ttl is a miss and is computed again") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  int calls = 0;
  auto f = memostore::memo(store, "ttl", memostore::state_not_keyed([&calls](int x) { return ++calls * 100 + x; }), {.ttl = 10s});
  CHECK(f(1) == 101);
  clock->advance(10s - 1ms);
  CHECK(f(1) == 101);
  CHECK(f.cached(1));
  clock->advance(1ms);
  CHECK_FALSE(f.cached(1));
  CHECK(f(1) == 201);  // recomputed, and valid for another 10 s
  clock->advance(9s);
  CHECK(f(1) == 201);
  CHECK(calls == 2);
  CHECK(store.stats().total.expirations == 1);
}

TEST_CASE("the store's default_ttl applies to functions without their own") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  StoreOptions options;
  options.dir = dir / "store";
  options.clock = clock;
  options.default_ttl = 1h;
  Store store = Store::open(options);
  int calls = 0;
  auto f = memostore::memo(store, "default-ttl", memostore::state_not_keyed([&calls](int x) { return ++calls + x; }));
  auto g = memostore::memo(store, "own-ttl", memostore::state_not_keyed([&calls](int x) { return ++calls + x; }), {.ttl = 2h});
  (void)f(1);
  (void)g(1);
  clock->advance(90min);
  CHECK_FALSE(f.cached(1));
  CHECK(g.cached(1));
}

TEST_CASE("a compaction physically removes expired entries and their bookkeeping") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto f = memostore::memo(store, "compacted", [](int x) { return std::string(100, static_cast<char>('a' + x)); },
                           {.ttl = 1s});
  auto keep = memostore::memo(store, "kept", [](int x) { return x; });
  (void)f(1);
  (void)keep(1);
  const std::string expiring = memostore::test::entry_key<std::string>("compacted", 0, 1);
  const std::string kept = memostore::test::entry_key<int>("kept", 0, 1);
  REQUIRE(has_record(store, Family::entries, expiring));

  clock->advance(2s);
  REQUIRE(memostore::detail::core_of(store)->database()->compact());
  CHECK_FALSE(has_record(store, Family::entries, expiring));
  CHECK_FALSE(has_record(store, Family::meta, memostore::detail::meta_key(expiring, 'i')));
  CHECK(has_record(store, Family::entries, kept));
}

TEST_CASE("the store budget holds after 10,000 inserts of mixed sizes") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  constexpr std::uint64_t k_budget = 256 * 1024;
  Store store = open_store(dir / "store", {.max_bytes = k_budget, .clock = clock});
  auto f = memostore::memo(store, "mixed", [](int x) { return value_of_size(x, 1 + (x * 7919) % 3000); });
  std::uint64_t worst = 0;
  for (int x = 0; x < 10'000; ++x) {
    (void)f(x);
    clock->advance(1ms);
    if (x % 500 == 499) {
      worst = std::max(worst, stored_bytes(store));
    }
  }
  CHECK(worst <= k_budget);
  const auto stats = store.stats();
  CHECK(stats.total.bytes == stored_bytes(store));
  CHECK(stats.total.bytes <= k_budget);
  CHECK(stats.total.bytes >= k_budget / 2);  // evicts to about 90 %, not to nothing
  CHECK(stats.total.evictions > 0);
  CHECK(stats.total.entries + stats.total.evictions == 10'000);
  CHECK(f.cached(9'999));  // the newest survive
}

TEST_CASE("a function's max_entries and max_bytes hold, whatever the store budget") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto counted = memostore::memo(store, "capped-count", [](int x) { return x; }, {.max_entries = 100});
  auto sized =
      memostore::memo(store, "capped-size", [](int x) { return value_of_size(x, 1000); }, {.max_bytes = 50'000});
  for (int x = 0; x < 1000; ++x) {
    (void)counted(x);
    (void)sized(x);
    clock->advance(1ms);
  }
  const auto stats = store.stats();
  for (const auto& function : stats.functions) {
    if (function.name == "capped-count") {
      CHECK(function.entries <= 100);
      CHECK(function.entries >= 80);
    } else if (function.name == "capped-size") {
      CHECK(function.bytes <= 50'000);
      CHECK(function.bytes >= 40'000);
    }
  }
}

TEST_CASE("eviction takes the least recently used: entries that were hit survive") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto f = memostore::memo(store, "lru", [](int x) { return x * 2; }, {.max_entries = 10});
  for (int x = 0; x < 10; ++x) {
    (void)f(x);
    clock->advance(1s);
  }
  for (int x = 0; x < 5; ++x) {  // touch the five oldest
    (void)f(x);
    clock->advance(1s);
  }
  (void)f(10);  // 11 entries: evict down to 9, the two least recently used (5 and 6)
  for (int x = 0; x < 5; ++x) {
    CHECK(f.cached(x));
  }
  CHECK_FALSE(f.cached(5));
  CHECK_FALSE(f.cached(6));
  for (int x = 7; x <= 10; ++x) {
    CHECK(f.cached(x));
  }
}

TEST_CASE("superseded versions go first under a budget and gc removes them") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto old_version = memostore::memo(store, "versioned", [](int x) { return x; }, {.version = 1});
  for (int x = 0; x < 20; ++x) {
    (void)old_version(x);
  }
  clock->advance(1h);
  auto new_version = memostore::memo(store, "versioned", [](int x) { return -x; }, {.version = 2});
  for (int x = 0; x < 5; ++x) {
    CHECK(new_version(x) == -x);  // a version bump is a miss
  }
  for (int x = 0; x < 20; ++x) {
    (void)old_version(x);  // recently used, but superseded
  }
  const auto report = store.gc();
  CHECK(report.superseded_entries == 20);
  CHECK(report.superseded_bytes > 0);
  CHECK_FALSE(old_version.cached(0));
  CHECK(new_version.cached(0));
  CHECK(store.stats().total.entries == 5);
}

TEST_CASE("gc removes expired entries and reports them") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto shortlived = memostore::memo(store, "short", [](int x) { return x; }, {.ttl = 1min});
  auto durable = memostore::memo(store, "durable", [](int x) { return x; });
  for (int x = 0; x < 10; ++x) {
    (void)shortlived(x);
    (void)durable(x);
  }
  clock->advance(2min);
  const auto report = store.gc();
  CHECK(report.expired_entries == 10);
  CHECK(report.evicted_entries == 0);
  check_live_totals(store, 10);
}

TEST_CASE("statistics survive a restart and add up") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  const auto busy = [](int x) {
    volatile std::uint64_t sum = 0;
    for (int i = 0; i < 200'000; ++i) {
      sum = sum + static_cast<std::uint64_t>(i ^ x);
    }
    return static_cast<std::uint64_t>(sum);
  };
  int calls = 0;
  {
    Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
    auto f = memostore::memo(store, "counted", busy);
    for (int round = 0; round < 3; ++round) {
      for (int x = 0; x < 10; ++x) {
        (void)f(x);
        ++calls;
      }
    }
    f.forget(0);
  }
  {
    Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
    auto f = memostore::memo(store, "counted", busy);
    (void)f(0);  // forgotten: a miss
    (void)f(1);
    calls += 2;
    const auto stats = store.stats();
    REQUIRE(stats.functions.size() == 1);
    const auto& s = stats.functions[0];
    CHECK(s.name == "counted");
    CHECK(s.hits + s.misses == static_cast<std::uint64_t>(calls));
    CHECK(s.misses == 11);
    CHECK(s.hits == 21);
    CHECK(s.stores == 11);
    CHECK(s.entries == 10);
    CHECK(s.bytes == stored_bytes(store));
    CHECK(s.compute_time > 0ns);
    CHECK(s.saved_time > 0ns);
    CHECK(stats.total.hits == s.hits);
  }
}

TEST_CASE("after a killed process the live counters are recounted from the entries") {
  TempDir dir;
  const std::string store_dir = (dir / "store").string();
  REQUIRE(memostore::test::run_child(store_dir, {"squares", "20"}).exit_code == 0);
  // Stores one more entry, then dies before its buffered counts are written.
  const auto killed = memostore::test::run_child(store_dir, {"square-then-kill", "100"});
  REQUIRE(killed.exit_code == 128 + SIGKILL);

  Store store = Store::open(dir / "store");
  check_live_totals(store, 21);
}

TEST_CASE("clear and forget keep the live counters exact") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
  auto f = memostore::memo(store, "f", [](int x) { return x; });
  auto g = memostore::memo(store, "g", [](int x) { return value_of_size(x, 500); });
  for (int x = 0; x < 10; ++x) {
    (void)f(x);
    (void)g(x);
  }
  f.forget(3);
  check_live_totals(store, 19);
  f.clear();
  check_live_totals(store, 10);
  store.clear();
  check_live_totals(store, 0);
  CHECK(store.stats().total.bytes == 0);
}

TEST_CASE("MEMOSTORE_MAX_SIZE overrides the store budget, and a bad value is a config error") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  {
    ScopedEnv env("MEMOSTORE_MAX_SIZE", "20K");
    Store store = open_store(dir / "store", {.max_bytes = std::uint64_t{1} << 30, .clock = clock});
    auto f = memostore::memo(store, "env-budget", [](int x) { return value_of_size(x, 1000); });
    for (int x = 0; x < 100; ++x) {
      (void)f(x);
    }
    CHECK(stored_bytes(store) <= 20'000);
  }
  ScopedEnv env("MEMOSTORE_MAX_SIZE", "lots");
  const std::string message =
      memostore::test::error_message([&] { (void)open_store(dir / "store", {.max_bytes = 0, .clock = clock}); }, memostore::ErrorCode::config);
  CHECK(message.find("MEMOSTORE_MAX_SIZE") != std::string::npos);
  CHECK(message.find("lots") != std::string::npos);
}

TEST_CASE("MEMOSTORE_EXPLAIN says why each miss missed") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  ScopedEnv env("MEMOSTORE_EXPLAIN", "1");
  LogCapture log;
  auto explained = [&log](const std::string& text) {
    for (const auto& line : log.infos()) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  {
    Store store = open_store(dir / "store", {.max_bytes = 0, .clock = clock});
    auto f = memostore::memo(store, "why", [](int x) { return x; }, {.ttl = 1min, .max_entries = 1});
    (void)f(1);
    CHECK(explained("why (version 0)"));
    CHECK(explained(": no entry"));
    clock->advance(2min);
    (void)f(1);
    CHECK(explained("expired"));
    (void)f(2);  // evicts 1 (max_entries 1)
    clock->advance(1s);
    (void)f(1);
    CHECK(explained("evicted earlier"));

    auto bumped = memostore::memo(store, "why", [](int x) { return x; }, {.version = 3});
    (void)bumped(1);
    CHECK(explained("no entry for version 3; version 0 is stored"));

    auto retyped = memostore::memo(store, "why", [](int x) { return std::to_string(x); }, {.version = 3});
    (void)retyped(1);
    CHECK(explained("another result or argument type"));

    const std::string key = memostore::test::entry_key<std::string>("why", 3, 1);
    memostore::test::put_stored_entry(store, key, "not an envelope");
    (void)retyped(1);
    CHECK(explained("the stored entry was damaged"));
  }
  {
    StoreOptions options;
    options.dir = dir / "store";
    options.mode = memostore::Mode::refresh;
    Store store = Store::open(options);
    auto f = memostore::memo(store, "refreshed", [](int x) { return x; });
    (void)f(1);
    CHECK(explained("refresh mode"));
  }
}

TEST_CASE("MEMOSTORE_STATS=1 prints this process's summary when the store closes") {
  TempDir dir;
  const std::string store_dir = (dir / "store").string();
  const auto first = memostore::test::run_child(store_dir, {"squares", "5"},
                                                  {{"MEMOSTORE_STATS", "1"}});
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("memostore: 0 hits, 5 misses (0.0%)") != std::string::npos);
  CHECK(first.err.find("in 5 entries") != std::string::npos);
  const auto second = memostore::test::run_child(store_dir, {"squares", "5"},
                                                   {{"MEMOSTORE_STATS", "1"}});
  CHECK(second.err.find("memostore: 5 hits, 0 misses (100.0%)") != std::string::npos);
  const auto quiet = memostore::test::run_child(store_dir, {"squares", "5"});
  CHECK(quiet.err.find("memostore:") == std::string::npos);
}

TEST_SUITE_END();
