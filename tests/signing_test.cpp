// Signed entries (StoreOptions::secret, MEMOSTORE_SECRET): with a secret, an
// entry written without it, with another one, forged with the format's own
// code or copied under another key is never returned; it is a miss, counted as
// rejected, and the result is computed again. verify, import and merge apply
// the same check.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/string.hpp>
#include <fmt/format.h>
#include <memostore/memostore.hpp>

#include "codec/entry_signer.hpp"
#include "codec/envelope.hpp"
#include "support/entries.hpp"
#include "support/test_support.hpp"

using memostore::Store;
using memostore::StoreOptions;
using memostore::test::LogCapture;
using memostore::test::TempDir;

namespace {

constexpr int k_calls = 10;

Store open_signed(const std::filesystem::path& dir, std::string secret) {
  return Store::open(StoreOptions{.dir = dir, .secret = std::move(secret)});
}

/// Stores price(x) = x + 1000 for every x: the planted results.
void plant(const std::filesystem::path& dir, const std::string& secret) {
  Store store = open_signed(dir, secret);
  auto price = memostore::memo(store, "price", [](int x) { return x + 1000; });
  for (int x = 0; x < k_calls; ++x) {
    REQUIRE(price(x) == x + 1000);
  }
}

/// Calls price(x) = x * x for every x; returns how many were computed.
int call_honest(Store& store) {
  int computed = 0;
  auto price = memostore::memo(store, "price", memostore::state_not_keyed([&](int x) {
    ++computed;
    return x * x;
  }));
  for (int x = 0; x < k_calls; ++x) {
    CHECK(price(x) == x * x);
  }
  return computed;
}

std::string stored_bytes(const Store& store, const std::string& key) {
  return memostore::test::stored_entry(store, key).value_or("");
}

std::string only_key(const Store& store, const std::string& function) {
  std::vector<std::string> keys;
  memostore::for_each_entry(store, {.function = function}, [&](const memostore::EntrySummary& entry) {
    keys.push_back(entry.key);
    return true;
  });
  REQUIRE(keys.size() == 1);
  return keys[0];
}

}  // namespace

TEST_SUITE_BEGIN("signing");

TEST_CASE("signatures are HMAC-SHA256 over a domain tag, the key's length, the key and the envelope") {
  // Expected value from Python's hmac module over the same framing (docs/format.md).
  const auto signer = memostore::detail::EntrySigner::create("our secret").value();
  const auto signature = signer->sign("entry-key", "signed bytes");
  REQUIRE(signature);
  std::string hex;
  for (unsigned char byte : *signature) {
    hex += fmt::format("{:02x}", byte);
  }
  CHECK(hex == "3819a4f9113f51d030c8b34573f406485974e24b487656c18fb1a86304d9acf3");
  const std::string_view as_bytes(reinterpret_cast<const char*>(signature->data()), signature->size());
  CHECK(signer->verify("entry-key", "signed bytes", as_bytes));
  CHECK_FALSE(signer->verify("entry-kez", "signed bytes", as_bytes));
  CHECK_FALSE(signer->verify("entry-key", "signed bytez", as_bytes));
  CHECK_FALSE(
      memostore::detail::EntrySigner::create("other secret").value()->verify("entry-key", "signed bytes", as_bytes));
}

TEST_CASE("a store poisoned with another secret: every result is recomputed, counted and then signed") {
  TempDir dir;
  plant(dir.path(), "attacker's secret");
  LogCapture log;
  {
    Store store = open_signed(dir.path(), "our secret");
    CHECK(call_honest(store) == k_calls);
    CHECK(store.stats().total.rejected == k_calls);
  }
  CHECK(log.count("no valid signature") == 1);  // once per store, not once per entry
  for (const std::string& message : log.warnings()) {
    CHECK(message.find("secret") != std::string::npos);
    CHECK(message.find("our secret") == std::string::npos);  // the secret itself is never logged
  }
  // The recomputed results replaced the planted ones, signed with our secret.
  Store store = open_signed(dir.path(), "our secret");
  CHECK(call_honest(store) == 0);
  CHECK(memostore::verify(store).clean());
}

TEST_CASE("entries written without a secret are rejected once a secret is set") {
  TempDir dir;
  plant(dir.path(), "");
  LogCapture log;
  Store store = open_signed(dir.path(), "our secret");
  auto cached = memostore::memo(store, "price", [](int x) { return x * x; });
  CHECK_FALSE(cached.cached(3));  // an unsigned entry is not a cached result
  CHECK(call_honest(store) == k_calls);
  CHECK(store.stats().total.rejected == k_calls);
  CHECK(cached.cached(3));
}

TEST_CASE("without a secret, signed entries hit: the secret protects readers that have it") {
  TempDir dir;
  {
    Store store = open_signed(dir.path(), "our secret");
    CHECK(call_honest(store) == k_calls);
  }
  Store store = open_signed(dir.path(), "");
  CHECK(call_honest(store) == 0);
  CHECK(memostore::verify(store).clean());
}

