// issue 26, findings 5 and 6: the remote tier is bounded in time and memory
// whatever the server does (a fake Redis that trickles, announces huge
// replies or answers with the wrong type), and a lease planted in a real
// Redis does not make callers wait for it.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <string>

#include <memostore/memostore.hpp>

#include "remote/remote_tier.hpp"
#include "remote/reply_guard.hpp"
#include "store/store_core.hpp"
#include "support/fake_redis.hpp"
#include "support/redis_server.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::test::FakeRedis;
using memostore::test::TempDir;
using memostore::test::open_with_remote;
using Clock = std::chrono::steady_clock;

namespace {

/// The peak memory of this process so far, in bytes.
std::uint64_t peak_rss() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A fake server answering GET with `reply`, then `units` copies of `unit`
/// as fast as the client reads them (what a real reply of that header would
/// bring), and anything else with +OK.
FakeRedis answering_get(std::string reply, std::string unit = {}, std::uint64_t units = 0) {
  return FakeRedis([=](FakeRedis::Session& session, const std::vector<std::string>& command) {
    if (command.front() != "GET") {
      session.send("+OK\r\n");
    } else if (session.send(reply) && units > 0) {
      session.repeat(unit, units);
    }
  });
}

/// One miss that asks `server` for a value, on a fresh store: how long it
/// took, what the tier counted, and how much memory the process's peak grew.
struct Miss {
  double seconds;
  memostore::RemoteStats remote;
  std::uint64_t peak_growth;
  int computed;
};
Miss miss_against(const FakeRedis& server, const fs::path& dir, memostore::RemoteOptions options = {}) {
  auto store = open_with_remote(dir, server.url(), options);
  int computed = 0;
  auto f = memostore::memo(store, "square", memostore::state_not_keyed([&](int x) {
    ++computed;
    return x * x;
  }));
  const std::uint64_t peak_before = peak_rss();
  const auto start = Clock::now();
  CHECK(f(12) == 144);
  return Miss{seconds_since(start), memostore::detail::core_of(store)->remote()->stats(), peak_rss() - peak_before, computed};
}

}  // namespace

TEST_CASE("ReplyGuard follows RESP framing however the bytes are split, and stops at the reply's end") {
  using memostore::detail::ReplyGuard;
  using memostore::detail::ReplyKind;
  // A SCAN page: [cursor, [keys...]], with a nil and an empty array inside, then the next reply's bytes.
  const std::string reply = "*2\r\n$2\r\n17\r\n*4\r\n$3\r\na\r\n\r\n$-1\r\n*0\r\n:5\r\n";
  const std::string after = "+OK\r\n";
  for (std::size_t chunk = 1; chunk <= reply.size(); ++chunk) {
    ReplyGuard guard({}, {ReplyKind::array});
    const std::string bytes = reply + after;
    std::size_t at = 0;
    ReplyGuard::Scan scan{ReplyGuard::State::more, 0};
    while (scan.state == ReplyGuard::State::more && at < bytes.size()) {
      scan = guard.scan(std::string_view(bytes).substr(at, chunk));
      at += scan.used;
    }
    CHECK(scan.state == ReplyGuard::State::complete);
    CHECK(at == reply.size());  // a bulk holding "\r\n" did not end it early; the next reply is not taken
  }
  ReplyGuard deep({.max_depth = 2}, {ReplyKind::array});
  CHECK(deep.scan("*1\r\n*1\r\n*1\r\n").state == ReplyGuard::State::refused);
  ReplyGuard many({.max_elements = 3}, {ReplyKind::array});
  CHECK(many.scan("*2\r\n:1\r\n*2\r\n").state == ReplyGuard::State::refused);  // 5 elements in all
  ReplyGuard line({.max_line = 8}, {ReplyKind::status});
  CHECK(line.scan("+0123456789").state == ReplyGuard::State::refused);  // before its end arrives
  ReplyGuard nil({}, {ReplyKind::string});
  CHECK(nil.scan("$-1\r\n").state == ReplyGuard::State::refused);  // nil was not asked for
  ReplyGuard error({}, {ReplyKind::string});
  CHECK(error.scan("-ERR no\r\n").state == ReplyGuard::State::complete);  // Redis's own errors always pass
}

