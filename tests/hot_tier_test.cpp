// The hot tier: entries read recently are served from memory (small ones
// copied, large ones pinned in RocksDB's blob cache), and no change to the
// store (forget, clear, eviction, expiry, a refresh, another process's
// removal) is hidden by a copy kept there.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "codec/envelope.hpp"
#include "codec/meta.hpp"
#include "tiers/hot_entries.hpp"
#include "store/store_core.hpp"
#include "support/database.hpp"
#include "support/test_support.hpp"

using memostore::Store;
using memostore::StoreOptions;
using memostore::test::ChildProcess;
using memostore::test::TempDir;
using memostore::test::counting_square;
using memostore::test::open_store;
using memostore::test::square;

namespace {

std::uint64_t hot_hits(const Store& store) { return store.stats().hot.hits; }

std::vector<memostore::EntrySummary> entries_of(const Store& store) {
  std::vector<memostore::EntrySummary> entries;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    entries.push_back(entry);
    return true;
  });
  return entries;
}

}  // namespace

TEST_SUITE_BEGIN("hot tier");

TEST_CASE("a repeated hit is served from memory and counted as a hit") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  CHECK(memo_square(3) == square(3));  // computed and stored, not kept in memory
  CHECK(hot_hits(store) == 0);
  CHECK(memo_square(3) == square(3));  // read from the store, kept
  CHECK(hot_hits(store) == 0);
  for (int i = 0; i < 5; ++i) {
    CHECK(memo_square(3) == square(3));
  }
  CHECK(hot_hits(store) == 5);
  CHECK(computed == 1);
  const auto stats = store.stats();
  CHECK(stats.total.hits == 6);
  CHECK(stats.hot.entries == 1);
  CHECK(stats.hot.bytes > 0);
}

TEST_CASE("an entry read once is not copied into memory: its second read is") {
  TempDir dir;
  {
    Store store = open_store(dir / "cache");
    auto memo_square = memostore::memo(store, "square", square);
    for (int x = 0; x < 100; ++x) memo_square(x);
  }
  Store store = open_store(dir / "cache");  // a new process would find nothing read yet
  auto memo_square = memostore::memo(store, "square", square);
  for (int x = 0; x < 100; ++x) {
    CHECK(memo_square(x) == square(x));
  }
  CHECK(store.stats().hot.entries == 0);  // a scan over the store copies nothing
  CHECK(memo_square(7) == square(7));     // read again: now it is kept
  CHECK(store.stats().hot.entries == 1);
  CHECK(memo_square(7) == square(7));
  CHECK(hot_hits(store) == 1);
}

TEST_CASE("a hot tier of 0 bytes, or MEMOSTORE_HOT_CACHE=0, keeps nothing") {
  TempDir dir;
  SUBCASE("option") {
    Store store = open_store(dir / "cache", {.hot_cache_bytes = 0});
    auto memo_square = memostore::memo(store, "square", &square);
    for (int i = 0; i < 4; ++i) {
      CHECK(memo_square(1) == square(1));
    }
    CHECK(hot_hits(store) == 0);
    CHECK(store.stats().hot.entries == 0);
  }
  SUBCASE("environment") {
    memostore::test::ScopedEnv off("MEMOSTORE_HOT_CACHE", "0");
    Store store = open_store(dir / "cache");
    auto memo_square = memostore::memo(store, "square", &square);
    for (int i = 0; i < 4; ++i) {
      CHECK(memo_square(1) == square(1));
    }
    CHECK(hot_hits(store) == 0);
  }
  SUBCASE("a bad size names the variable") {
    memostore::test::ScopedEnv bad("MEMOSTORE_HOT_CACHE", "lots");
    const std::string message =
        memostore::test::error_message([&] { (void)open_store(dir / "cache"); }, memostore::ErrorCode::config);
    CHECK(message.find("MEMOSTORE_HOT_CACHE") != std::string::npos);
  }
}

