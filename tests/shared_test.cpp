// Memo::shared and lineage keys: repeated hits return one decoded object,
// retired like the hot tier's copy; a Shared argument is keyed by its
// result's digest, the same in every process, store and tier.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <xxhash.h>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "shared_other_type.hpp"
#include "support/children.hpp"
#include "support/counting.hpp"
#include "support/entries.hpp"
#include "support/lineage.hpp"
#include "support/redis_server.hpp"
#include "support/stores.hpp"
#include "support/test_support.hpp"
#include "store/store_core.hpp"

using memostore::Shared;
using memostore::Store;
using memostore::StoreOptions;
using memostore::test::TempDir;
using memostore::test::open_store;

namespace {

/// A result that counts how often it was decoded, and the numbers decoded
/// objects still alive hold.
struct Table {
  std::vector<double> values;
  std::int64_t counted = 0;  // bytes this object adds to decoded_bytes
  inline static std::atomic<int> decoded{0};
  inline static std::atomic<std::int64_t> decoded_bytes{0};

  Table() = default;
  Table(const Table& other) : values(other.values) {}
  Table(Table&& other) noexcept : values(std::move(other.values)), counted(std::exchange(other.counted, 0)) {}
  Table& operator=(const Table& other) {
    values = other.values;
    return *this;
  }
  Table& operator=(Table&& other) noexcept {
    values = std::move(other.values);
    decoded_bytes -= counted;
    counted = std::exchange(other.counted, 0);
    return *this;
  }
  ~Table() { decoded_bytes -= counted; }

  template <class Archive>
  void save(Archive& ar) const {
    ar(values);
  }
  template <class Archive>
  void load(Archive& ar) {
    ++decoded;
    ar(values);
    counted = static_cast<std::int64_t>(values.size() * sizeof(double));
    decoded_bytes += counted;
  }
};

/// Shares its name with shared_other_type.cpp's result type (see there).
struct Confusable {
  std::string text;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(text);
  }
};

std::atomic<int> g_made{0};
std::atomic<int> g_scale{1};  // what make_table's results depend on besides the key (a test's knob)

Table make_table(int n) {
  ++g_made;
  Table table;
  for (int i = 0; i < n; ++i) {
    table.values.push_back(static_cast<double>(i * g_scale.load()));
  }
  return table;
}

auto tables(const Store& store, memostore::MemoOptions options = {}) {
  return memostore::memo(store, "tables", &make_table, options);
}

const void* address(const Shared<Table>& table) { return table.pointer().get(); }

std::vector<memostore::EntrySummary> entries_of(const Store& store, const std::string& function) {
  std::vector<memostore::EntrySummary> entries;
  memostore::for_each_entry(store, {.function = function}, [&](const memostore::EntrySummary& entry) {
    entries.push_back(entry);
    return true;
  });
  return entries;
}

void reset_counts() {
  g_made = 0;
  g_scale = 1;
  Table::decoded = 0;
}

}  // namespace

TEST_SUITE_BEGIN("shared");

TEST_CASE("repeated shared hits return one const object, decoded once, usable after the store closes") {
  reset_counts();
  TempDir dir;
  std::optional<Shared<Table>> kept;
  {
    Store store = open_store(dir / "cache");
    auto memo = tables(store);
    const Shared<Table> computed = memo.shared(1000);  // a miss: the computed object, never decoded
    CHECK(g_made == 1);
    CHECK(Table::decoded == 0);
    const Shared<Table> first = memo.shared(1000);  // read and decoded, kept with the entry
    CHECK(Table::decoded == 1);
    CHECK(first.digest() == computed.digest());
    CHECK(first->values == computed->values);
    for (int i = 0; i < 10; ++i) {
      const Shared<Table> again = memo.shared(1000);
      CHECK(address(again) == address(first));
    }
    CHECK(Table::decoded == 1);
    CHECK(g_made == 1);
    static_assert(std::is_same_v<decltype(*first), const Table&>);
    static_assert(std::is_same_v<decltype((first->values)), const std::vector<double>&>);
    // The copying call is unchanged: a fresh copy per hit.
    Table copy = memo(1000);
    copy.values.push_back(1);
    CHECK(memo.shared(1000)->values.size() == 1000);
    kept = first;
  }
  CHECK((*kept)->values.size() == 1000);  // the store is closed; the object lives on
  CHECK((*kept)->values[999] == 999.0);
}