TEST_CASE("issue 26: a reply trickled a byte every 300 ms does not keep a call longer than command_timeout") {
  TempDir tmp;
  FakeRedis server([](FakeRedis::Session& session, const std::vector<std::string>&) {
    session.trickle("$16\r\n0123456789abcdef\r\n", std::chrono::milliseconds(300));  // 6.9 s in all
  });
  memostore::test::LogCapture log;
  const Miss miss = miss_against(server, tmp / "s", {.command_timeout = std::chrono::milliseconds(500)});
  MESSAGE("the trickled miss took ", miss.seconds, " s");
  CHECK(miss.computed == 1);
  CHECK(miss.seconds >= 0.45);  // it did wait for the server, for the timeout
  CHECK(miss.seconds < 1.5);    // connect + 500 ms, and slack for a busy machine
  CHECK(miss.remote.errors == 1);
  CHECK(log.count("the command timed out") == 1);
}

TEST_CASE("issue 26: closing a store whose writer's command trickles takes at most close_flush (2 s)") {
  TempDir tmp;
  FakeRedis server([](FakeRedis::Session& session, const std::vector<std::string>& command) {
    if (command.front() == "SET") {
      session.trickle("+OK, slowly: one byte every 300 ms, for 12 seconds\r\n", std::chrono::milliseconds(300));
    } else {
      session.send("$-1\r\n");  // a miss
    }
  });
  Clock::time_point start;
  {
    // A long command timeout: only the close's own bound can end the SET.
    auto store = open_with_remote(tmp / "s", server.url(), {.command_timeout = std::chrono::seconds(30)});
    auto f = memostore::memo(store, "square", [](int x) { return x * x; });
    CHECK(f(3) == 9);
    memostore::test::wait_until(
        [&] {
          const auto seen = server.commands();
          return std::find(seen.begin(), seen.end(), "SET") != seen.end();
        },
        "the writer's SET reaching the server");
    start = Clock::now();
  }  // the close
  const double close_seconds = seconds_since(start);
  MESSAGE("the close took ", close_seconds, " s");
  CHECK(close_seconds < 2.5);
}

TEST_CASE("issue 26: a $500000000 bulk header is refused before it is read: no memory, counted, warned once") {
  TempDir tmp;
  // What a planted 500 MB value looks like: the header, then the bytes as fast as the client reads.
  FakeRedis server = answering_get("$500000000\r\n", "x", 500'000'002);
  memostore::test::LogCapture log;
  const Miss miss = miss_against(server, tmp / "s");
  MESSAGE("peak RSS grew by ", miss.peak_growth >> 20, " MiB; the server got ", server.bytes_sent() >> 20,
          " MiB to the kernel");
  CHECK(miss.computed == 1);
  CHECK(miss.remote.rejected == 1);
  CHECK(miss.remote.errors == 0);
  CHECK(miss.peak_growth < (std::uint64_t{64} << 20));
  CHECK(server.bytes_sent() < (std::uint64_t{32} << 20));  // socket buffers at most, not the 500 MB
  CHECK(log.count("a value of 500000000 bytes, more than max_value_bytes") == 1);
  CHECK(log.count("does not accept") == 1);
}

TEST_CASE("issue 26: a *80000000 array header is refused before hiredis allocates its table") {
  TempDir tmp;
  FakeRedis server = answering_get("*80000000\r\n", ":1\r\n", 8'000'000);
  memostore::test::LogCapture log;
  const Miss miss = miss_against(server, tmp / "s");
  MESSAGE("peak RSS grew by ", miss.peak_growth >> 20, " MiB; the server got ", server.bytes_sent() >> 20,
          " MiB to the kernel");
  CHECK(miss.computed == 1);
  CHECK(miss.remote.rejected == 1);
  CHECK(miss.peak_growth < (std::uint64_t{64} << 20));
  CHECK(server.bytes_sent() < (std::uint64_t{16} << 20));
  CHECK(log.count("an array reply, which this command never gets") == 1);
}