TEST_CASE("a signed entry copied under another function's key, or forged with the format's code, is rejected") {
  TempDir dir;
  Store store = open_signed(dir.path(), "our secret");
  auto price = memostore::memo(store, "price", [](int x) { return x * x; });
  int cost_calls = 0;
  auto cost = memostore::memo(store, "cost", memostore::state_not_keyed([&](int x) {
    ++cost_calls;
    return x + 1;
  }));
  CHECK(price(7) == 49);
  CHECK(cost(7) == 8);
  CHECK(cost(7) == 8);
  REQUIRE(cost_calls == 1);
  const std::string price_key = only_key(store, "price");
  const std::string cost_key = only_key(store, "cost");

  // Same types and arguments: without the key in the signature, cost(7) would return 49.
  memostore::test::put_stored_entry(store, cost_key, stored_bytes(store, price_key));
  CHECK(cost(7) == 8);
  CHECK(cost_calls == 2);

  // A well-formed envelope for cost(7) = 666 with a valid checksum, signed with another secret.
  const std::string honest = stored_bytes(store, cost_key);
  const auto view = memostore::detail::read_envelope(honest).value();
  std::string forged;
  memostore::detail::start_envelope(forged, view.arguments);
  {
    Store scratch = Store::open(StoreOptions{.dir = dir / "scratch", .mode = memostore::Mode::readwrite});
    auto encode = memostore::memo(scratch, "cost", [](int) { return 666; });
    (void)encode(7);
    forged.append(memostore::detail::read_envelope(stored_bytes(scratch, only_key(scratch, "cost"))).value().payload);
  }
  const auto other = memostore::detail::EntrySigner::create("attacker's secret").value();
  REQUIRE(memostore::detail::finish_envelope(forged, view.info, other.get(), cost_key));
  REQUIRE(memostore::detail::read_envelope(forged));  // structurally perfect
  memostore::test::put_stored_entry(store, cost_key, forged);
  CHECK(cost(7) == 8);
  CHECK(cost_calls == 3);

  // The same forgery without a signature at all.
  std::string unsigned_forgery;
  memostore::detail::start_envelope(unsigned_forgery, view.arguments);
  unsigned_forgery.append(memostore::detail::read_envelope(forged).value().payload);
  REQUIRE(memostore::detail::finish_envelope(unsigned_forgery, view.info));
  memostore::test::put_stored_entry(store, cost_key, unsigned_forgery);
  CHECK(cost(7) == 8);
  CHECK(cost_calls == 4);
  CHECK(store.stats().total.rejected == 3);
}

TEST_CASE("threads sign and check at once") {
  TempDir dir;
  Store store = open_signed(dir.path(), "our secret");
  auto twice = memostore::memo(store, "twice", [](int x) { return std::string(static_cast<std::size_t>(x), 'z'); });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int x = 0; x < 200; ++x) {
          const int arg = (x * 7 + t) % 200;
          wrong += twice(arg) != std::string(static_cast<std::size_t>(arg), 'z') ? 1 : 0;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == 0);
  const auto stats = store.stats();
  CHECK(stats.total.rejected == 0);
  CHECK(stats.total.entries == 200);
  CHECK(stats.total.hits + stats.total.misses == 4 * 3 * 200);
}

TEST_CASE("verify reports entries without a valid signature; fix removes them") {
  TempDir dir;
  plant(dir.path(), "attacker's secret");
  Store store = open_signed(dir.path(), "our secret");
  const auto found = memostore::verify(store);
  REQUIRE(found.problems.size() == k_calls);
  CHECK(found.problems[0].function == "price");
  CHECK(found.problems[0].what.find("signature does not match the store's secret") != std::string::npos);
  CHECK(memostore::verify(store, {.damaged = memostore::DamagedEntries::remove}).removed == k_calls);
  CHECK(memostore::verify(store).clean());
  CHECK(store.stats().total.entries == 0);
}

TEST_CASE("import and merge take in only entries signed with the store's secret") {
  TempDir dir;
  plant(dir / "theirs", "attacker's secret");
  {
    Store ours = open_signed(dir / "ours", "our secret");
    CHECK(call_honest(ours) == k_calls);
    memostore::export_to(ours, dir / "ours.export");
  }
  {
    Store theirs = open_signed(dir / "theirs", "attacker's secret");
    memostore::export_to(theirs, dir / "theirs.export");
  }
  Store target = open_signed(dir / "target", "our secret");
  const auto imported_theirs = memostore::import_from(target, dir / "theirs.export");
  CHECK(imported_theirs.entries == 0);
  REQUIRE(imported_theirs.rejected.size() == k_calls);
  CHECK(imported_theirs.rejected[0].what.find("signature") != std::string::npos);
  const auto merged_theirs = memostore::merge_from(target, dir / "theirs");
  CHECK(merged_theirs.entries == 0);
  CHECK(merged_theirs.rejected.size() == k_calls);
  const auto imported_ours = memostore::import_from(target, dir / "ours.export");
  CHECK(imported_ours.entries == k_calls);
  CHECK(imported_ours.rejected.empty());
  CHECK(call_honest(target) == 0);
}

TEST_CASE("MEMOSTORE_SECRET overrides the option; one process opens a store with one secret") {
  TempDir dir;
  {
    memostore::test::ScopedEnv secret("MEMOSTORE_SECRET", "from the environment");
    Store store = open_signed(dir.path(), "from the code");
    CHECK(call_honest(store) == k_calls);
    CHECK_NOTHROW((void)open_signed(dir.path(), "another"));  // the environment's secret applies to both opens
  }
  Store store = open_signed(dir.path(), "from the environment");
  CHECK(call_honest(store) == 0);
  const std::string message =
      memostore::test::error_message([&] { (void)open_signed(dir.path(), "another"); }, memostore::ErrorCode::config);
  CHECK(message.find(dir.path().string()) != std::string::npos);
  CHECK(message.find("another secret") != std::string::npos);
  CHECK(message.find("from the environment") == std::string::npos);
}

TEST_SUITE_END();