TEST_CASE("a kept decoded result is retired by forget, clear, a new result, ttl and eviction") {
  reset_counts();
  TempDir dir;
  auto clock = std::make_shared<memostore::ManualClock>();
  Store store = open_store(dir / "cache", StoreOptions{.clock = clock});
  auto memo = tables(store, {.ttl = std::chrono::hours(1)});
  (void)memo.shared(10);
  auto kept = [&] {  // two hits on one object, and that object
    const Shared<Table> a = memo.shared(10);
    const Shared<Table> b = memo.shared(10);
    REQUIRE(address(a) == address(b));
    return a;
  };

  SUBCASE("forget") {
    const Shared<Table> before = kept();
    memo.forget(10);
    CHECK(address(memo.shared(10)) != address(before));
    CHECK(g_made == 2);
  }
  SUBCASE("clear") {
    const Shared<Table> before = kept();
    memo.clear();
    CHECK(address(memo.shared(10)) != address(before));
    CHECK(g_made == 2);
  }
  SUBCASE("Store::clear") {
    const Shared<Table> before = kept();
    store.clear();
    CHECK(address(memo.shared(10)) != address(before));
    CHECK(g_made == 2);
  }
  SUBCASE("a new result (refresh)") {
    const Shared<Table> before = kept();
    g_scale = 2;
    (void)memo.refresh(10);
    const Shared<Table> after = memo.shared(10);
    CHECK(after->values[9] == 18.0);  // never the old object's 9
    CHECK(after.digest() != before.digest());
    CHECK(before->values[9] == 9.0);  // a holder keeps what it had
  }
  SUBCASE("ttl") {
    const Shared<Table> before = kept();
    clock->advance(std::chrono::hours(2));
    const Shared<Table> after = memo.shared(10);
    CHECK(g_made == 2);  // expired: computed again, not served from memory
    CHECK(address(after) != address(before));
  }
  SUBCASE("but not by a change to another entry") {
    // A removal anywhere makes every copy in memory read again (the store
    // cannot tell which entries it touched); an entry read again with the
    // same digest keeps its decoded object.
    const Shared<Table> before = kept();
    (void)memo(11);
    memo.forget(11);
    const int decoded = Table::decoded;
    CHECK(address(memo.shared(10)) == address(before));
    CHECK(Table::decoded == decoded);
  }
  SUBCASE("eviction") {
    auto bounded = tables(store, {.ttl = std::chrono::hours(1), .max_entries = 1});
    const Shared<Table> before = kept();
    clock->advance(std::chrono::minutes(1));
    (void)bounded.shared(11);  // over the function's budget: the least recently used entry goes
    REQUIRE_FALSE(bounded.cached(10));
    CHECK(address(bounded.shared(10)) != address(before));
    CHECK(g_made == 3);
  }
}

TEST_CASE("another process's forget retires the decoded result when this process catches up") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  int computed = 0;
  auto memo_square = memostore::test::counting_square(store, computed);
  (void)memo_square.shared(5);
  const auto first = memo_square.shared(5);
  REQUIRE(memo_square.shared(5).pointer() == first.pointer());
  memostore::test::ChildProcess other({memostore::test::child_program(), (dir / "cache").string(), "forget", "5"});
  CHECK(other.read_line() == "forgot");
  REQUIRE(other.wait() == 0);
  store.catch_up();
  const auto after = memo_square.shared(5);
  CHECK(computed == 2);
  CHECK(after.pointer() != first.pointer());
  CHECK(*after == memostore::test::square(5));
}