TEST_CASE("forget, clear and Store::clear are seen at once by copies in memory") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  const auto warm = [&](int x) {
    for (int i = 0; i < 3; ++i) {
      CHECK(memo_square(x) == square(x));
    }
  };
  warm(1);
  warm(2);
  REQUIRE(hot_hits(store) == 2);
  REQUIRE(computed == 2);

  memo_square.forget(1);
  CHECK(memo_square(1) == square(1));
  CHECK(computed == 3);
  CHECK(memo_square(2) == square(2));  // a copy read before the change is not used; the store still has it
  CHECK(computed == 3);

  warm(2);
  memo_square.clear();
  CHECK(memo_square(2) == square(2));
  CHECK(computed == 4);

  warm(2);
  store.clear();
  CHECK(memo_square(2) == square(2));
  CHECK(computed == 5);
}

TEST_CASE("an entry past its ttl is not served from memory") {
  TempDir dir;
  auto clock = std::make_shared<memostore::ManualClock>();
  Store store = open_store(dir / "cache", {.clock = clock});
  int computed = 0;
  auto memo_square = counting_square(store, computed, {.ttl = std::chrono::minutes(1)});
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(4) == square(4));
  }
  REQUIRE(hot_hits(store) == 1);
  clock->advance(std::chrono::seconds(61));
  CHECK(memo_square(4) == square(4));
  CHECK(computed == 2);
  CHECK(store.stats().total.expirations >= 1);
}

TEST_CASE("an entry evicted by a size budget is computed again, not served from memory") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed, {.max_entries = 2});
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(1) == square(1));
  }
  REQUIRE(hot_hits(store) == 1);
  CHECK(memo_square(2) == square(2));
  CHECK(memo_square(3) == square(3));  // over the budget: the least recently used, 1, goes
  REQUIRE(computed == 3);
  REQUIRE(store.stats().total.evictions >= 1);
  CHECK(memo_square(1) == square(1));
  CHECK(computed == 4);
}

TEST_CASE("a result recomputed in refresh mode replaces the copy in memory") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  Store refreshing = Store::open({.dir = dir / "cache", .mode = memostore::Mode::refresh});
  int calls = 0;
  const auto counted = [&](int x) { return std::to_string(x) + "#" + std::to_string(++calls); };
  auto reader = memostore::memo(store, "counted", memostore::state_not_keyed(counted));
  auto refresher = memostore::memo(refreshing, "counted", memostore::state_not_keyed(counted));
  CHECK(reader(7) == "7#1");
  CHECK(reader(7) == "7#1");
  CHECK(reader(7) == "7#1");
  REQUIRE(hot_hits(store) == 1);
  CHECK(refresher(7) == "7#2");
  CHECK(reader(7) == "7#2");
  CHECK(reader(7) == "7#2");
}

TEST_CASE("the hot tier copies small entries within its budget") {
  TempDir dir;
  Store store = open_store(dir / "cache", {.hot_cache_bytes = 64 << 10});
  auto padded = memostore::memo(store, "padded", [](int x) { return std::string(1000, static_cast<char>('a' + x % 26)); });
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 500; ++i) {
      CHECK(padded(i) == std::string(1000, static_cast<char>('a' + i % 26)));
    }
  }
  const auto stats = store.stats();
  CHECK(stats.hot.bytes <= 64 << 10);
  CHECK(stats.hot.entries > 10);
  CHECK(stats.hot.entries < 64);
}

std::string large_value(int x) { return std::string(32 << 10, static_cast<char>('a' + x % 26)); }

