// The admin API (include/memostore/admin.hpp) on real stores: listing and
// reading entries, exact contents, clearing by function and version, gc by
// age, zeroing counters, verify and fix, export / import and merge, and the
// store format upgrade.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>
#include <rocksdb/db.h>

#include "support/entries.hpp"
#include "support/test_support.hpp"

using memostore::EntryFilter;
using memostore::EntrySummary;
using memostore::ManualClock;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::TempDir;
using memostore::test::open_store;
using memostore::test::tamper_entry;
using namespace std::chrono_literals;

using memostore::test::format_record;

namespace {

std::vector<EntrySummary> list(const Store& store, const EntryFilter& filter = {}) {
  std::vector<EntrySummary> entries;
  memostore::for_each_entry(store, filter, [&](const EntrySummary& entry) {
    entries.push_back(entry);
    return true;
  });
  return entries;
}

/// (key, size, created) of every entry: what must survive a move between stores.
std::vector<std::tuple<std::string, std::uint64_t, std::int64_t>> identities(const Store& store) {
  std::vector<std::tuple<std::string, std::uint64_t, std::int64_t>> result;
  for (const EntrySummary& entry : list(store)) {
    result.emplace_back(entry.key, entry.size, entry.created.time_since_epoch().count());
  }
  return result;
}

const memostore::FunctionStats* stats_of(const memostore::StoreStats& stats, const std::string& name) {
  for (const auto& f : stats.functions) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace

TEST_SUITE_BEGIN("admin");

TEST_CASE("listing shows every entry with its function, version, size and hits") {
  TempDir dir;
  {
    Store store = open_store(dir.path());
    auto f = memostore::memo(store, "f", [](int x) { return std::string(10 + x, 'f'); }, {.version = 1});
    auto g = memostore::memo(store, "g", [](int x) { return std::to_string(x); }, {.version = 2});
    for (int i = 0; i < 5; ++i) {
      (void)f(i);
    }
    for (int i = 0; i < 3; ++i) {
      (void)g(i);
    }
    (void)f(0);
    (void)f(0);
    store.flush();

    const auto all = list(store);
    REQUIRE(all.size() == 8);
    CHECK(list(store, {.function = "f"}).size() == 5);
    CHECK(list(store, {.function = "g", .version = 2}).size() == 3);
    CHECK(list(store, {.function = "g", .version = 1}).empty());
    std::uint64_t hits = 0;
    for (const EntrySummary& entry : all) {
      CHECK(entry.hash.size() == 32);
      CHECK(entry.short_key() == entry.hash.substr(0, 12));
      CHECK(entry.version == (entry.function == "f" ? 1u : 2u));
      const auto stored = memostore::test::stored_entry(store, entry.key);
      REQUIRE(stored);
      CHECK(entry.size == entry.key.size() + stored->size());
      hits += entry.hits;
    }
    CHECK(hits == 2);  // both on f(0)'s entry

    // find_entries: by short key, and refuses what is not a key.
    // f and g have the same types, so f(i) and g(i) share a hash: a key
    // names an entry together with its function.
    const auto g_entries = list(store, {.function = "g"});
    REQUIRE_FALSE(g_entries.empty());
    const auto both = memostore::find_entries(store, g_entries[0].short_key());
    const auto found = memostore::find_entries(store, g_entries[0].short_key(), "g");
    REQUIRE(found.size() == 1);
    CHECK(found[0].key == g_entries[0].key);
    REQUIRE(both.size() == 2);
    CHECK(both[0].function == "f");
    CHECK(both[0].hash == found[0].hash);
  }
}

TEST_CASE("find_entries refuses text that is not hex") {
  TempDir dir;
  Store store = open_store(dir.path());
  CHECK_THROWS_AS(memostore::find_entries(store, "xyz"), memostore::Error);
  CHECK_THROWS_AS(memostore::find_entries(store, std::string(33, 'a')), memostore::Error);
}

TEST_CASE("read_entry gives the arguments, value size and a preview; a damaged entry names its problem") {
  TempDir dir;
  Store store = open_store(dir.path());
  auto f = memostore::memo(store, "f", [](const std::string& s) { return s + s; });
  (void)f("abc");
  const auto entries = list(store);
  REQUIRE(entries.size() == 1);
  auto detail = memostore::read_entry(store, entries[0]);
  REQUIRE(detail);
  CHECK(detail->problem.empty());
  CHECK(detail->arguments.find("abc") != std::string::npos);
  CHECK(detail->value_size == 8 + 6);  // u64 length + "abcabc"
  CHECK(detail->value_preview.substr(8) == "abcabc");
  CHECK(detail->type.size() == 32);

  tamper_entry(store, entries[0].key, [](std::string& bytes) { bytes[bytes.size() - 12] ^= 0x01; });
  detail = memostore::read_entry(store, entries[0]);
  REQUIRE(detail);
  CHECK(detail->problem.find("checksum") != std::string::npos);
}

TEST_CASE("contents counts entries, bytes, versions and ages exactly") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir.path(), {.clock = clock});
  auto v1 = memostore::memo(store, "f", [](int x) { return x; }, {.version = 1});
  auto v2 = memostore::memo(store, "f", [](int x) { return x; }, {.version = 2});
  (void)v1(1);
  clock->advance(1h);
  (void)v2(1);
  (void)v2(2);
  const auto held = memostore::contents(store);
  REQUIRE(held.functions.size() == 1);
  const auto& f = held.functions[0];
  CHECK(f.name == "f");
  CHECK(f.entries == 3);
  CHECK(f.versions == std::vector<std::uint32_t>{1, 2});
  REQUIRE(f.oldest);
  REQUIRE(f.newest);
  CHECK(*f.newest - *f.oldest == 1h);
  CHECK(held.bytes == f.bytes);
  CHECK(f.bytes == store.stats().total.bytes);
  CHECK(held.disk_bytes > 0);
}

