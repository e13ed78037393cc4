// memo<F>: hits, misses, keys, types, threads, exceptions and damaged entries,
// on real RocksDB stores in temporary directories.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "codec/envelope.hpp"
#include "codec/key.hpp"
#include "store/store_core.hpp"
#include "support/keys.hpp"
#include "support/test_support.hpp"

using memostore::test::LogCapture;
using memostore::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Point {
  double x = 0;
  double y = 0;
  std::string label;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
  friend bool operator==(const Point&, const Point&) = default;
};

/// Blocks the calling leader until `expected` other callers wait on `key`'s flight.
void wait_for_waiters(const memostore::Store& store, const std::string& key, std::size_t expected) {
  memostore::test::wait_until([&] { return memostore::detail::core_of(store)->inflight().waiters(key) >= expected; }, "the waiters' arrival");
}

/// Rewrites every stored entry of `name` with `rewrite(old envelope)`.
template <class Rewrite>
int rewrite_entries(const memostore::Store& store, const std::string& name, Rewrite rewrite) {
  auto* database = memostore::detail::core_of(store)->database();
  std::vector<std::pair<std::string, std::string>> entries;
  REQUIRE(database->for_each(memostore::detail::Family::entries, memostore::detail::function_prefix(name), [&](std::string_view k, std::string_view v) {
    entries.emplace_back(std::string(k), std::string(v));
    return true;
  }));
  for (auto& [key, value] : entries) {
    REQUIRE(database->put(memostore::detail::Family::entries, key, rewrite(value)));
  }
  return static_cast<int>(entries.size());
}

}  // namespace

TEST_SUITE_BEGIN("memo");

TEST_CASE("a hit returns the stored value without calling the function") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  int calls = 0;
  auto twice = memostore::memo(store, "twice", memostore::state_not_keyed([&calls](const std::string& s) {
    ++calls;
    return s + s;
  }));
  CHECK(twice("ab") == "abab");
  CHECK(twice("ab") == "abab");
  CHECK(twice(std::string("ab")) == "abab");
  CHECK(calls == 1);
  CHECK(twice("cd") == "cdcd");
  CHECK(calls == 2);
}

TEST_CASE("nothing is logged on the happy path") {
  TempDir dir;
  LogCapture log;
  auto store = memostore::Store::open(dir.path());
  auto f = memostore::memo(store, "f", [](int x) { return x + 1; });
  for (int i = 0; i < 10; ++i) {
    CHECK(f(i % 3) == i % 3 + 1);
  }
  CHECK(log.warnings().empty());
}

TEST_CASE("results survive closing and reopening the store") {
  TempDir dir;
  int calls = 0;
  auto fn = [&calls](int x) {
    ++calls;
    return std::vector<double>(static_cast<std::size_t>(x), 0.5);
  };
  {
    auto store = memostore::Store::open(dir.path());
    CHECK(memostore::memo(store, "halves", memostore::state_not_keyed(fn))(1000).size() == 1000);
  }
  auto store = memostore::Store::open(dir.path());
  const auto v = memostore::memo(store, "halves", memostore::state_not_keyed(fn))(1000);
  CHECK(v == std::vector<double>(1000, 0.5));
  CHECK(calls == 1);
}

TEST_CASE("a copied cache directory at another path gives the same hits") {
  TempDir a;
  TempDir b;
  int calls = 0;
  auto fn = [&calls](int x) {
    ++calls;
    return Point{x * 1.5, x * 2.5, "p" + std::to_string(x)};
  };
  {
    auto store = memostore::Store::open(a / "cache");
    auto points = memostore::memo(store, "points", memostore::state_not_keyed(fn));
    for (int i = 0; i < 50; ++i) {
      points(i);
    }
  }
  fs::create_directories(b / "elsewhere");
  fs::copy(a / "cache", b / "elsewhere" / "cache", fs::copy_options::recursive);
  fs::remove_all(a / "cache");
  auto store = memostore::Store::open(b / "elsewhere" / "cache");
  auto points = memostore::memo(store, "points", memostore::state_not_keyed(fn));
  for (int i = 0; i < 50; ++i) {
    CHECK(points(i) == Point{i * 1.5, i * 2.5, "p" + std::to_string(i)});
  }
  CHECK(calls == 50);
}

TEST_CASE("a version bump recomputes and the old version's entries are never returned") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  auto v1 = memostore::memo(store, "f", [](int x) { return x * 10; }, {.version = 1});
  auto v2 = memostore::memo(store, "f", [](int x) { return x * 20; }, {.version = 2});
  CHECK(v1(3) == 30);
  CHECK(v2(3) == 60);
  CHECK(v1(3) == 30);
  CHECK(v2.version() == 2);
}

