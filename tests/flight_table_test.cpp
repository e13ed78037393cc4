// FlightTable: concurrent requests for one key do the work once. The leader's
// value or exception reaches every waiter, a caller arriving after a flight
// ended leads a new one and sees the epoch moved, and a leader can only ever
// end its own flight. (memo_test and singleton_test cover it through memo and
// singleton; these cases pin down the table itself.)
#include <doctest/doctest.h>

#include <future>
#include <optional>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "util/flight_table.hpp"

using memostore::detail::FlightTable;

namespace {

using Table = FlightTable<int>;

/// Starts a caller of `key` on another thread and returns once it has joined
/// the leader's flight as its `nth` waiter; the future holds what wait() gave it.
std::future<int> start_waiter(Table& table, const std::string& key, std::size_t nth = 1) {
  auto waiter = std::async(std::launch::async, [&table, key] {
    Table::Ticket ticket = table.join(key);
    return ticket.leader() ? -1 : ticket.wait();
  });
  memostore::test::wait_until([&] { return table.waiters(key) >= nth; }, "the waiter's arrival");
  return waiter;
}

}  // namespace

TEST_SUITE_BEGIN("util::FlightTable");

TEST_CASE("every waiter receives the leader's value") {
  Table table;
  Table::Ticket leader = table.join("k");
  REQUIRE(leader.leader());
  std::vector<std::future<int>> waiters;
  for (std::size_t nth = 1; nth <= 4; ++nth) {
    waiters.push_back(start_waiter(table, "k", nth));
  }
  leader.finish(42);
  for (auto& waiter : waiters) {
    CHECK(waiter.get() == 42);
  }
}

TEST_CASE("every waiter rethrows the leader's exception") {
  Table table;
  Table::Ticket leader = table.join("k");
  auto waiter = start_waiter(table, "k");
  leader.fail(std::make_exception_ptr(std::runtime_error("the work failed")));
  CHECK_THROWS_WITH_AS(waiter.get(), "the work failed", std::runtime_error);
}

TEST_CASE("a caller arriving after a flight ended leads a new one and sees the epoch moved") {
  Table table;
  const std::uint64_t before = table.epoch();
  {
    Table::Ticket first = table.join("k");
    first.finish(1);
  }
  Table::Ticket second = table.join("k");
  CHECK(second.leader());
  CHECK(table.epoch() != before);
}

TEST_CASE("a leader that ends without a result releases its waiters with a default value") {
  Table table;
  std::optional<Table::Ticket> leader(table.join("k"));
  auto waiter = start_waiter(table, "k");
  leader.reset();  // neither finished nor failed: the destructor publishes
  CHECK(waiter.get() == 0);
}

TEST_CASE("a second finish keeps the first result and leaves a newer flight of the key alone") {
  Table table;
  Table::Ticket old_leader = table.join("k");
  auto old_waiter = start_waiter(table, "k");
  old_leader.finish(1);
  CHECK(old_waiter.get() == 1);

  Table::Ticket new_leader = table.join("k");
  REQUIRE(new_leader.leader());
  old_leader.finish(2);  // misuse: must neither end the new flight nor change the old result
  Table::Ticket joiner = table.join("k");
  REQUIRE_FALSE(joiner.leader());  // else wait() below would wait on itself
  CHECK(table.waiters("k") == 1);
  new_leader.finish(3);
  CHECK(joiner.wait() == 3);
}

TEST_SUITE_END();
