// What joins a key beyond the arguments' values: the source text of a
// MEMOSTORE_SOURCE function (the same text in two translation units gives the
// same keys, an edited token new ones) and unordered containers keyed
// canonically (equal containers, equal keys). Captured state is refused at
// compile time: tests/compile_fail/captured_lambda.cpp and its neighbours.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "source_variants.hpp"
#include "support/test_support.hpp"

using memostore::test::TempDir;

namespace {

using memostore::detail::source_token_hash;

// Whitespace and comments do not count (the preprocessor drops comments
// before stringizing); a token does.
static_assert(source_token_hash("[](int v) { return v + 1; }") == source_token_hash("[](int v){return v+1;}"));
static_assert(source_token_hash("[](int v) { return v + 1; }") != source_token_hash("[](int v) { return v + 2; }"));
// A space that separates two words or two punctuators is kept: `intv` and
// `--v` are other programs.
static_assert(source_token_hash("int v") != source_token_hash("intv"));
static_assert(source_token_hash("- -v") != source_token_hash("--v"));
// Inside literals every byte counts.
static_assert(source_token_hash("f(\"a b\")") != source_token_hash("f(\"ab\")"));
static_assert(source_token_hash("f('\\'', x)") == source_token_hash("f('\\'',x)"));
static_assert(source_token_hash("f(' ')") != source_token_hash("f('')"));

}  // namespace

TEST_SUITE_BEGIN("keys");

TEST_CASE("MEMOSTORE_SOURCE: the same text in two translation units hits, an edited token misses") {
  TempDir dir;
  memostore::Store store = memostore::Store::open(dir / "cache");

  const memostore::test::SourceCall original = memostore::test::plus_original(store, 5);
  CHECK_FALSE(original.was_cached);
  CHECK(original.value == 6);
  CHECK(original.source_hash != 0);

  // This translation unit, the same text: the same hash, a hit on the other's entry.
  auto here = memostore::memo(store, "plus", MEMOSTORE_SOURCE([](int v) { return v + 1; }));
  CHECK(here.source_hash() == original.source_hash);
  CHECK(here.cached(5));

  const memostore::test::SourceCall reformatted = memostore::test::plus_reformatted(store, 5);
  CHECK(reformatted.source_hash == original.source_hash);
  CHECK(reformatted.was_cached);

  const memostore::test::SourceCall edited = memostore::test::plus_edited(store, 5);
  CHECK(edited.source_hash != original.source_hash);
  CHECK_FALSE(edited.was_cached);  // without the source in the key this would be a hit on 6
  CHECK(edited.value == 7);

  // Both versions of the code keep their own entries: going back hits again.
  CHECK(memostore::test::plus_original(store, 5).was_cached);
  CHECK(memostore::test::plus_edited(store, 5).value == 7);
}

TEST_CASE("without MEMOSTORE_SOURCE an edited body keeps its keys: the stale result it prevents") {
  TempDir dir;
  memostore::Store store = memostore::Store::open(dir / "cache");
  CHECK(memostore::test::plain_original(store, 5).value == 6);
  const memostore::test::SourceCall edited = memostore::test::plain_edited(store, 5);
  CHECK(edited.source_hash == 0);
  CHECK(edited.was_cached);
  CHECK(edited.value == 6);  // yesterday's answer: what MEMOSTORE_SOURCE or a version bump is for
}

TEST_CASE("state_not_keyed: a counting lambda is memoized and its state is not in the key") {
  TempDir dir;
  memostore::Store store = memostore::Store::open(dir / "cache");
  std::atomic<int> calls = 0;
  auto square = memostore::memo(store, "square", memostore::state_not_keyed([&calls](int x) {
                                  ++calls;
                                  return x * x;
                                }));
  CHECK(square(4) == 16);
  CHECK(square(4) == 16);
  CHECK(calls == 1);
  // A handle made from another counter is the same function: it hits.
  std::atomic<int> other_calls = 0;
  auto again = memostore::memo(store, "square", memostore::state_not_keyed([&other_calls](int x) {
                                 ++other_calls;
                                 return x * x;
                               }));
  CHECK(again(4) == 16);
  CHECK(other_calls == 0);
}

TEST_CASE("equal unordered containers give equal keys whatever their insertion order and bucket count") {
  TempDir dir;
  memostore::Store store = memostore::Store::open(dir / "cache");
  std::atomic<int> calls = 0;
  auto total = memostore::memo(store, "total", memostore::state_not_keyed([&calls](const std::unordered_map<std::string, int>& m) {
                                 ++calls;
                                 int sum = 0;
                                 for (const auto& [name, value] : m) sum += value;
                                 return sum;
                               }));
  std::unordered_map<std::string, int> forward;
  std::unordered_map<std::string, int> backward;
  backward.reserve(5000);  // another bucket count: another iteration order
  for (int i = 0; i < 200; ++i) forward["k" + std::to_string(i)] = i;
  for (int i = 199; i >= 0; --i) backward["k" + std::to_string(i)] = i;
  REQUIRE(forward == backward);
  REQUIRE(forward.bucket_count() != backward.bucket_count());
  CHECK(total(forward) == 19900);
  CHECK(total(backward) == 19900);
  CHECK(calls == 1);
  backward["k7"] = 8;  // one value differs: another key
  CHECK(total(backward) == 19901);
  CHECK(calls == 2);
}

TEST_CASE("sets, multisets, multimaps and nested unordered containers are keyed canonically") {
  auto bytes = [](const auto& value) {
    std::string out;
    memostore::detail::encode_value(value, out);
    return out;
  };
  std::unordered_set<std::string> s1{"a", "b", "c", "d"};
  std::unordered_set<std::string> s2(64);
  for (const char* x : {"d", "c", "b", "a"}) s2.insert(x);
  CHECK(bytes(s1) == bytes(s2));
  CHECK(bytes(s1) != bytes(std::unordered_set<std::string>{"a", "b", "c"}));

  std::unordered_multiset<int> m1{3, 1, 3, 2};
  std::unordered_multiset<int> m2(128);
  for (int x : {2, 3, 1, 3}) m2.insert(x);
  CHECK(bytes(m1) == bytes(m2));
  CHECK(bytes(m1) != bytes(std::unordered_multiset<int>{3, 1, 2}));

  std::unordered_multimap<int, std::string> mm1{{1, "x"}, {1, "y"}, {2, "z"}};
  std::unordered_multimap<int, std::string> mm2(99);
  for (auto p : {std::pair<int, std::string>{2, "z"}, {1, "y"}, {1, "x"}}) mm2.insert(p);
  CHECK(bytes(mm1) == bytes(mm2));

  using Nested = std::unordered_map<std::string, std::unordered_set<int>>;
  Nested n1{{"even", {0, 2, 4, 6}}, {"odd", {1, 3, 5}}};
  Nested n2(300);
  n2["odd"] = std::unordered_set<int>(50);
  for (int x : {5, 3, 1}) n2["odd"].insert(x);
  for (int x : {6, 4, 2, 0}) n2["even"].insert(x);
  CHECK(bytes(n1) == bytes(n2));
}

TEST_CASE("an unordered map result is stored canonically and read back equal") {
  TempDir dir;
  memostore::Store store = memostore::Store::open(dir / "cache");
  auto histogram = memostore::memo(store, "histogram", [](int n) {
    std::unordered_map<int, int> counts;
    for (int i = 0; i < n; ++i) ++counts[i % 17];
    return counts;
  });
  const auto computed = histogram(1000);
  const auto stored = histogram(1000);
  CHECK(stored == computed);
  CHECK(stored.size() == 17);
}

TEST_SUITE_END();