TEST_CASE("large entries stay pinned in the blob cache, as many as it holds, and are never evicted under a hit") {
  TempDir dir;
  StoreOptions options;
  options.dir = dir / "cache";
  options.blob_cache_bytes = 100 << 10;  // three 32 KiB entries
  {
    Store store = Store::open(options);
    auto large = memostore::memo(store, "large", large_value);
    for (int i = 0; i < 8; ++i) {
      large(i);
    }
  }
  Store store = Store::open(options);  // the values are in blob files now
  int computed = 0;
  auto large = memostore::memo(store, "large", memostore::state_not_keyed([&computed](int x) {
    ++computed;
    return large_value(x);
  }));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 8; ++i) {  // more than the cache holds: the pinned ones stay, others come and go
      CHECK(large(i) == large_value(i));
    }
    for (int repeat = 0; repeat < 3; ++repeat) {
      CHECK(large(7) == large_value(7));
    }
  }
  CHECK(computed == 0);
  const auto stats = store.stats();
  CHECK(stats.hot.entries >= 1);
  CHECK(stats.hot.entries <= 3);
  CHECK(stats.hot.bytes <= 100 << 10);
  CHECK(stats.hot.hits >= 8);  // at least the repeats of 7 after its first read
}

TEST_CASE("a large entry kept pinned is replaced by a refresh and dropped by forget") {
  TempDir dir;
  int version = 0;
  auto versioned = [&version](int x) { return large_value(x + version); };
  {
    Store store = open_store(dir / "cache");
    memostore::memo(store, "large", memostore::state_not_keyed(versioned))(1);
  }  // the first close of a store flushes: the value is in a blob file
  Store store = open_store(dir / "cache");
  Store refreshing = Store::open(memostore::StoreOptions{.dir = dir / "cache", .mode = memostore::Mode::refresh});
  auto reader = memostore::memo(store, "large", memostore::state_not_keyed(versioned));
  auto refresher = memostore::memo(refreshing, "large", memostore::state_not_keyed(versioned));
  CHECK(reader(1) == large_value(1));  // a first read: not kept (HotAdmission)
  CHECK(reader(1) == large_value(1));  // read from the blob cache again, kept pinned
  CHECK(reader(1) == large_value(1));
  REQUIRE(hot_hits(store) == 1);
  REQUIRE(store.stats().hot.entries == 1);
  version = 1;
  CHECK(refresher(1) == large_value(2));
  CHECK(reader(1) == large_value(2));
  reader.forget(1);
  version = 2;
  CHECK(reader(1) == large_value(3));
  CHECK(hot_hits(store) == 1);
}

TEST_CASE("a large entry's copy kept pinned goes once it is out of date, even if it is never read again") {
  TempDir dir;
  {
    Store store = open_store(dir / "cache");
    memostore::memo(store, "large", large_value)(1);
  }  // the first close of a store flushes: the value is in a blob file
  Store store = open_store(dir / "cache");
  auto large = memostore::memo(store, "large", large_value);
  CHECK(large(1) == large_value(1));  // a first read: not kept (HotAdmission)
  CHECK(large(1) == large_value(1));  // read from the blob cache again, kept pinned
  REQUIRE(store.stats().hot.entries == 1);
  large.clear();  // a range removal: the copy is out of date
  CHECK(large(1) == large_value(1));  // computed and stored again, not read: nothing replaces the copy
  CHECK(store.stats().hot.entries == 0);
}

/// The first entry of `dir`'s store, read with get_holdable() and held.
memostore::detail::HeldValue hold_first_entry(memostore::detail::Database& database, bool& in_blob_cache) {
  using memostore::detail::Family;
  std::string key;
  REQUIRE(database.for_each(Family::entries, "", [&](std::string_view k, std::string_view) {
    key = k;
    return false;
  }));
  std::optional<memostore::detail::HeldValue> held;
  REQUIRE(database.get_holdable(Family::entries, key, [&](memostore::detail::ReadValue& value) {
    in_blob_cache = value.blob_sized() && value.pinned();
    held = value.hold();
  }).value());
  return std::move(*held);
}

