// Issue 25, "large arguments are keyed, not stored": arguments over
// k_digest_threshold are kept in an entry as their size and SHA-256, which
// every hit compares; entries stay small, hits and the collision guard work,
// verify / export / import accept them, and stores of format 2 (full
// arguments in every entry) still hit. Real RocksDB stores in temp dirs.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>
#include <rocksdb/db.h>
#include <xxhash.h>

#include "codec/arguments_digest.hpp"
#include "codec/envelope.hpp"
#include "codec/key.hpp"
#include "util/hex.hpp"
#include "support/entries.hpp"
#include "support/test_support.hpp"

using memostore::EntrySummary;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::TempDir;

using memostore::test::format_record;

namespace {

constexpr std::size_t k_ten_mb = 10'000'000;

/// Calls of the memoized functions below (captureless, so they count here).
int g_calls = 0;

std::size_t count_a(const std::string& text) {
  ++g_calls;
  std::size_t n = 0;
  for (char c : text) {
    n += c == 'a' ? 1 : 0;
  }
  return n;
}

std::string tag_of(const std::string& text) {
  ++g_calls;
  return text.substr(0, 8);
}

/// `size` bytes of `fill`, with `tag` at the front: large arguments that differ.
std::string big(std::size_t size, char fill, const std::string& tag = {}) {
  std::string text(size, fill);
  text.replace(0, tag.size(), tag);
  return text;
}

std::vector<EntrySummary> list(const Store& store) {
  std::vector<EntrySummary> entries;
  memostore::for_each_entry(store, {}, [&](const EntrySummary& entry) {
    entries.push_back(entry);
    return true;
  });
  return entries;
}

/// Restores the hooks a test changed, even when a check throws.
struct HookReset {
  ~HookReset() {
    memostore::detail::set_argument_hasher_for_testing(nullptr);
    memostore::detail::set_digest_threshold_for_testing(0);
  }
};


}  // namespace

TEST_SUITE_BEGIN("large arguments");

