// The policy pieces memo entries and singletons share: expiry arithmetic,
// least-recently-used eviction under budgets, and the clocks.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include <memostore/error.hpp>
#include <memostore/policy.hpp>

#include "policy/eviction.hpp"
#include "policy/expiry.hpp"

using memostore::detail::Candidate;
using memostore::detail::choose_evictions;
using memostore::detail::Limits;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("policy");

TEST_CASE("an entry expires exactly when its ttl has passed, and never without one") {
  using memostore::detail::deadline_ms;
  using memostore::detail::expired;
  const std::int64_t created = 1'000'000;
  const std::int64_t deadline = deadline_ms(created, 30s);
  CHECK(deadline == created + 30'000);
  CHECK_FALSE(expired(deadline, created + 29'999));
  CHECK(expired(deadline, created + 30'000));
  CHECK(deadline_ms(created, std::nullopt) == 0);
  CHECK_FALSE(expired(0, std::numeric_limits<std::int64_t>::max()));
  CHECK(expired(deadline_ms(created, 0s), created));      // zero ttl: expired at once
  CHECK(expired(deadline_ms(created, -5s), created));     // a negative ttl is not "never"
  CHECK(deadline_ms(0, 0s) != 0);                          // 0 is reserved for "never"
}

TEST_CASE("nothing is evicted while everything fits") {
  const std::vector<Candidate> candidates{{1, 10, false}, {2, 10, false}};
  CHECK(choose_evictions(candidates, Limits{2, 20}, 0.9).empty());
  CHECK(choose_evictions(candidates, Limits{0, 0}, 0.9).empty());
}

TEST_CASE("over max_entries the least recently used go first, down to the keep fraction") {
  std::vector<Candidate> candidates;
  for (std::uint64_t used : {50, 10, 40, 20, 30, 60, 70, 80, 90, 100, 110}) {  // 11 entries
    candidates.push_back({used, 1, false});
  }
  CHECK(choose_evictions(candidates, Limits{10, 0}, 1.0) == std::vector<std::size_t>{1});
  // 90 % of 10 is 9: two go, oldest first.
  CHECK(choose_evictions(candidates, Limits{10, 0}, 0.9) == std::vector<std::size_t>{1, 3});
}

TEST_CASE("over max_bytes eviction goes on until the bytes fit") {
  const std::vector<Candidate> candidates{{1, 600, false}, {2, 300, false}, {3, 300, false}};
  CHECK(choose_evictions(candidates, Limits{0, 1000}, 1.0) == std::vector<std::size_t>{0});
  CHECK(choose_evictions(candidates, Limits{0, 1000}, 0.5) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("superseded entries are evicted before any current one, however recent") {
  const std::vector<Candidate> candidates{{1, 1, false}, {99, 1, true}, {2, 1, false}};
  CHECK(choose_evictions(candidates, Limits{2, 0}, 1.0) == std::vector<std::size_t>{1});
}

TEST_CASE("a limit of one with a keep fraction still keeps one") {
  const std::vector<Candidate> candidates{{1, 1, false}, {2, 1, false}, {3, 1, false}};
  CHECK(choose_evictions(candidates, Limits{1, 0}, 0.9) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("a manual clock moves only when told to") {
  memostore::ManualClock clock;
  const auto start = clock.now();
  CHECK(clock.now() == start);
  clock.advance(90s);
  CHECK(clock.now() - start == 90s);
  clock.set(start);
  CHECK(clock.now() == start);

  const auto system = memostore::system_clock();
  REQUIRE(system != nullptr);
  const auto before = std::chrono::system_clock::now();
  const auto read = system->now();
  CHECK(read >= before);
  CHECK(read <= std::chrono::system_clock::now());
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("units");

TEST_CASE("sizes parse with decimal and binary suffixes and reject anything else") {
  CHECK(memostore::parse_size("4096") == 4096);
  CHECK(memostore::parse_size("500M") == 500'000'000);
  CHECK(memostore::parse_size("2G") == 2'000'000'000);
  CHECK(memostore::parse_size("2GiB") == (std::uint64_t{2} << 30));
  CHECK(memostore::parse_size("1.5Ki") == 1536);
  CHECK(memostore::parse_size("10kB") == 10'000);
  for (const char* bad : {"", "M", "12X", "1.2.3G", "-5M", "5 G", "99999999T"}) {
    CHECK_THROWS_AS(memostore::parse_size(bad), memostore::Error);
  }
}

TEST_CASE("durations parse as sums of numbers with units") {
  CHECK(memostore::parse_duration("90s") == 90s);
  CHECK(memostore::parse_duration("7d") == std::chrono::hours(24 * 7));
  CHECK(memostore::parse_duration("3h12m") == 3h + 12min);
  CHECK(memostore::parse_duration("250ms") == 250ms);
  CHECK(memostore::parse_duration("1w") == std::chrono::hours(24 * 7));
  for (const char* bad : {"", "7", "d", "3x", "1h-2m"}) {
    CHECK_THROWS_AS(memostore::parse_duration(bad), memostore::Error);
  }
}

TEST_CASE("sizes and durations format for people") {
  CHECK(memostore::format_size(812) == "812 B");
  CHECK(memostore::format_size(1229) == "1.2 KiB");
  CHECK(memostore::format_size(std::uint64_t{3} << 30) == "3.0 GiB");
  CHECK(memostore::format_duration(0s) == "0ms");
  CHECK(memostore::format_duration(850ms) == "850ms");
  CHECK(memostore::format_duration(41min + 12s) == "41m12s");
  CHECK(memostore::format_duration(3h + 12min + 5s) == "3h12m");
  CHECK(memostore::format_duration(std::chrono::hours(52)) == "2d4h");
}

TEST_SUITE_END();