TEST_CASE("clearing one version removes only it and corrects the totals") {
  TempDir dir;
  Store store = open_store(dir.path());
  auto v1 = memostore::memo(store, "f", [](int x) { return x; }, {.version = 1});
  auto v2 = memostore::memo(store, "f", [](int x) { return x * 2; }, {.version = 2});
  auto g = memostore::memo(store, "g", [](int x) { return x; });
  for (int i = 0; i < 4; ++i) {
    (void)v1(i);
    (void)g(i);
  }
  (void)v2(0);
  std::uint64_t v1_bytes = 0;
  for (const auto& entry : list(store, {.function = "f", .version = 1})) {
    v1_bytes += entry.size;
  }
  const auto freed = memostore::clear(store, {.function = "f", .version = 1});
  CHECK(freed.entries == 4);
  CHECK(freed.bytes == v1_bytes);
  CHECK(list(store, {.function = "f"}).size() == 1);
  CHECK(list(store, {.function = "g"}).size() == 4);
  const auto stats = store.stats();
  REQUIRE(stats_of(stats, "f"));
  CHECK(stats_of(stats, "f")->entries == 1);
  CHECK(stats_of(stats, "f")->bytes == list(store, {.function = "f"})[0].size);

  const auto all = memostore::clear(store, {});
  CHECK(all.entries == 5);
  CHECK(list(store).empty());
  CHECK(store.stats().total.entries == 0);
  CHECK_THROWS_AS(memostore::clear(store, {.version = 1}), memostore::Error);
}

TEST_CASE("gc with older_than removes entries unused for longer, and max_bytes overrides the budget") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Store store = open_store(dir.path(), {.clock = clock});
  auto f = memostore::memo(store, "f", [](int x) { return std::string(100, static_cast<char>('a' + x)); });
  (void)f(0);
  (void)f(1);
  (void)f(2);
  clock->advance(2h);
  (void)f(1);  // used recently: stays
  const auto report = memostore::gc(store, {.older_than = 1h});
  CHECK(report.unused_entries == 2);
  const auto left = list(store);
  REQUIRE(left.size() == 1);
  CHECK(left[0].hits == 1);

  for (int i = 3; i < 10; ++i) {
    (void)f(i);
  }
  const std::uint64_t entry_size = left[0].size;
  const auto squeezed = memostore::gc(store, {.max_bytes = 3 * entry_size});
  CHECK(squeezed.evicted_entries > 0);
  CHECK(memostore::contents(store).bytes <= 3 * entry_size);
}