TEST_CASE("issue 26: where an array is expected (SCAN), one announcing 80000000 elements is refused on its header") {
  TempDir tmp;
  FakeRedis server([](FakeRedis::Session& session, const std::vector<std::string>& command) {
    if (command.front() == "SCAN" && session.send("*2\r\n$1\r\n0\r\n*80000000\r\n")) {
      session.repeat("$3\r\nkey\r\n", 8'000'000);
    }
  });
  auto store = open_with_remote(tmp / "s", server.url(), {.mode = memostore::RemoteMode::readonly});
  const std::uint64_t peak_before = peak_rss();
  auto cleared = memostore::detail::core_of(store)->remote()->clear();
  const std::uint64_t growth = peak_rss() - peak_before;
  MESSAGE("peak RSS grew by ", growth >> 20, " MiB; the server got ", server.bytes_sent() >> 20, " MiB to the kernel");
  REQUIRE_FALSE(cleared.ok());
  CHECK(cleared.failure().message.find("an array of 80000000 elements, more than 65536") != std::string::npos);
  CHECK(growth < (std::uint64_t{64} << 20));
  CHECK(server.bytes_sent() < (std::uint64_t{16} << 20));
}

TEST_CASE("issue 26: a reply of the wrong type to GET is a miss, counted as rejected, once per outage") {
  TempDir tmp;
  std::atomic<int> gets{0};
  FakeRedis server([&](FakeRedis::Session& session, const std::vector<std::string>& command) {
    if (command.front() != "GET") {
      session.send("+OK\r\n");
    } else {
      session.send(++gets == 1 ? ":1\r\n" : "*1\r\n$1\r\nx\r\n");  // an integer, then an array
    }
  });
  auto clock = std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now());
  memostore::test::LogCapture log;
  // Read-only: no writer whose SET (answered +OK) would end the outage between the two calls.
  auto store = open_with_remote(tmp / "s", server.url(), {.mode = memostore::RemoteMode::readonly}, clock);
  std::atomic<int> computed{0};
  auto f = memostore::memo(store, "square", memostore::state_not_keyed([&](int x) {
    ++computed;
    return x * x;
  }));
  CHECK(f(2) == 4);
  clock->advance(std::chrono::seconds(11));  // past the backoff
  CHECK(f(3) == 9);
  CHECK(computed == 2);
  CHECK(gets == 2);
  const auto remote = memostore::detail::core_of(store)->remote()->stats();
  CHECK(remote.rejected == 2);
  CHECK(remote.misses == 2);
  CHECK(remote.hits == 0);
  CHECK(log.count("an integer reply, which this command never gets") == 1);
  CHECK(log.count("does not accept") == 1);  // the second came within the same outage
}

TEST_CASE("issue 26: a planted lease (an hour, or no expiry) does not make a share_inflight call wait") {
  TempDir tmp;
  memostore::test::RedisServer redis(tmp / "redis");
  const memostore::MemoOptions sharing{.inflight = memostore::Inflight::shared,
                                       .inflight_lease = std::chrono::seconds(30)};
  std::string entry_key;
  {
    // A real run, to learn the key: its lease and its entry.
    auto store = open_with_remote(tmp / "first", redis.url());
    auto f = memostore::memo(store, "square", [](int x) { return x * x; }, sharing);
    CHECK(f(7) == 49);
    const auto keys = redis.command({"KEYS", "memostore:*"}).elements;
    REQUIRE(keys.size() == 1);  // the entry; the lease was given up
    entry_key = keys.front().text;
  }
  const std::string lease = "memostore:lease:" + entry_key.substr(std::string("memostore:").size());
  memostore::test::LogCapture log;
  int run = 0;
  for (const bool expires : {true, false}) {
    redis.command({"DEL", entry_key});
    if (expires) {
      redis.command({"SET", lease, "intruder:1", "PX", "3600000"});
    } else {
      redis.command({"SET", lease, "intruder:1"});
    }
    auto store = open_with_remote(tmp / ("planted" + std::to_string(++run)), redis.url());
    std::atomic<int> computed{0};
    auto f = memostore::memo(store, "square", memostore::state_not_keyed([&](int x) {
      ++computed;
      return x * x;
    }), sharing);
    const auto start = Clock::now();
    CHECK(f(7) == 49);
    const double waited = seconds_since(start);
    MESSAGE("with a planted lease ", std::string(expires ? "of an hour" : "without expiry"), ", the call took ", waited, " s");
    CHECK(waited < 5.0);  // not inflight_lease (30 s)
    CHECK(computed == 1);
    CHECK(redis.command({"GET", lease}).text == "intruder:1");  // left alone: it is not ours to remove
    CHECK(log.count("a lease on this call in the remote cache that memostore did not set") == run);  // one per store
  }
}