TEST_CASE("an envelope keeps arguments over the threshold as their size and SHA-256") {
  namespace d = memostore::detail;
  const std::string small(d::k_digest_threshold, 's');
  const std::string large(d::k_digest_threshold + 1, 'l');
  for (const std::string* arguments : {&small, &large}) {
    std::string buffer;
    d::start_envelope(buffer, *arguments);
    buffer += "payload";
    REQUIRE(d::finish_envelope(buffer, d::EntryInfo{}));
    auto entry = d::read_envelope(buffer);
    REQUIRE(entry.ok());
    const bool digest = arguments == &large;
    CHECK(entry->arguments_digest == digest);
    CHECK(entry->arguments.size() == (digest ? d::k_arguments_digest_size : small.size()));
    CHECK(entry->payload == "payload");
    CHECK(d::arguments_match(entry.value(), *arguments));
    std::string other = *arguments;
    other.back() = 'x';  // same size, other bytes
    CHECK_FALSE(d::arguments_match(entry.value(), other));
    CHECK_FALSE(d::arguments_match(entry.value(), arguments->substr(1)));
  }
  // SHA-256("abc") is the FIPS 180-2 test vector: the digest is SHA-256 of the arguments, after their size.
  const auto abc = d::digest_arguments("abc");
  REQUIRE(abc);
  CHECK(d::digested_size(*abc) == 3);
  CHECK(memostore::detail::to_hex(abc->substr(8)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a digest field of the wrong size is damage, not a digest") {
  namespace d = memostore::detail;
  std::string buffer;
  d::start_envelope(buffer, std::string(d::k_digest_threshold + 1, 'l'));
  REQUIRE(d::finish_envelope(buffer, d::EntryInfo{}));
  // The arguments field claims 39 bytes: the payload takes the 40th, sizes still add up.
  buffer[4] = static_cast<char>(d::k_arguments_digest_size - 1);
  const std::uint64_t checksum = XXH3_64bits(buffer.data(), buffer.size() - 8);
  for (int i = 0; i < 8; ++i) {
    buffer[buffer.size() - 8 + i] = static_cast<char>(checksum >> (8 * i));
  }
  auto entry = d::read_envelope(buffer);
  REQUIRE_FALSE(entry.ok());
  CHECK(entry.failure().message.find("digest") != std::string::npos);
}

TEST_CASE("an entry with a 10 MB argument is small, hits without a call, and show says it holds a digest") {
  TempDir dir;
  const std::string text = big(k_ten_mb, 'a', "first");
  g_calls = 0;
  {
    Store store = Store::open(dir.path());
    auto counted = memostore::memo(store, "count_a", count_a);
    CHECK(counted(text) == k_ten_mb - 5);
    CHECK(counted(text) == k_ten_mb - 5);  // from the hot tier
    CHECK(g_calls == 1);
    const auto entries = list(store);
    REQUIRE(entries.size() == 1);
    CHECK(entries.front().size < 512);  // was 10 MB and more with the arguments in it
    CHECK(store.stats().total.bytes == entries.front().size);
  }
  Store store = Store::open(dir.path());  // a new process's view: read from RocksDB
  auto counted = memostore::memo(store, "count_a", count_a);
  CHECK(counted(text) == k_ten_mb - 5);
  CHECK(g_calls == 1);
  CHECK(counted.cached(text));
  CHECK_FALSE(counted.cached(big(k_ten_mb, 'a', "other")));

  const auto entries = list(store);
  REQUIRE(entries.size() == 1);
  const auto detail = memostore::read_entry(store, entries.front());
  REQUIRE(detail);
  CHECK(detail->problem.empty());
  CHECK(detail->arguments.empty());
  CHECK(detail->arguments_size > k_ten_mb);  // the string and its length
  CHECK(detail->arguments_sha256.size() == 64);

  const auto shown = memostore::test::run_process(
      {memostore::test::tool(), "--dir", dir.path().string(), "show", entries.front().short_key()});
  INFO("stderr: " << shown.err);
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("stored as a digest: sha256 " + detail->arguments_sha256) != std::string::npos);
}

TEST_CASE("two large arguments under one key hash are a miss, never the other's value") {
  HookReset reset;
  memostore::detail::set_argument_hasher_for_testing(
      [](const memostore::detail::Hash128&, std::string_view) { return memostore::detail::Hash128{7, 7}; });
  TempDir dir;
  Store store = Store::open(dir.path());
  auto tag = memostore::memo(store, "tag", tag_of);
  const std::string first = big(k_ten_mb, '.', "first");
  const std::string second = big(k_ten_mb, '.', "second");  // same size, other bytes: only SHA-256 tells them apart
  g_calls = 0;
  CHECK(tag(first) == "first...");
  CHECK(tag(second) == "second..");  // same key as `first`: must not return its value
  CHECK(tag(first) == "first...");   // the entry was `second`'s: computed again
  CHECK(g_calls == 3);
  CHECK(tag.cached(first));
  CHECK_FALSE(tag.cached(second));
  REQUIRE(list(store).size() == 1);
  CHECK(list(store).front().size < 512);
}

TEST_CASE("MEMOSTORE_EXPLAIN finds a large argument's entry stored under another type") {
  TempDir dir;
  memostore::test::ScopedEnv explain("MEMOSTORE_EXPLAIN", "1");
  memostore::test::LogCapture log;
  Store store = Store::open(dir.path());
  const std::string text = big(50'000, 'a', "typed");
  (void)memostore::memo(store, "f", count_a)(text);  // a std::size_t result
  (void)memostore::memo(store, "f", tag_of)(text);   // a std::string result: another type, another key
  const auto infos = log.infos();
  REQUIRE(infos.size() == 2);
  CHECK(infos.back().find("the stored entry has another result or argument type") != std::string::npos);
  (void)memostore::memo(store, "f", count_a)(big(50'000, 'a', "other"));  // same size, other bytes
  CHECK(log.infos().back().find("another result or argument type") == std::string::npos);
}

TEST_CASE("a signed store signs and checks digest entries") {
  TempDir dir;
  const std::string text = big(100'000, 'a', "signed");
  g_calls = 0;
  {
    Store store = Store::open(StoreOptions{.dir = dir.path(), .secret = "a secret"});
    auto counted = memostore::memo(store, "count_a", count_a);
    (void)counted(text);
  }
  Store store = Store::open(StoreOptions{.dir = dir.path(), .secret = "a secret"});
  auto counted = memostore::memo(store, "count_a", count_a);
  CHECK(counted(text) == 100'000 - 6);
  CHECK(g_calls == 1);
  CHECK(store.stats().total.rejected == 0);
  CHECK(memostore::verify(store).clean());
}

TEST_CASE("verify, export and import accept digest entries, and verify still finds their damage") {
  TempDir dir;
  const std::string text = big(50'000, 'a', "moved");
  g_calls = 0;
  {
    Store store = Store::open(dir / "a");
    auto counted = memostore::memo(store, "count_a", count_a);
    (void)counted(text);
    CHECK(memostore::verify(store).clean());
    const auto exported = memostore::export_to(store, dir / "export");
    CHECK(exported.entries == 1);
    CHECK(exported.rejected.empty());
  }
  {
    Store target = Store::open(dir / "b");
    const auto imported = memostore::import_from(target, dir / "export");
    CHECK(imported.entries == 1);
    CHECK(imported.rejected.empty());
    auto counted = memostore::memo(target, "count_a", count_a);
    CHECK(counted(text) == 50'000 - 5);
    CHECK(g_calls == 1);  // the imported entry hit
  }
  Store store = Store::open(dir / "a");
  const std::string key = list(store).front().key;
  memostore::test::tamper_entry(store, key, [](std::string& bytes) {
    bytes[memostore::detail::k_envelope_header_size + 12] ^= 1;  // a byte of the digest
  });
  const auto report = memostore::verify(store);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems.front().what.find("checksum") != std::string::npos);
}

TEST_CASE("a format-2 store, whose entries hold their arguments in full, still hits and is upgraded") {
  HookReset reset;
  TempDir dir;
  const std::string text = big(20'000, 'a', "older");
  g_calls = 0;
  {
    // What the format-2 code wrote: the arguments themselves, at any size.
    memostore::detail::set_digest_threshold_for_testing(SIZE_MAX);
    Store store = Store::open(dir.path());
    auto counted = memostore::memo(store, "count_a", count_a);
    (void)counted(text);
    CHECK(list(store).front().size > 20'000);
  }
  CHECK(format_record(dir.path(), "2") == "2");
  memostore::detail::set_digest_threshold_for_testing(0);
  {
    Store reader = Store::open(StoreOptions{.dir = dir.path(), .mode = memostore::Mode::readonly});
    auto counted = memostore::memo(reader, "count_a", count_a);
    CHECK(counted(text) == 20'000 - 5);
  }
  CHECK(format_record(dir.path()) == "2");  // reading does not upgrade
  { (void)Store::open(dir.path()); }
  CHECK(format_record(dir.path()) == "4");
  Store store = Store::open(dir.path());
  auto counted = memostore::memo(store, "count_a", count_a);
  CHECK(counted(text) == 20'000 - 5);
  CHECK(g_calls == 1);
  const auto detail = memostore::read_entry(store, list(store).front());
  REQUIRE(detail);
  CHECK(detail->arguments.size() == detail->arguments_size);  // still stored in full
  CHECK(detail->arguments_sha256.empty());
  CHECK(memostore::verify(store).clean());
}

TEST_SUITE_END();
