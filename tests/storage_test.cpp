// lib/storage on its own, without Store or memo: a Database in a temporary
// directory, written through batches and read back, held values, prefix
// scans, the count of entry changes the hot tier relies on, two openers of
// one directory (sharing it, or refused), and the refusal of a directory
// others can write to.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/database.hpp"
#include "support/test_support.hpp"
#include "util/endian.hpp"

namespace fs = std::filesystem;
using memostore::ErrorCode;
using memostore::detail::Access;
using memostore::detail::Batch;
using memostore::detail::Database;
using memostore::detail::DatabaseOptions;
using memostore::detail::Family;
using memostore::detail::HeldValue;
using memostore::detail::Overwrites;
using memostore::detail::ReadValue;
using memostore::test::TempDir;
using memostore::test::open_database;

namespace {

/// The value under `key`, or none.
std::optional<std::string> get(const Database& database, Family family, std::string_view key) {
  std::optional<std::string> value;
  auto found = database.get(family, key, [&](std::string_view bytes) { value = std::string(bytes); });
  REQUIRE(found.ok());
  CHECK(found.value() == value.has_value());
  return value;
}

void put(Database& database, Family family, std::string_view key, std::string_view value) {
  REQUIRE(database.put(family, key, value).ok());
}

/// The keys and values of `family` under `prefix`, in the order for_each gives them.
std::vector<std::pair<std::string, std::string>> scan(const Database& database, Family family,
                                                      std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> records;
  auto scanned = database.for_each(family, prefix, [&](std::string_view key, std::string_view value) {
    records.emplace_back(key, value);
    return true;
  });
  REQUIRE(scanned.ok());
  return records;
}

std::uint64_t counter(const Database& database, std::string_view name) {
  const auto bytes = get(database, Family::stats, name);
  REQUIRE(bytes.has_value());
  REQUIRE(bytes->size() == 8);
  return memostore::detail::get_u64le(bytes->data());
}

}  // namespace

TEST_SUITE_BEGIN("storage");

TEST_CASE("a batch's writes are read back in every family, after a reopen too, and removed keys are gone") {
  TempDir dir;
  const fs::path store = dir / "store";
  {
    auto database = open_database(store);
    Batch batch(*database);
    CHECK(batch.empty());
    batch.put(Family::entries, "k1", "entry one");
    batch.put(Family::entries, "k2", "entry two");
    batch.put(Family::meta, "k1", "meta one");
    batch.add("calls", 3);
    batch.add("calls", 4);
    batch.add("calls", -2);  // counters go down too
    CHECK_FALSE(batch.empty());
    REQUIRE(database->write(batch).ok());

    CHECK(get(*database, Family::entries, "k1") == "entry one");
    CHECK(get(*database, Family::entries, "k2") == "entry two");
    CHECK(get(*database, Family::meta, "k1") == "meta one");
    CHECK(counter(*database, "calls") == 5);
    CHECK_FALSE(get(*database, Family::entries, "k3").has_value());

    REQUIRE(database->remove(Family::entries, "k2").ok());
    CHECK_FALSE(get(*database, Family::entries, "k2").has_value());
  }
  auto reopened = open_database(store);
  CHECK(get(*reopened, Family::entries, "k1") == "entry one");
  CHECK_FALSE(get(*reopened, Family::entries, "k2").has_value());
  CHECK(get(*reopened, Family::meta, "k1") == "meta one");
  CHECK(counter(*reopened, "calls") == 5);
  Batch removal(*reopened);
  removal.remove(Family::entries, "k1");
  removal.add("calls", 1);
  REQUIRE(reopened->write(removal).ok());
  CHECK_FALSE(get(*reopened, Family::entries, "k1").has_value());
  CHECK(counter(*reopened, "calls") == 6);
}