TEST_CASE("a held value stays readable after its database closes, in a primary and in a secondary") {
  TempDir dir;
  {
    Store store = open_store(dir / "cache");
    memostore::memo(store, "large", large_value)(4);
  }
  for (const bool secondary : {false, true}) {
    std::optional<ChildProcess> holder;
    if (secondary) {
      holder.emplace(std::vector<std::string>{memostore::test::child_program(), (dir / "cache").string(), "hold"});
      REQUIRE(holder->read_line() == "ready");
    }
    auto database = memostore::test::open_database(dir / "cache");
    REQUIRE(database->secondary() == secondary);
    bool in_blob_cache = false;
    memostore::detail::HeldValue held = hold_first_entry(*database, in_blob_cache);
    CHECK(in_blob_cache);
    const std::string bytes(held.bytes());
    database.reset();  // closes RocksDB; the pin keeps the blob cache alive
    CHECK(held.bytes() == bytes);
    CHECK(held.bytes().find(std::string(1000, 'e')) != std::string_view::npos);  // large_value(4)
    if (holder) {
      holder->close_stdin();
      CHECK(holder->wait() == 0);
    }
  }
}

TEST_CASE("a process sharing the store reads, scans and keeps large entries (read-only reader, not the secondary)") {
  TempDir dir;
  {
    Store store = open_store(dir / "cache");
    auto large = memostore::memo(store, "large", large_value);
    for (int i = 0; i < 4; ++i) {
      large(i);
    }
  }
  ChildProcess holder({memostore::test::child_program(), (dir / "cache").string(), "hold"});
  REQUIRE(holder.read_line() == "ready");
  {
    Store store = open_store(dir / "cache");
    REQUIRE(memostore::detail::core_of(store)->database()->secondary());
    int computed = 0;
    auto large = memostore::memo(store, "large", memostore::state_not_keyed([&computed](int x) {
      ++computed;
      return large_value(x);
    }));
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 5; ++i) {  // 4 was never stored: computed once, handed over, read back
        CHECK(large(i) == large_value(i));
      }
    }
    CHECK(computed == 1);
    CHECK(hot_hits(store) >= 8);
    const memostore::VerifyReport report = memostore::verify(store);  // a scan of every entry: crashed before
    CHECK(report.clean());
    CHECK(report.entries_checked >= 4);
  }
  holder.close_stdin();
  CHECK(holder.wait() == 0);
}

TEST_CASE("with the hot tier off, large entries are not kept either") {
  TempDir dir;
  Store store = open_store(dir / "cache", {.hot_cache_bytes = 0});
  auto large = memostore::memo(store, "large", large_value);
  for (int i = 0; i < 4; ++i) {
    CHECK(large(1) == large_value(1));
  }
  CHECK(store.stats().hot.hits == 0);
  CHECK(store.stats().hot.entries == 0);
}

TEST_CASE("another process's forget reaches this process's copy when the store catches up") {
  TempDir dir;
  Store store = open_store(dir / "cache");  // this process holds the store
  REQUIRE_FALSE(memostore::detail::core_of(store)->database()->secondary());
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(5) == square(5));
  }
  REQUIRE(hot_hits(store) == 1);
  ChildProcess other({memostore::test::child_program(), (dir / "cache").string(), "forget", "5"});
  CHECK(other.read_line() == "forgot");
  REQUIRE(other.wait() == 0);
  store.catch_up();  // applies what the other process handed over
  CHECK(memo_square(5) == square(5));
  CHECK(computed == 2);
}

TEST_CASE("a process sharing another's store sees a third process's forget when it catches up") {
  TempDir dir;
  ChildProcess holder({memostore::test::child_program(), (dir / "cache").string(), "hold"});
  REQUIRE(holder.read_line() == "ready");
  {
    Store store = open_store(dir / "cache");
    REQUIRE(memostore::detail::core_of(store)->database()->secondary());
    int computed = 0;
    auto memo_square = counting_square(store, computed);
    CHECK(memo_square(5) == square(5));
    holder.write_line("apply");
    REQUIRE(holder.read_line() == "caught-up");
    store.catch_up();  // this process now reads the entry from the holder's files
    for (int i = 0; i < 3; ++i) {
      CHECK(memo_square(5) == square(5));
    }
    REQUIRE(hot_hits(store) >= 1);
    ChildProcess other({memostore::test::child_program(), (dir / "cache").string(), "forget", "5"});
    CHECK(other.read_line() == "forgot");
    REQUIRE(other.wait() == 0);
    holder.write_line("apply");
    REQUIRE(holder.read_line() == "caught-up");
    store.catch_up();
    CHECK(memo_square(5) == square(5));
    CHECK(computed == 2);
  }
  holder.close_stdin();
  CHECK(holder.wait() == 0);
}