TEST_CASE("a result type change under the same name and version is a miss") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  int calls = 0;
  auto as_int = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x;
  }));
  auto as_double = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x + 0.5;
  }));
  CHECK(as_int(7) == 7);
  CHECK(as_double(7) == 7.5);
  CHECK(as_int(7) == 7);
  CHECK(as_double(7) == 7.5);
  CHECK(calls == 2);
}

TEST_CASE("argument types are part of the key: int 1065353216 and float 1.0 share bytes, not entries") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  auto from_int = memostore::memo(store, "g", [](int x) { return std::to_string(x); });
  auto from_float = memostore::memo(store, "g", [](float x) { return std::to_string(x); });
  CHECK(from_int(1065353216) == "1065353216");
  CHECK(from_float(1.0f) == std::to_string(1.0f));
}

TEST_CASE("a hash collision is a miss, never the other call's value") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  memostore::detail::set_argument_hasher_for_testing(
      [](const memostore::detail::Hash128&, std::string_view) { return memostore::detail::Hash128{42, 42}; });
  int calls = 0;
  auto negate = memostore::memo(store, "negate", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return -x;
  }));
  CHECK(negate(1) == -1);
  CHECK(negate(2) == -2);  // same key as negate(1): must not return -1
  CHECK(negate(1) == -1);  // the entry belonged to 2: recomputed, and now belongs to 1 again
  CHECK(calls == 3);
  CHECK(negate.cached(1));
  CHECK_FALSE(negate.cached(2));
  memostore::detail::set_argument_hasher_for_testing(nullptr);
}

TEST_CASE("Unhashed arguments reach the function but are not part of the key") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  struct Connection {
    int queries = 0;
  } connection;
  int calls = 0;
  auto query = memostore::memo(store, "query", memostore::state_not_keyed([&calls](memostore::Unhashed<Connection&> db, const std::string& sql) {
    ++calls;
    ++db->queries;
    return sql.size();
  }));
  CHECK(query(connection, "select 1") == 8);
  Connection other;
  CHECK(query(other, "select 1") == 8);  // another connection, same key
  CHECK(calls == 1);
  CHECK(connection.queries == 1);
  CHECK(other.queries == 0);

  auto with_value = memostore::memo(store, "scaled", [](memostore::Unhashed<int> scale, int x) { return *scale * x; });
  CHECK(with_value(2, 5) == 10);
  CHECK(with_value(3, 5) == 10);  // scale is not keyed on: the stored result stands
}

TEST_CASE("user structs, maps and nested containers round-trip") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  auto index = memostore::memo(store, "index", [](const std::vector<Point>& points) {
    std::map<std::string, std::vector<double>> out;
    for (const auto& p : points) {
      out[p.label].push_back(p.x + p.y);
    }
    return out;
  });
  const std::vector<Point> input = {{1, 2, "a"}, {3, 4, "b"}, {5, 6, "a"}};
  const auto expected = std::map<std::string, std::vector<double>>{{"a", {3, 11}}, {"b", {7}}};
  CHECK(index(input) == expected);
  CHECK(index.cached(input));
  CHECK(index(input) == expected);
}

TEST_CASE("a plain function pointer can be memoized") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  static std::atomic<int> calls{0};
  struct Local {
    static long cube(long x) {
      ++calls;
      return x * x * x;
    }
  };
  auto cube = memostore::memo(store, "cube", &Local::cube);
  CHECK(cube(3) == 27);
  CHECK(cube(3) == 27);
  CHECK(calls == 1);
}