TEST_CASE("a held value keeps its bytes past the read, an overwrite and the database's close") {
  TempDir dir;
  const fs::path store = dir / "store";
  std::string large(memostore::detail::k_min_blob_size * 4, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) {
    large[i] = static_cast<char>('a' + i % 26);
  }
  {
    auto database = open_database(store);
    put(*database, Family::entries, "large", large);
    put(*database, Family::entries, "small", "small value");
  }  // the first close gives every family a table: the large value is now in a blob file

  std::optional<HeldValue> held;
  std::optional<HeldValue> held_small;
  {
    auto database = open_database(store);
    auto found = database->get_holdable(Family::entries, "large", [&](ReadValue& value) {
      CHECK(value.blob_sized());
      CHECK(value.pinned());  // in the blob cache, not a copy
      CHECK(value.bytes() == large);
      held.emplace(value.hold());
      CHECK(value.bytes() == large);  // still valid, held by the result
    });
    REQUIRE(found.ok());
    REQUIRE(found.value());
    found = database->get_holdable(Family::entries, "small", [&](ReadValue& value) {
      CHECK_FALSE(value.blob_sized());
      held_small.emplace(value.hold());
    });
    REQUIRE(found.ok());
    REQUIRE(found.value());
    REQUIRE(held.has_value());
    CHECK(held->bytes() == large);

    put(*database, Family::entries, "large", "replaced");
    put(*database, Family::entries, "small", "replaced");
    CHECK(get(*database, Family::entries, "large") == "replaced");
    CHECK(held->bytes() == large);
    CHECK(held_small->bytes() == "small value");
    REQUIRE(database->compact().ok());  // the blob file the held value came from goes
    CHECK(held->bytes() == large);
  }
  // The held value keeps the caches it is pinned in alive (ASan checks that
  // nothing freed is read).
  CHECK(held->bytes() == large);
  CHECK(held_small->bytes() == "small value");
  const HeldValue moved = std::move(*held);
  CHECK(moved.bytes() == large);

  auto missing = open_database(store)->get_holdable(Family::entries, "absent", [](ReadValue&) { FAIL("called"); });
  REQUIRE(missing.ok());
  CHECK_FALSE(missing.value());
}

TEST_CASE("for_each visits exactly the keys under a prefix, in key order, until told to stop") {
  TempDir dir;
  auto database = open_database(dir / "store");
  for (const char* key : {"b/1", "a/2", "a", "a/1", "ab", "a/3", "\xff", "\xff\xff"}) {
    put(*database, Family::meta, key, std::string("value of ") + key);
  }
  using Records = std::vector<std::pair<std::string, std::string>>;
  CHECK(scan(*database, Family::meta, "a/") ==
        Records{{"a/1", "value of a/1"}, {"a/2", "value of a/2"}, {"a/3", "value of a/3"}});
  CHECK(scan(*database, Family::meta, "").size() == 8);
  CHECK(scan(*database, Family::meta, "c").empty());
  CHECK(scan(*database, Family::entries, "a/").empty());  // another family

  std::vector<std::string> visited;
  REQUIRE(database
              ->for_each(Family::meta, "a",
                         [&](std::string_view key, std::string_view) {
                           visited.emplace_back(key);
                           return visited.size() < 2;
                         })
              .ok());
  CHECK(visited == std::vector<std::string>{"a", "a/1"});

  REQUIRE(database->remove_prefix({Family::meta}, "a/").ok());
  CHECK(scan(*database, Family::meta, "a") == Records{{"a", "value of a"}, {"ab", "value of ab"}});
  REQUIRE(database->remove_prefix({Family::meta}, "\xff").ok());  // no key bounds it: up to the last
  CHECK(scan(*database, Family::meta, "\xff").empty());
  CHECK(scan(*database, Family::meta, "").size() == 3);
}