TEST_CASE("hits served from memory count in the entry's hits and last access") {
  TempDir dir;
  auto clock = std::make_shared<memostore::ManualClock>();
  Store store = open_store(dir / "cache", {.clock = clock});
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  (void)memo_square(1);
  (void)memo_square(2);
  CHECK(memo_square(1) == square(1));  // read from the store, kept in memory
  clock->advance(std::chrono::hours(2));
  for (int i = 0; i < 4; ++i) {
    CHECK(memo_square(1) == square(1));
  }
  REQUIRE(hot_hits(store) == 4);
  const auto report = memostore::gc(store, {.older_than = std::chrono::hours(1)});
  CHECK(report.unused_entries == 1);  // 2, unused for two hours; 1 was hit from memory just now
  const auto left = entries_of(store);
  REQUIRE(left.size() == 1);
  CHECK(left[0].hits == 5);
  CHECK(computed == 2);
}

TEST_CASE("hits on a copy that is replaced in memory are still counted for its entry") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  (void)memo_square(1);
  (void)memo_square(2);
  // No stats() or listing until the end: they flush, taking the copy's hits
  // before it is replaced.
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(1) == square(1));  // one read from the store, two from memory
  }
  memo_square.forget(2);  // a removal: copies in memory are out of date
  CHECK(memo_square(1) == square(1));  // read from the store again: a new copy replaces the old one
  CHECK(hot_hits(store) == 2);
  std::uint64_t hits_of_1 = 0;
  for (const auto& entry : entries_of(store)) {
    hits_of_1 += entry.hits;
  }
  CHECK(hits_of_1 == 4);  // 2 of them served by the replaced copy
  CHECK(computed == 2);
}

TEST_CASE("hits on a replaced copy and on the copy that replaced it add up in one flush") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  (void)memo_square(1);
  (void)memo_square(2);
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(1) == square(1));  // one read from the store, two from memory
  }
  memo_square.forget(2);
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(1) == square(1));  // one read from the store (a new copy), two from memory
  }
  CHECK(hot_hits(store) == 4);  // flushes both copies' hits for the same key at once
  std::uint64_t hits_of_1 = 0;
  for (const auto& entry : entries_of(store)) {
    hits_of_1 += entry.hits;
  }
  CHECK(hits_of_1 == 6);
}

TEST_CASE("a forgotten entry's hits from memory leave no records behind") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = counting_square(store, computed);
  (void)memo_square(1);
  const auto entries = entries_of(store);  // before the hits: listing flushes, which would take them
  REQUIRE(entries.size() == 1);
  const std::string key = entries[0].key;
  for (int i = 0; i < 3; ++i) {
    CHECK(memo_square(1) == square(1));
  }
  memo_square.forget(1);
  REQUIRE(hot_hits(store) == 2);  // flushes
  auto& database = *memostore::detail::core_of(store)->database();
  for (char tag : {memostore::detail::k_access_tag, memostore::detail::k_hits_tag}) {
    bool found = false;
    REQUIRE(database.get(memostore::detail::Family::meta, memostore::detail::meta_key(key, tag),
                         [&](std::string_view) { found = true; }));
    CHECK_FALSE(found);
  }
}

TEST_SUITE_END();

// HotEntries itself: eviction order and the hits it keeps for the flush.
namespace {

using memostore::detail::HotEntries;

std::string envelope_of(std::string_view payload) {
  std::string buffer;
  memostore::detail::start_envelope(buffer, "args");
  buffer += payload;
  memostore::detail::finish_envelope(buffer, memostore::detail::EntryInfo{});
  return buffer;
}

struct Taken {
  std::string key;
  std::int64_t last_ms;
  std::uint64_t hits;
};

std::vector<Taken> take_accesses(HotEntries& hot) {
  std::vector<Taken> taken;
  hot.take_accesses([&](std::string_view key, const memostore::detail::Accesses& accesses) {
    taken.push_back(Taken{std::string(key), accesses.last_ms, accesses.hits});
  });
  return taken;
}

}  // namespace

