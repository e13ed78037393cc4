// singleton<F>: identity, compute-once creation across threads, exceptions,
// and every way an object is dropped (forget, clear, ttl, max_entries,
// validate, clear_singletons), each checked with a counting destructor.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>

#include "support/test_support.hpp"

using memostore::ManualClock;
using memostore::test::TempDir;
using namespace std::chrono_literals;

namespace {

/// Records its creation and destruction, so tests can see exactly when a
/// singleton lets go of an object.
struct Tracked {
  inline static std::mutex mutex;
  inline static std::vector<std::string> destroyed;  // guarded by mutex, in destruction order

  explicit Tracked(std::string label) : label(std::move(label)) {}
  Tracked(Tracked&& other) noexcept : label(std::move(other.label)) { other.moved_from = true; }
  Tracked(const Tracked&) = delete;
  ~Tracked() {
    if (!moved_from) {
      std::lock_guard lock(mutex);
      destroyed.push_back(label);
    }
  }

  static std::vector<std::string> take_destroyed() {
    std::lock_guard lock(mutex);
    return std::exchange(destroyed, {});
  }

  std::string label;
  bool alive = true;
  bool moved_from = false;
};

/// Each test case starts with no singletons and an empty destruction record.
struct Fresh {
  Fresh() {
    memostore::clear_singletons();
    Tracked::take_destroyed();
  }
  ~Fresh() { memostore::clear_singletons(); }
};

/// Blocks the creating thread until `expected` other callers wait for the
/// object for the int argument `x` of the singleton `name` (result Tracked).
void wait_for_waiters(const std::string& name, int x, std::size_t expected) {
  const memostore::detail::SingletonCore probe(name, memostore::detail::type_fingerprint<Tracked, int>());
  const std::string args = memostore::detail::encode_key_arguments(x);
  memostore::test::wait_until([&] { return probe.waiters(args) >= expected; }, "the waiters' arrival");
}

/// A factory that labels each object "x#n", n counting creations in `created`.
auto numbered(int& created) {
  return [&created](int x) {
    ++created;
    return Tracked(std::to_string(x) + "#" + std::to_string(created));
  };
}

}  // namespace

TEST_SUITE_BEGIN("singleton");

TEST_CASE_FIXTURE(Fresh, "equal arguments give the same object, different arguments different objects") {
  int created = 0;
  auto make = memostore::singleton("identity", memostore::state_not_keyed([&created](int x) {
    ++created;
    return Tracked("object " + std::to_string(x));
  }));
  const std::shared_ptr<Tracked> a1 = make(1);
  const std::shared_ptr<Tracked> a2 = make(1);
  const std::shared_ptr<Tracked> b = make(2);
  CHECK(a1.get() == a2.get());
  CHECK(a1.get() != b.get());
  CHECK(a1->label == "object 1");
  CHECK(b->label == "object 2");
  CHECK(created == 2);
  CHECK(make.size() == 2);
}

TEST_CASE_FIXTURE(Fresh, "handles with the same name share objects; another type under that name is refused") {
  auto first = memostore::singleton("shared-name", [](int x) { return Tracked(std::to_string(x)); });
  auto second = memostore::singleton("shared-name", [](int x) { return Tracked("other " + std::to_string(x)); });
  CHECK(first(7).get() == second(7).get());

  const std::string message = memostore::test::error_message(
      [&] { (void)memostore::singleton("shared-name", [](const std::string& s) { return Tracked(s); }); },
      memostore::ErrorCode::config);
  CHECK(message.find("shared-name") != std::string::npos);
  CHECK_THROWS_AS(memostore::singleton("", [](int x) { return x; }), memostore::Error);
}

TEST_CASE_FIXTURE(Fresh, "unique_ptr and shared_ptr factories hand out the factory's own object") {
  auto owned = memostore::singleton("owned", [](int x) { return std::make_unique<Tracked>(std::to_string(x)); });
  const auto given = std::make_shared<Tracked>("given");
  auto shared = memostore::singleton("shared", memostore::state_not_keyed([given](int) { return given; }));
  CHECK(owned(1).get() == owned(1).get());
  CHECK(owned(1)->label == "1");
  CHECK(shared(1).get() == given.get());

  owned.clear();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"1"});
}

TEST_CASE_FIXTURE(Fresh, "an object that can be neither copied nor moved is built in place") {
  struct Pinned {
    explicit Pinned(int x) : x(x) {}
    Pinned(const Pinned&) = delete;
    Pinned(Pinned&&) = delete;
    int x;
  };
  auto make = memostore::singleton("pinned", [](int x) { return Pinned(x); });
  const std::shared_ptr<Pinned> p = make(4);
  CHECK(p->x == 4);
  CHECK(make(4).get() == p.get());
}