TEST_CASE("entry_changes moves on an overwrite or removal of an entry, not on a new key with Overwrites::no") {
  TempDir dir;
  auto database = open_database(dir / "store");
  const std::uint64_t before = database->entry_changes();

  Batch added(*database);
  added.put(Family::entries, "new", "value", Overwrites::no);
  added.put(Family::meta, "new", "bookkeeping");  // not an entry
  added.add(Family::meta, "hits/new", 1);
  REQUIRE(database->write(added).ok());
  CHECK(database->entry_changes() == before);
  CHECK(get(*database, Family::entries, "new") == "value");

  Batch replaced(*database);
  replaced.put(Family::entries, "new", "other value");  // Overwrites::maybe
  REQUIRE(database->write(replaced).ok());
  CHECK(database->entry_changes() == before + 1);

  REQUIRE(database->remove(Family::entries, "new").ok());
  CHECK(database->entry_changes() == before + 2);

  REQUIRE(database->remove_prefix({Family::entries}, "n").ok());
  CHECK(database->entry_changes() == before + 3);

  Batch empty(*database);
  REQUIRE(database->write(empty).ok());
  CHECK(database->entry_changes() == before + 3);
}

TEST_CASE("two openers of one directory see each other's writes after catch_up, and a read-only open sees both") {
  TempDir dir;
  const fs::path store = dir / "store";
  auto primary = open_database(store);
  auto secondary = open_database(store);  // the directory is held: shares it
  CHECK_FALSE(primary->secondary());
  CHECK(secondary->secondary());

  // Read once first: the secondary's view of the entries is then the one it
  // had before the primary's writes, until a catch-up moves it.
  CHECK_FALSE(get(*secondary, Family::entries, "from-primary").has_value());
  CHECK_FALSE(get(*secondary, Family::meta, "from-primary").has_value());
  put(*primary, Family::entries, "from-primary", "1");
  put(*primary, Family::meta, "from-primary", "m");
  REQUIRE(secondary->catch_up().ok());
  CHECK(get(*secondary, Family::entries, "from-primary") == "1");
  CHECK(get(*secondary, Family::meta, "from-primary") == "m");

  put(*secondary, Family::entries, "from-secondary", "2");
  CHECK(get(*secondary, Family::entries, "from-secondary") == "2");  // its own writes at once
  REQUIRE(primary->catch_up().ok());  // applies the hand-over unit
  CHECK(get(*primary, Family::entries, "from-secondary") == "2");

  DatabaseOptions read_only;
  read_only.access = Access::read_only;
  auto reader = open_database(store, read_only);
  CHECK(reader->read_only());
  CHECK(get(*reader, Family::entries, "from-primary") == "1");
  CHECK(get(*reader, Family::entries, "from-secondary") == "2");
  CHECK_FALSE(reader->put(Family::entries, "k", "v").ok());
}

TEST_CASE("a second read-write opener that may not share is refused with ErrorCode::locked") {
  TempDir dir;
  const fs::path store = dir / "store";
  auto holder = open_database(store);
  DatabaseOptions alone;
  alone.share_when_locked = false;
  auto refused = Database::open(store, alone);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure().code == ErrorCode::locked);
  CHECK(refused.failure().message.find(store.string()) != std::string::npos);

  holder.reset();
  CHECK(Database::open(store, alone).ok());  // free again
}

TEST_CASE("a directory that others can write to is refused, and nothing is created in it") {
  TempDir dir;
  const fs::path store = dir / "store";
  fs::create_directory(store);
  fs::permissions(store, fs::perms::owner_all | fs::perms::others_all, fs::perm_options::replace);
  auto refused = Database::open(store, {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure().code == ErrorCode::io);
  CHECK(refused.failure().message.find(store.string()) != std::string::npos);
  CHECK(refused.failure().message.find("writable by others") != std::string::npos);
  CHECK(fs::is_empty(store));

  fs::permissions(store, fs::perms::owner_all, fs::perm_options::replace);
  CHECK(Database::open(store, {}).ok());
}

TEST_SUITE_END();