TEST_CASE("zero_stats resets the counters and keeps the totals") {
  TempDir dir;
  Store store = open_store(dir.path());
  auto f = memostore::memo(store, "f", [](int x) { return x; });
  (void)f(1);
  (void)f(1);
  memostore::zero_stats(store);
  const auto stats = store.stats();
  CHECK(stats.total.hits == 0);
  CHECK(stats.total.misses == 0);
  CHECK(stats.total.stores == 0);
  CHECK(stats.total.entries == 1);
  CHECK(stats.total.bytes > 0);
}

TEST_CASE("verify finds damaged and misplaced entries; fix removes them and the totals follow") {
  TempDir dir;
  Store store = open_store(dir.path());
  int calls = 0;
  auto f = memostore::memo(store, "f", memostore::state_not_keyed([&](int x) {
    ++calls;
    return x * 10;
  }));
  for (int i = 0; i < 5; ++i) {
    (void)f(i);
  }
  CHECK(memostore::verify(store).clean());
  const auto entries = list(store);
  // One flipped byte, and one entry's bytes planted under another's key.
  tamper_entry(store, entries[0].key, [](std::string& bytes) { bytes[bytes.size() - 9] ^= 0x40; });
  const auto planted_bytes = memostore::test::stored_entry(store, entries[2].key);
  REQUIRE(planted_bytes);
  const std::string planted = *planted_bytes;
  tamper_entry(store, entries[1].key, [&](std::string& bytes) { bytes = planted; });

  const auto found = memostore::verify(store);
  CHECK(found.entries_checked == 5);
  REQUIRE(found.problems.size() == 2);
  CHECK(found.problems[0].function == "f");
  CHECK(found.problems[0].hash == entries[0].hash);
  CHECK(found.problems[0].what.find("checksum") != std::string::npos);
  CHECK(found.problems[1].hash == entries[1].hash);
  CHECK(found.problems[1].what.find("not the hash of the stored arguments") != std::string::npos);
  CHECK(found.removed == 0);

  const auto fixed = memostore::verify(store, {.damaged = memostore::DamagedEntries::remove});
  CHECK(fixed.problems.size() == 2);
  CHECK(fixed.removed == 2);
  CHECK(memostore::verify(store).clean());
  CHECK(list(store).size() == 3);
  CHECK(store.stats().total.entries == 3);
  CHECK(memostore::contents(store).bytes == store.stats().total.bytes);
  // The planted value is never returned: the call recomputes.
  const int before = calls;
  CHECK(f(1) == 10);
  CHECK(calls == before + 1);
}

TEST_CASE("verify --fix needs a writable store") {
  TempDir dir;
  { (void)open_store(dir.path()); }
  Store reader = Store::open(StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly});
  CHECK(memostore::verify(reader).clean());
  CHECK_THROWS_AS(memostore::verify(reader, {.damaged = memostore::DamagedEntries::remove}), memostore::Error);
}

TEST_CASE("both clears and both gcs refuse a readonly store alike, naming it, and leave its entries") {
  TempDir dir;
  {
    Store writer = open_store(dir.path());
    auto f = memostore::memo(writer, "f", [](int x) { return x * 10; });
    (void)f(1);
    (void)f(2);
  }
  Store reader = Store::open(StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly});
  const std::vector<std::pair<const char*, std::function<void()>>> changes = {
      {"Store::clear", [&] { reader.clear(); }},
      {"memostore::clear", [&] { (void)memostore::clear(reader, {}); }},
      {"Store::gc", [&] { (void)reader.gc(); }},
      {"memostore::gc", [&] { (void)memostore::gc(reader, {}); }},
  };
  for (const auto& [name, change] : changes) {
    CAPTURE(name);
    const std::string message = memostore::test::error_message(change, memostore::ErrorCode::usage);
    CHECK(message.find(dir.path().string()) != std::string::npos);
    CHECK(message.find("open readonly") != std::string::npos);
  }
  CHECK(list(reader).size() == 2);
}