TEST_CASE("decoded results count against the hot tier's budget; one larger than the budget is not kept") {
  reset_counts();
  TempDir dir;
  // 64 KiB of hot tier: 4 KiB per shard. A 300-number table encodes to 2.4 KB:
  // its entry fits a shard, the entry and its decoded result do not.
  Store store = open_store(dir / "cache", StoreOptions{.hot_cache_bytes = 64 << 10});
  auto memo = tables(store);
  (void)memo.shared(300);
  {
    const Shared<Table> a = memo.shared(300);
    const Shared<Table> b = memo.shared(300);
    CHECK(address(a) != address(b));  // decoded each time: too large to keep
    CHECK(Table::decoded == 2);
  }
  // Many smaller ones: within the budget, with every decoded result kept
  // counted at its encoded size on top of its entry's copy.
  for (int n = 100; n <= 160; ++n) {
    (void)memo.shared(n);
    (void)memo.shared(n);
    CHECK(store.stats().hot.bytes <= std::uint64_t{64} << 10);
  }
  {
    const Shared<Table> small = memo.shared(160);
    CHECK(address(memo.shared(160)) == address(small));  // the latest ones are kept
  }
  // Every decoded object alive now is one the hot tier keeps.
  CHECK(Table::decoded_bytes > 0);
  CHECK(store.stats().hot.bytes >= static_cast<std::uint64_t>(2 * Table::decoded_bytes));

  SUBCASE("large results: within blob_cache_bytes") {
    // 100,000 numbers (800 KB, in a blob file) against 1 MiB for held entries:
    // the entry and its decoded result (1.6 MB) do not fit, so neither is kept.
    TempDir other;
    Store large = open_store(other / "cache", StoreOptions{.blob_cache_bytes = 1 << 20});
    auto big = tables(large);
    (void)big.shared(100'000);
    CHECK(address(big.shared(100'000)) != address(big.shared(100'000)));
    CHECK(large.stats().hot.bytes <= std::uint64_t{1} << 20);
    // With room for it, kept.
    TempDir roomy;
    Store roomy_store = open_store(roomy / "cache", StoreOptions{.blob_cache_bytes = 8 << 20});
    auto kept = tables(roomy_store);
    (void)kept.shared(100'000);
    const Shared<Table> first = kept.shared(100'000);
    CHECK(address(kept.shared(100'000)) == address(first));
    CHECK(roomy_store.stats().hot.bytes >= 1'600'000);  // the pinned entry and its decoded result
  }
}

TEST_CASE("a Shared argument is keyed by its digest: an unchanged upstream result keeps downstream hits") {
  reset_counts();
  TempDir dir;
  Store store = open_store(dir / "cache");
  auto up = tables(store);
  std::atomic<int> summed{0};
  auto down = memostore::memo(store, "total", memostore::state_not_keyed([&summed](const Shared<Table>& table) {
                                ++summed;
                                double total = 0;
                                for (double v : table->values) {
                                  total += v;
                                }
                                return total;
                              }));
  const Shared<Table> first = up.shared(100'000);
  CHECK(down(first) == 4'999'950'000.0);
  CHECK(down(first) == 4'999'950'000.0);
  CHECK(summed == 1);
  // The downstream entry holds the 16 digest bytes, not the 800 KB table.
  const auto entries = entries_of(store, "total");
  REQUIRE(entries.size() == 1);
  const auto detail = memostore::read_entry(store, entries.front());
  REQUIRE(detail);
  CHECK(detail->arguments_size == 16);

  // Recomputed, equal: same digest, the downstream call still hits (early cut-off).
  up.forget(100'000);
  const Shared<Table> recomputed = up.shared(100'000);
  CHECK(g_made == 2);
  CHECK(recomputed.digest() == first.digest());
  CHECK(down(recomputed) == 4'999'950'000.0);
  CHECK(summed == 1);

  // Changed: another digest, a miss downstream.
  g_scale = 2;
  (void)up.refresh(100'000);
  const Shared<Table> changed = up.shared(100'000);
  CHECK(changed.digest() != first.digest());
  CHECK(down(changed) == 2 * 4'999'950'000.0);
  CHECK(summed == 2);
  CHECK(down(first) == 4'999'950'000.0);  // the old lineage is still its own entry
  CHECK(summed == 2);

  // A Shared made outside a memo has the digest the store gives the same value.
  CHECK(Shared<Table>::of(make_table(100'000)).digest() == changed.digest());
}

TEST_CASE("digests are the same in every process and directory, so lineage keys are too") {
  TempDir dir;
  auto run = [](const std::filesystem::path& cache) {
    const auto result = memostore::test::run_child(cache, {"lineage", "5000"});
    REQUIRE(result.exit_code == 0);
    return result;
  };
  const auto a1 = run(dir / "a");
  const auto a2 = run(dir / "a");
  const auto b = run(dir / "b");
  using memostore::test::output_value;
  CHECK(output_value(a1.out, "computed") == "2");
  CHECK(output_value(a2.out, "computed") == "0");  // both steps hit in a new process
  CHECK(output_value(b.out, "computed") == "2");
  CHECK(output_value(a1.out, "digest") == output_value(b.out, "digest"));
  CHECK(output_value(a1.out, "sum") == output_value(b.out, "sum"));
  // And this process computes the same digest, and the same downstream key.
  Store store = open_store(dir / "c");
  const Shared<std::vector<double>> up = memostore::test::lineage_up(store).shared(5000);
  CHECK(up.digest().hex() == output_value(a1.out, "digest"));
  (void)memostore::test::lineage_down(store)(up);
  Store in_a = open_store(dir / "a");
  REQUIRE(entries_of(store, "lineage_down").size() == 1);
  REQUIRE(entries_of(in_a, "lineage_down").size() == 1);
  CHECK(entries_of(store, "lineage_down").front().key == entries_of(in_a, "lineage_down").front().key);
}

TEST_CASE("export, import, merge, fallbacks and the remote tier carry digests: the downstream entry still hits") {
  TempDir dir;
  const std::string digest = [&] {
    Store store = open_store(dir / "a");
    const auto up = memostore::test::lineage_up(store).shared(300);
    (void)memostore::test::lineage_down(store)(up);
    memostore::export_to(store, dir / "a.export");
    return up.digest().hex();
  }();
  // Both steps hit in `store`, and the upstream result has `digest`.
  auto both_hit = [&](Store& store) {
    const auto misses = store.stats().total.misses;
    const auto up = memostore::test::lineage_up(store).shared(300);
    CHECK(up.digest().hex() == digest);
    (void)memostore::test::lineage_down(store)(up);
    CHECK(store.stats().total.misses == misses);
  };
  {
    INFO("imported");
    Store imported = open_store(dir / "b");
    memostore::import_from(imported, dir / "a.export");
    both_hit(imported);
  }
  {
    INFO("merged");
    Store merged = open_store(dir / "m");
    memostore::merge_from(merged, dir / "a");
    both_hit(merged);
  }
  {
    INFO("from a fallback directory");
    Store with_fallback = open_store(dir / "f", StoreOptions{.fallback = {dir / "a"}});
    both_hit(with_fallback);
  }

  memostore::test::RedisServer redis(dir / "redis");
  std::string remote_digest;
  {
    Store writer = memostore::test::open_with_remote(dir / "w", redis.url());
    remote_digest = memostore::test::lineage_up(writer).shared(700).digest().hex();
    REQUIRE(memostore::detail::core_of(writer)->remote()->drain(std::chrono::seconds(10)));
  }
  Store reader = memostore::test::open_with_remote(dir / "r", redis.url());
  const auto before = reader.stats().total.misses;
  CHECK(memostore::test::lineage_up(reader).shared(700).digest().hex() == remote_digest);
  CHECK(reader.stats().total.misses == before);  // from the remote tier, not computed
}

TEST_CASE("a stored digest that is not its result's is damage: verify reports it, a shared read recomputes") {
  reset_counts();
  TempDir dir;
  Store store = open_store(dir / "cache");
  auto memo = tables(store);
  const Shared<Table> computed = memo.shared(10);
  const auto entries = entries_of(store, "tables");
  REQUIRE(entries.size() == 1);
  // A digest changed with its checksum made to match: what a buggy or
  // hostile writer of an unsigned store, export or remote entry could do.
  memostore::test::tamper_entry(store, entries.front().key, [](std::string& bytes) {
    const std::size_t checksum_at = bytes.size() - 8;
    bytes[checksum_at - 16] ^= 0x01;  // the digest's first byte
    const std::uint64_t checksum = XXH3_64bits(bytes.data(), checksum_at);
    for (std::size_t i = 0; i < 8; ++i) {
      bytes[checksum_at + i] = static_cast<char>(checksum >> (8 * i));
    }
  });
  const memostore::VerifyReport report = memostore::verify(store);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems.front().what.find("digest") != std::string::npos);
  const Shared<Table> read = memo.shared(10);
  CHECK(g_made == 2);  // removed as damaged and computed again, never handed out with the wrong digest
  CHECK(read.digest() == computed.digest());
}

TEST_CASE("an object decoded for one type is never handed to another type of the same name") {
  TempDir dir;
  Store store = open_store(dir / "cache");
  auto text = memostore::memo(store, "confusable", [](int n) { return Confusable{std::string(static_cast<std::size_t>(n), 'x')}; });
  (void)text.shared(3);
  const auto kept = text.shared(3);
  REQUIRE(text.shared(3).pointer() == kept.pointer());  // kept decoded, as a Confusable of this file
  // The same key for the other file's Confusable (typeid names are equal):
  // its call must not get this file's object cast to its type.
  CHECK(shared_of_other_type(store, 3) == 3);
  CHECK(shared_of_other_type(store, 3) == 3);
}

TEST_CASE("threads missing one entry at once share one computation; their objects all hold it") {
  reset_counts();
  TempDir dir;
  Store store = open_store(dir / "cache");
  auto memo = tables(store);
  std::vector<std::thread> threads;
  std::vector<memostore::Digest> digests(4);
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Shared<Table> result = memo.shared(400);
      digests[static_cast<std::size_t>(t)] = result.digest();
      wrong += result->values.size() != 400 || result->values[399] != 399.0 ? 1 : 0;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == 0);
  CHECK(g_made == 1);
  for (const auto& digest : digests) {
    CHECK(digest == Shared<Table>::of(make_table(400)).digest());
  }
}

TEST_CASE("threads hitting one shared entry at once all get the one object") {
  reset_counts();
  TempDir dir;
  Store store = open_store(dir / "cache");
  auto memo = tables(store);
  (void)memo.shared(500);  // computed; nobody has read it yet: the threads race to decode and keep it
  std::atomic<int> wrong{0};
  std::vector<const void*> last(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const Shared<Table> hit = memo.shared(500);
        wrong += hit->values.size() != 500 || hit->values[499] != 499.0 ? 1 : 0;
        last[static_cast<std::size_t>(t)] = address(hit);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == 0);
  CHECK(Table::decoded <= 4);  // a thread that lost the race to keep its object once, at most
  const void* kept = address(memo.shared(500));
  for (const void* object : last) {
    CHECK(object == kept);
  }
}

TEST_CASE("a Shared singleton argument is keyed by its digest; off and readonly modes give the same digests") {
  reset_counts();
  TempDir dir;
  std::optional<Store> store_handle = open_store(dir / "cache");
  Store& store = *store_handle;
  auto up = tables(store);
  std::atomic<int> built{0};
  auto model = memostore::singleton("model", memostore::state_not_keyed([&built](const Shared<Table>& table) {
                                      ++built;
                                      return std::make_shared<double>(table->values.back());
                                    }));
  const Shared<Table> a = up.shared(50);
  const Shared<Table> same = Shared<Table>::of(make_table(50));  // another object, equal value
  CHECK(model(a).get() == model(same).get());
  CHECK(built == 1);
  CHECK(*model(up.shared(60)) == 59.0);
  CHECK(built == 2);

  const memostore::Digest digest_70 = Shared<Table>::of(make_table(70)).digest();
  store_handle.reset();

  Store off = Store::open(StoreOptions{.dir = dir / "off", .mode = memostore::Mode::off});
  CHECK(tables(off).shared(50).digest() == a.digest());
  Store readonly = Store::open(StoreOptions{.dir = dir / "cache", .mode = memostore::Mode::readonly});
  const auto made = g_made.load();
  CHECK(tables(readonly).shared(50).digest() == a.digest());  // a hit
  CHECK(g_made == made);
  CHECK(tables(readonly).shared(70).digest() == digest_70);  // a miss, not stored
  CHECK(g_made == made + 1);
}

TEST_SUITE_END();