TEST_SUITE_BEGIN("hot tier");

TEST_CASE("an entry hit between inserts stays while entries never hit since are evicted") {
  const std::string envelope = envelope_of(std::string(100, 'v'));
  HotEntries hot(16 * 1024, 0);  // 1 KiB a shard: two or three entries
  hot.insert("kept", envelope, 1);
  for (int i = 0; i < 500; ++i) {
    REQUIRE(hot.find("kept", 1) != nullptr);
    hot.insert("other-" + std::to_string(i), envelope, 1);
  }
  CHECK(hot.find("kept", 1) != nullptr);
  const auto stats = hot.stats();
  CHECK(stats.entries < 64);  // the others were evicted
  CHECK(stats.bytes <= 16 * 1024);
}

TEST_CASE("hits counted on copies reach take_accesses once, whether the copy is kept, erased or forgotten") {
  const std::string envelope = envelope_of("value");
  HotEntries hot(1 << 20, 0);
  for (const char* key : {"kept", "erased", "forgotten"}) {
    hot.insert(key, envelope, 1);
    const auto entry = hot.find(key, 1);
    REQUIRE(entry != nullptr);
    HotEntries::count_hit(*entry, 1000);
    HotEntries::count_hit(*entry, 2000);
  }
  hot.erase("erased");
  hot.forget("forgotten");
  auto taken = take_accesses(hot);
  std::sort(taken.begin(), taken.end(), [](const Taken& a, const Taken& b) { return a.key < b.key; });
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].key == "erased");
  CHECK(taken[0].hits == 2);
  CHECK(taken[0].last_ms == 2000);
  CHECK(taken[1].key == "kept");
  CHECK(taken[1].hits == 2);
  CHECK(take_accesses(hot).empty());  // taken once
  HotEntries::count_hit(*hot.find("kept", 1), 3000);
  taken = take_accesses(hot);
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].hits == 1);
  CHECK(taken[0].last_ms == 3000);
}

TEST_CASE("an insert over the budget never drops the entry it inserts, even when every other was used") {
  const std::string envelope = envelope_of(std::string(100, 'v'));
  HotEntries hot(16 * 1024, 0);  // two or three entries a shard
  std::vector<std::string> keys;
  for (int i = 0; i < 64; ++i) {
    keys.push_back("key-" + std::to_string(i));
    hot.insert(keys.back(), envelope, 1);
  }
  for (const std::string& key : keys) {
    (void)hot.find(key, 1);  // every entry kept is used since the last sweep
  }
  hot.insert("new", envelope, 1);
  CHECK(hot.find("new", 1) != nullptr);
}

TEST_CASE("forget discards the hits of copies dropped before it too") {
  const std::string envelope = envelope_of("value");
  HotEntries hot(1 << 20, 0);
  hot.insert("key", envelope, 1);
  HotEntries::count_hit(*hot.find("key", 1), 1000);
  hot.erase("key");  // its hit is kept for the flush
  hot.forget("key");  // then the entry is removed: the hit must not bring back its records
  CHECK(take_accesses(hot).empty());
}

TEST_CASE("a copy of another generation is not served, and an insert replaces it") {
  const std::string envelope = envelope_of("value");
  HotEntries hot(1 << 20, 0);
  hot.insert("key", envelope, 1);
  CHECK(hot.find("key", 2) == nullptr);
  hot.insert("key", envelope, 2);
  CHECK(hot.find("key", 2) != nullptr);
  CHECK(hot.stats().entries == 1);
  hot.insert("key", envelope, 1);  // an older read does not replace a newer copy
  CHECK(hot.find("key", 2) != nullptr);
}

TEST_SUITE_END();