TEST_CASE_FIXTURE(Fresh, "a factory that returns null is a usage error and nothing is kept") {
  int calls = 0;
  auto broken = memostore::singleton("null-factory", memostore::state_not_keyed([&calls](int) {
    ++calls;
    return std::unique_ptr<Tracked>();
  }));
  const std::string message = memostore::test::error_message([&] { (void)broken(1); }, memostore::ErrorCode::usage);
  CHECK(message.find("null-factory") != std::string::npos);
  CHECK_THROWS_AS(broken(1), memostore::Error);
  CHECK(calls == 2);
  CHECK(broken.size() == 0);
}

TEST_CASE_FIXTURE(Fresh, "unhashed arguments reach the factory but do not select the object") {
  auto make = memostore::singleton(
      "unhashed", [](int x, memostore::Unhashed<std::string> note) { return Tracked(std::to_string(x) + *note); });
  const auto a = make(1, std::string("first"));
  const auto b = make(1, std::string("second"));
  CHECK(a.get() == b.get());
  CHECK(a->label == "1first");
}

TEST_CASE_FIXTURE(Fresh, "concurrent first calls create once and all receive that object") {
  constexpr int k_threads = 8;
  std::atomic<int> created{0};
  auto make = memostore::singleton("single-flight", memostore::state_not_keyed([&created](int x) {
    ++created;
    wait_for_waiters("single-flight", x, k_threads - 1);  // everyone else is queued behind this creation
    return Tracked("flight");
  }));
  std::vector<std::shared_ptr<Tracked>> got(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] { got[static_cast<std::size_t>(t)] = make(5); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(created == 1);
  for (const auto& object : got) {
    REQUIRE(object != nullptr);
    CHECK(object.get() == got[0].get());
  }
}

TEST_CASE_FIXTURE(Fresh, "a factory exception reaches every waiter, is not kept, and the next call tries again") {
  constexpr int k_threads = 8;
  std::atomic<int> calls{0};
  std::atomic<bool> fail{true};
  auto make = memostore::singleton("failing", memostore::state_not_keyed([&](int x) {
    ++calls;
    if (fail) {
      wait_for_waiters("failing", x, k_threads - 1);
      throw std::runtime_error("cannot connect");
    }
    return Tracked("connected");
  }));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      try {
        (void)make(1);
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "cannot connect") {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(failures == k_threads);
  CHECK(calls == 1);
  CHECK(make.size() == 0);

  fail = false;
  CHECK(make(1)->label == "connected");
  CHECK(calls == 2);
}

TEST_CASE_FIXTURE(Fresh, "forget and clear drop objects, but a held object lives until its holder lets go") {
  auto make = memostore::singleton("drop", [](int x) { return Tracked(std::to_string(x)); });
  std::shared_ptr<Tracked> held = make(1);
  (void)make(2);
  (void)make(3);

  make.forget(2);
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"2"});
  CHECK(make.size() == 2);

  make.clear();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"3"});  // "1" is still held
  CHECK(held->label == "1");
  CHECK(make(1).get() != held.get());  // a new object for the next caller

  held.reset();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"1"});
}

TEST_CASE_FIXTURE(Fresh, "an object older than ttl is replaced by the next call; holders keep the old one") {
  auto clock = std::make_shared<ManualClock>();
  int created = 0;
  auto make = memostore::singleton("ttl", memostore::state_not_keyed(numbered(created)), {.ttl = 30min, .clock = clock});
  const std::shared_ptr<Tracked> first = make(1);
  clock->advance(30min - 1ms);
  CHECK(make(1).get() == first.get());
  CHECK(created == 1);

  clock->advance(1ms);
  const std::shared_ptr<Tracked> second = make(1);
  CHECK(second.get() != first.get());
  CHECK(created == 2);
  CHECK(Tracked::take_destroyed().empty());  // `first` is still held here
  CHECK(first->label == "1#1");

  clock->advance(29min);
  CHECK(make(1).get() == second.get());  // the ttl runs from the new object's creation
}

TEST_CASE_FIXTURE(Fresh, "an expired object nobody holds is destroyed when it is replaced") {
  auto clock = std::make_shared<ManualClock>();
  auto make = memostore::singleton("ttl-release", [](int x) { return Tracked(std::to_string(x)); },
                                   {.ttl = 1s, .clock = clock});
  (void)make(1);
  clock->advance(1s);
  (void)make(1);
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"1"});
}