TEST_CASE("both clears and both gcs do nothing in off mode") {
  TempDir dir;
  memostore::test::ScopedEnv off("MEMOSTORE_MODE", "off");
  Store store = open_store(dir / "never");
  store.clear();
  CHECK(memostore::clear(store, {}).entries == 0);
  CHECK(store.gc().evicted_entries == 0);
  CHECK(memostore::gc(store, {}).evicted_entries == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "never"));
}

TEST_CASE("the old names (Freed, export_store, import_store, merge_store, VerifyOptions::fix) still work") {
  // Kept for one release, [[deprecated]]: this is their one use in the project.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  TempDir dir;
  {
    Store source = open_store(dir / "a");
    auto f = memostore::memo(source, "f", [](int x) { return x + 1; }, {.share_inflight = true});
    (void)f(1);
    CHECK(memostore::export_store(source, dir / "a.msx").entries == 1);
  }
  Store target = open_store(dir / "b");
  CHECK(memostore::import_store(target, dir / "a.msx").entries == 1);
  CHECK(memostore::merge_store(target, dir / "a").kept == 1);
  const memostore::VerifyOptions old_fix{.fix = true};
  CHECK(old_fix.removes_damaged());
  CHECK(memostore::MemoOptions{.share_inflight = true}.shares_inflight());
  CHECK_FALSE(memostore::MemoOptions{}.shares_inflight());
  const memostore::Freed freed = memostore::clear(target, {});
  CHECK(freed.entries == 1);
#pragma GCC diagnostic pop
}

TEST_CASE("export then import into an empty store gives the same entries, and their values hit") {
  TempDir dir;
  std::vector<std::tuple<std::string, std::uint64_t, std::int64_t>> exported;
  {
    Store source = open_store(dir / "a");
    auto f = memostore::memo(source, "f", [](int x) { return std::string(x * 1000, 'x'); });  // up to blob size
    for (int i = 0; i < 40; ++i) {
      (void)f(i);
    }
    const auto report = memostore::export_to(source, dir / "snapshot.msx");
    CHECK(report.entries == 40);
    CHECK(report.rejected.empty());
    exported = identities(source);
  }
  CHECK_FALSE(std::filesystem::exists(dir / ("snapshot.msx.tmp-" + std::to_string(::getpid()))));
  Store target = open_store(dir / "b");
  const auto report = memostore::import_from(target, dir / "snapshot.msx");
  CHECK(report.entries == 40);
  CHECK(identities(target) == exported);
  CHECK(target.stats().total.entries == 40);
  int calls = 0;
  auto f = memostore::memo(target, "f", memostore::state_not_keyed([&](int x) {
    ++calls;
    return std::string(x * 1000, 'x');
  }));
  CHECK(f(39) == std::string(39000, 'x'));
  CHECK(calls == 0);

  // Importing again changes nothing: every entry is as new as the one held.
  const auto again = memostore::import_from(target, dir / "snapshot.msx");
  CHECK(again.entries == 0);
  CHECK(again.kept == 40);
}