TEST_CASE("8 threads asking for one key compute once and all get the result") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  std::atomic<int> calls{0};
  std::string key;
  auto slow = memostore::memo(store, "slow", memostore::state_not_keyed([&](int x) {
    ++calls;
    wait_for_waiters(store, key, 7);  // every other thread is now waiting on this computation
    return std::vector<int>(100, x);
  }));
  key = memostore::test::entry_key<std::vector<int>>("slow", 0, 9);
  std::vector<std::thread> threads;
  std::atomic<int> correct{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      if (slow(9) == std::vector<int>(100, 9)) {
        ++correct;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(calls == 1);
  CHECK(correct == 8);
}

TEST_CASE("an exception reaches every waiter and nothing is stored") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  std::atomic<int> calls{0};
  std::string key;
  bool fail = true;
  auto flaky = memostore::memo(store, "flaky", memostore::state_not_keyed([&](int x) {
    ++calls;
    if (fail) {
      wait_for_waiters(store, key, 7);
      throw std::runtime_error("boom " + std::to_string(x));
    }
    return x;
  }));
  key = memostore::test::entry_key<int>("flaky", 0, 4);
  std::vector<std::thread> threads;
  std::atomic<int> saw_boom{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      try {
        flaky(4);
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "boom 4") {
          ++saw_boom;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(calls == 1);
  CHECK(saw_boom == 8);
  CHECK_FALSE(flaky.cached(4));
  fail = false;
  CHECK(flaky(4) == 4);
  CHECK(calls == 2);
}

TEST_CASE("an entry with garbage bytes is recomputed, with one warning, and repaired") {
  TempDir dir;
  LogCapture log;
  auto store = memostore::Store::open(dir.path());
  int calls = 0;
  auto f = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return std::string(50, static_cast<char>('a' + x));
  }));
  CHECK(f(1) == std::string(50, 'b'));
  std::string warning = "damaged entry of f";  // what the warning must say
  SUBCASE("random garbage") {
    CHECK(rewrite_entries(store, "f", [](const std::string&) { return std::string("\x01garbage\xff", 9); }) == 1);
  }
  SUBCASE("one flipped byte in the payload") {
    CHECK(rewrite_entries(store, "f", [](std::string v) {
            v[v.size() - 20] ^= 0x40;
            return v;
          }) == 1);
  }
  SUBCASE("truncated") {
    CHECK(rewrite_entries(store, "f", [](const std::string& v) { return v.substr(0, v.size() / 2); }) == 1);
  }
  SUBCASE("valid envelope whose payload is not the result type") {
    // Whole and of the right type fingerprint: a changed layout, not damage (issue 25).
    warning = "does not fit the current result type";
    CHECK(rewrite_entries(store, "f", [](const std::string& v) {
            auto entry = memostore::detail::read_envelope(v);
            REQUIRE(entry);
            std::string rebuilt;
            memostore::detail::start_envelope(rebuilt, entry->arguments);
            rebuilt += "\xff\xff\xff\xff\xff\xff\xff\x0f";  // a 2^60 length prefix and nothing after it
            memostore::detail::finish_envelope(rebuilt, entry->info);
            return rebuilt;
          }) == 1);
  }
  CHECK(f(1) == std::string(50, 'b'));
  CHECK(calls == 2);
  CHECK(log.count(warning) == 1);
  CHECK(f(1) == std::string(50, 'b'));  // the recomputed entry replaced the damaged one
  CHECK(calls == 2);
  CHECK(log.warnings().size() == 1);
}

TEST_CASE("a damaged entry in a readonly store is warned about once, and never returned") {
  TempDir dir;
  int calls = 0;
  auto fn = [&calls](int x) {
    ++calls;
    return std::string(30, static_cast<char>('a' + x));
  };
  {
    auto store = memostore::Store::open(dir.path());
    memostore::memo(store, "f", memostore::state_not_keyed(fn))(2);
    rewrite_entries(store, "f", [](std::string v) {
      v[v.size() - 12] ^= 0x01;
      return v;
    });
  }
  LogCapture log;
  auto store = memostore::Store::open({.dir = dir.path(), .mode = memostore::Mode::readonly});
  auto f = memostore::memo(store, "f", memostore::state_not_keyed(fn));
  for (int i = 0; i < 5; ++i) {
    CHECK(f(2) == std::string(30, 'c'));
  }
  CHECK(calls == 6);  // the damaged entry stays (readonly) and is recomputed each time
  CHECK(log.count("damaged entry of f") == 1);
  CHECK(log.warnings().size() == 1);
}

TEST_CASE("cached, forget and clear") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  int calls = 0;
  auto f = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x;
  }));
  auto f2 = memostore::memo(store, "f", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x;
  }), {.version = 2});
  auto g = memostore::memo(store, "g", memostore::state_not_keyed([&calls](int x) {
    ++calls;
    return x;
  }));
  auto f_suffix = memostore::memo(store, "f_", memostore::state_not_keyed([&calls](int x) {  // a name that extends "f"
    ++calls;
    return x;
  }));
  CHECK_FALSE(f.cached(1));
  CHECK(calls == 0);
  f(1), f(2), f2(1), g(1), f_suffix(1);
  CHECK(f.cached(1));
  CHECK(f.cached(2));

  f.forget(1);
  CHECK_FALSE(f.cached(1));
  CHECK(f.cached(2));

  f.clear();  // all versions of f, nothing of g or f_
  CHECK_FALSE(f.cached(2));
  CHECK_FALSE(f2.cached(1));
  CHECK(g.cached(1));
  CHECK(f_suffix.cached(1));

  store.clear();
  CHECK_FALSE(g.cached(1));
  CHECK_FALSE(f_suffix.cached(1));
  calls = 0;
  g(1);
  CHECK(calls == 1);
}

TEST_CASE("invalid function names are rejected with a clear error") {
  TempDir dir;
  auto store = memostore::Store::open(dir.path());
  auto fn = [](int x) { return x; };
  CHECK_THROWS_WITH_AS(memostore::memo(store, "", fn), doctest::Contains("1 to 256 bytes"), memostore::Error);
  CHECK_THROWS_AS(memostore::memo(store, std::string("a\0b", 3), fn), memostore::Error);
  CHECK_THROWS_AS(memostore::memo(store, std::string(257, 'x'), fn), memostore::Error);
  CHECK_NOTHROW(memostore::memo(store, std::string(256, 'x'), fn));
}

TEST_SUITE_END();