TEST_CASE_FIXTURE(Fresh, "over max_entries the least recently used object is dropped") {
  int created = 0;
  auto make = memostore::singleton("lru",
                                   memostore::state_not_keyed([&created](int x) {
                                     ++created;
                                     return Tracked(std::to_string(x));
                                   }),
                                   {.max_entries = 3});
  (void)make(1);
  (void)make(2);
  (void)make(3);
  (void)make(1);  // 2 is now the least recently used
  (void)make(4);
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"2"});
  CHECK(make.size() == 3);

  (void)make(3);
  (void)make(1);
  (void)make(5);  // 4 is now the least recently used
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"4"});
  CHECK(created == 5);

  std::shared_ptr<Tracked> held = make(3);
  (void)make(6);
  (void)make(7);
  (void)make(8);  // 3 is dropped from the table but still held
  CHECK(make.size() == 3);
  CHECK(held->label == "3");
  const auto destroyed = Tracked::take_destroyed();
  CHECK(std::find(destroyed.begin(), destroyed.end(), "3") == destroyed.end());
  held.reset();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"3"});
}

TEST_CASE_FIXTURE(Fresh, "validate runs on every hit and a rejected object is replaced by that call") {
  int validations = 0;
  int created = 0;
  auto make = memostore::singleton("validated", memostore::state_not_keyed(numbered(created)), {.validate = [&validations](Tracked& t) {
                                     ++validations;
                                     return t.alive;
                                   }});
  std::shared_ptr<Tracked> first = make(1);
  CHECK(validations == 0);  // a new object is not validated
  CHECK(make(1).get() == first.get());
  CHECK(make(1).get() == first.get());
  CHECK(validations == 2);

  first->alive = false;  // e.g. the connection dropped
  const std::shared_ptr<Tracked> second = make(1);
  CHECK(second.get() != first.get());
  CHECK(second->label == "1#2");
  CHECK(validations == 3);
  CHECK(Tracked::take_destroyed().empty());  // `first` is still held
  first.reset();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"1#1"});
}

TEST_CASE_FIXTURE(Fresh, "clear_singletons drops every singleton's objects, newest first") {
  auto a = memostore::singleton("all-a", [](int x) { return Tracked("a" + std::to_string(x)); });
  auto b = memostore::singleton("all-b", [](int x) { return Tracked("b" + std::to_string(x)); });
  (void)a(1);
  (void)b(1);
  (void)a(2);
  memostore::clear_singletons();
  CHECK(Tracked::take_destroyed() == std::vector<std::string>{"a2", "b1", "a1"});
  CHECK(a.size() == 0);
  CHECK(b.size() == 0);
}

TEST_CASE_FIXTURE(Fresh, "a destructor may call its own singleton: objects are released outside the lock") {
  struct CallsBack {
    std::function<void()> on_destroy;
    ~CallsBack() {
      if (on_destroy) {
        on_destroy();
      }
    }
  };
  std::size_t seen_size = 99;
  auto make = memostore::singleton("reentrant", [](int) { return std::make_unique<CallsBack>(); });
  make(1)->on_destroy = [&] { seen_size = make.size(); };
  make.forget(1);  // would deadlock if the destructor ran under the table's lock
  CHECK(seen_size == 0);
}

TEST_CASE_FIXTURE(Fresh, "singletons need no store and write nothing to disk") {
  TempDir dir;
  const auto store_dir = dir / "never-created";
  ::setenv("MEMOSTORE_DIR", store_dir.c_str(), 1);
  auto make = memostore::singleton("no-disk", [](const std::string& url) { return Tracked(url); });
  CHECK(make("sqlite://x")->label == "sqlite://x");
  ::unsetenv("MEMOSTORE_DIR");
  CHECK_FALSE(std::filesystem::exists(store_dir));
}

TEST_CASE_FIXTURE(Fresh, "many threads hitting, forgetting and clearing always get the right object") {
  auto make = memostore::singleton("stress", [](int x) { return Tracked(std::to_string(x)); },
                                   {.max_entries = 4, .validate = [](Tracked& t) { return t.alive; }});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int x = (i * 7 + t) % 6;
        if (make(x)->label != std::to_string(x)) {
          ++wrong;
        }
        if (i % 97 == 0) {
          make.forget(x);
        }
        if (i % 499 == 0) {
          make.clear();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong == 0);
  CHECK(make.size() <= 4);
}

TEST_CASE("at process exit the remaining singletons are released newest first") {
  const auto result = memostore::test::run_child("-", {"singletons-at-exit"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == "main returns\ndestroyed third\ndestroyed second\ndestroyed first\n");
}

TEST_SUITE_END();