TEST_CASE("import refuses a damaged or lying export file and keeps what passed its checks") {
  TempDir dir;
  {
    Store source = open_store(dir / "a");
    auto f = memostore::memo(source, "f", [](int x) { return x; });
    for (int i = 0; i < 10; ++i) {
      (void)f(i);
    }
    (void)memostore::export_to(source, dir / "good.msx");
  }
  std::string file;
  {
    std::ifstream in(dir / "good.msx", std::ios::binary);
    file.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
  };

  SUBCASE("not an export file") {
    Store target = open_store(dir / "b");
    const std::string message = memostore::test::error_message(
        [&] { (void)memostore::import_from(target, write("other", "hello, world, not an export")); },
        memostore::ErrorCode::format);
    CHECK(message.find("not a memostore export") != std::string::npos);
  }
  SUBCASE("truncated: the entries before the cut are kept") {
    Store target = open_store(dir / "b");
    CHECK_THROWS_AS(memostore::import_from(target, write("cut", file.substr(0, file.size() / 2))), memostore::Error);
    const auto kept = list(target).size();
    CHECK(kept > 0);
    CHECK(kept < 10);
    CHECK(memostore::verify(target).clean());
  }
  SUBCASE("a flipped byte in a value: that entry is rejected, the file reported damaged") {
    // The first record: tag at 20, key size at 21, the key at 25, then the
    // envelope size and the envelope, whose last byte is its checksum's.
    const std::uint32_t key_size = static_cast<unsigned char>(file[21]);
    const std::size_t envelope_at = 25 + key_size + 8;
    const std::size_t envelope_size = static_cast<unsigned char>(file[envelope_at - 8]);
    std::string damaged = file;
    damaged[envelope_at + envelope_size - 1] ^= 0x10;
    Store target = open_store(dir / "b");
    CHECK_THROWS_AS(memostore::import_from(target, write("flipped", damaged)), memostore::Error);
    CHECK(list(target).size() == 9);
    CHECK(memostore::verify(target).clean());
  }
  SUBCASE("a record claiming 2^60 bytes is refused before anything is allocated") {
    // The first record's envelope size follows magic (16), version (4), tag (1),
    // key size (4) and the key.
    const std::uint32_t key_size = static_cast<unsigned char>(file[21]);
    std::string lying = file;
    const std::uint64_t huge = std::uint64_t{1} << 60;
    for (int i = 0; i < 8; ++i) {
      lying[25 + key_size + static_cast<std::size_t>(i)] = static_cast<char>((huge >> (8 * i)) & 0xff);
    }
    Store target = open_store(dir / "b");
    const std::string message = memostore::test::error_message(
        [&] { (void)memostore::import_from(target, write("lying", lying)); }, memostore::ErrorCode::corruption);
    CHECK(message.find("more than the file holds") != std::string::npos);
    CHECK(list(target).empty());
  }
}

TEST_CASE("merge gives the union, and on a key both hold the newer entry wins") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  std::string answer = "old";
  auto compute = [&](int) { return answer; };
  {
    Store a = open_store(dir / "a", {.clock = clock});
    auto f = memostore::memo(a, "f", memostore::state_not_keyed(compute));
    (void)f(1);  // "old", created first
    (void)f(2);
  }
  clock->advance(1h);
  answer = "new";
  {
    Store b = open_store(dir / "b", {.clock = clock});
    auto f = memostore::memo(b, "f", memostore::state_not_keyed(compute));
    (void)f(1);  // "new", created later
    (void)f(3);
  }
  Store a = open_store(dir / "a", {.clock = clock});
  const auto report = memostore::merge_from(a, dir / "b");
  CHECK(report.entries == 2);
  CHECK(report.kept == 0);
  CHECK(list(a).size() == 3);
  answer = "computed";
  auto f = memostore::memo(a, "f", memostore::state_not_keyed(compute));
  CHECK(f(1) == "new");
  CHECK(f(2) == "old");
  CHECK(f(3) == "new");
  CHECK(a.stats().total.entries == 3);

  // The other way round, b's newer entry is kept.
  Store b = open_store(dir / "b", {.clock = clock});
  const auto back = memostore::merge_from(b, dir / "a");
  CHECK(back.kept == 2);  // f(1) and f(3) are as new in b
  CHECK(back.entries == 1);
  CHECK_THROWS_AS(memostore::merge_from(b, dir / "b"), memostore::Error);
}

TEST_CASE("format-1, 2 and 3 stores are upgraded on open, and a newer format is refused with a clear error") {
  TempDir dir;
  { (void)open_store(dir.path()); }
  CHECK(format_record(dir.path()) == "4");
  for (const char* older : {"1", "2", "3"}) {
    (void)format_record(dir.path(), older);
    { (void)Store::open(StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly}); }
    CHECK(format_record(dir.path()) == older);  // reading does not upgrade
    { (void)open_store(dir.path()); }
    CHECK(format_record(dir.path()) == "4");
  }

  (void)format_record(dir.path(), "5");
  const std::string message =
      memostore::test::error_message([&] { (void)open_store(dir.path()); }, memostore::ErrorCode::format);
  CHECK(message.find("format 5") != std::string::npos);
  CHECK(message.find(dir.path().string()) != std::string::npos);
}

TEST_SUITE_END();
