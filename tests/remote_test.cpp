// The remote tier against real redis-server instances started by the tests:
// a fleet shares results, the remote never breaks a computation, and nothing
// that comes from it is returned without passing every check.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <string>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <memostore/memostore.hpp>
#include <nlohmann/json.hpp>

#include "store/store_core.hpp"
#include "support/redis_server.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::test::RedisServer;
using memostore::test::TempDir;
using memostore::test::open_with_remote;

namespace {

/// Waits until everything this store queued for the remote tier was sent.
void drain(const memostore::Store& store) {
  REQUIRE(memostore::detail::core_of(store)->remote()->drain(std::chrono::seconds(10)));
}

/// The keys memostore wrote to `redis`.
std::vector<std::string> remote_keys(RedisServer& redis) {
  std::vector<std::string> keys;
  for (const auto& key : redis.command({"KEYS", "*"}).elements) {
    keys.push_back(key.text);
  }
  return keys;
}

}  // namespace

TEST_CASE("a store with an empty directory hits what another store on the same Redis computed") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  std::atomic<int> computed{0};
  auto square = [&](int x) {
    ++computed;
    return std::to_string(x * x);
  };
  {
    auto first = open_with_remote(tmp / "x", redis.url());
    auto f = memostore::memo(first, "square", memostore::state_not_keyed(square));
    for (int i = 0; i < 10; ++i) {
      CHECK(f(i) == std::to_string(i * i));
    }
    drain(first);
    CHECK(first.stats().remote.writes == 10);
  }
  auto second = open_with_remote(tmp / "y", redis.url());
  auto g = memostore::memo(second, "square", memostore::state_not_keyed(square));
  for (int i = 0; i < 10; ++i) {
    CHECK(g(i) == std::to_string(i * i));
  }
  CHECK(computed == 10);
  CHECK(second.stats().remote.hits == 10);
  CHECK(second.stats().total.hits == 10);
  CHECK(second.stats().total.entries == 10);  // stored locally: the next call does not ask Redis
  CHECK(g(3) == "9");
  CHECK(second.stats().remote.hits == 10);
}

TEST_CASE("process B with an empty directory hits what process A computed, through Redis") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  const std::map<std::string, std::string> env{{"MEMOSTORE_REMOTE", redis.url()}};
  const auto a = memostore::test::run_process(
      {memostore::test::child_program(), (tmp / "x").string(), "squares-range", "0", "20"}, env);
  REQUIRE(a.exit_code == 0);
  CHECK(memostore::test::output_value(a.out, "computed") == "20");  // its close sent the queue
  const auto b = memostore::test::run_process(
      {memostore::test::child_program(), (tmp / "y").string(), "squares-range", "0", "20"}, env);
  REQUIRE(b.exit_code == 0);
  CHECK(memostore::test::output_value(b.out, "computed") == "0");
  CHECK(memostore::test::output_value(b.out, "wrong") == "0");
}

TEST_CASE("the remote tier's counters are kept in the store: across processes, and in memostore stats") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  for (int run = 0; run < 2; ++run) {  // two processes' worth, one after the other
    auto store = open_with_remote(tmp / "s", redis.url());
    auto f = memostore::memo(store, "id", [](int x) { return x; });
    (void)f(run);
    drain(store);
  }
  CHECK(open_with_remote(tmp / "s", redis.url()).stats().remote.writes == 2);
  const std::string tool = std::getenv("MEMOSTORE_TOOL");
  const auto shown = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "stats", "--json"});
  REQUIRE(shown.exit_code == 0);
  const auto remote = nlohmann::json::parse(shown.out)["remote"];
  CHECK(remote["writes"] == 2);
  CHECK(remote["misses"] == 2);  // both first calls asked Redis
  const auto table = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "stats"});
  CHECK(table.out.find("remote tier: 0 hits, 2 misses, 2 writes") != std::string::npos);
}

TEST_CASE("readonly remote mode reads the fleet's cache and never writes to it") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  {
    auto writer = open_with_remote(tmp / "w", redis.url());
    auto f = memostore::memo(writer, "id", [](int x) { return x; });
    (void)f(1);
    drain(writer);
  }
  CHECK(remote_keys(redis).size() == 1);
  memostore::test::ScopedEnv mode("MEMOSTORE_REMOTE_MODE", "readonly");
  auto reader = open_with_remote(tmp / "r", redis.url());
  std::atomic<int> computed{0};
  auto f = memostore::memo(reader, "id", memostore::state_not_keyed([&](int x) {
    ++computed;
    return x;
  }));
  CHECK(f(1) == 1);
  CHECK(f(2) == 2);
  CHECK(computed == 1);  // 1 came from Redis
  CHECK(remote_keys(redis).size() == 1);
  CHECK(reader.stats().remote.writes == 0);
}

TEST_CASE("Redis stopped mid-run: results stay correct, one warning, no waiting, and it is picked up again") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  auto clock = std::make_shared<memostore::ManualClock>(std::chrono::system_clock::now());
  auto store = open_with_remote(tmp / "s", redis.url(), {}, clock);
  auto f = memostore::memo(store, "double", [](int x) { return 2 * x; });
  CHECK(f(1) == 2);
  drain(store);

  redis.stop();
  memostore::test::LogCapture log;
  for (int i = 2; i < 50; ++i) {
    const auto start = std::chrono::steady_clock::now();
    CHECK(f(i) == 2 * i);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600));  // connect + command timeouts
  }
  CHECK(log.count("remote cache unavailable") == 1);
  CHECK(store.stats().remote.errors >= 1);
  CHECK(store.stats().remote.errors <= 2);  // backed off: not one failure per call

  redis.start();
  clock->advance(std::chrono::seconds(11));  // past the backoff
  CHECK(f(100) == 200);
  drain(store);
  CHECK(remote_keys(redis).size() == 1);  // the new result reached the restarted (empty) server
  CHECK(log.count("remote cache unavailable") == 1);
}

TEST_CASE("an entry tampered with in Redis, or signed with another secret, is rejected and recomputed") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  {
    auto poisoner = open_with_remote(tmp / "p", redis.url(), {}, nullptr, "another secret");
    auto f = memostore::memo(poisoner, "value", [](int x) { return std::string("poison ") + std::to_string(x); });
    (void)f(1);
    (void)f(2);
    drain(poisoner);
  }
  const auto keys = remote_keys(redis);
  REQUIRE(keys.size() == 2);
  // Flip one byte of the payload of value(1)'s entry.
  for (const std::string& key : keys) {
    std::string bytes = redis.command({"GET", key}).text;
    if (const auto at = bytes.find("poison 1"); at != std::string::npos) {
      bytes[at] ^= 0x01;
      redis.command({"SET", key, bytes});
    }
  }

  std::atomic<int> computed{0};
  auto check = [&](const std::string& secret) {
    auto store = open_with_remote(tmp / ("s" + secret), redis.url(), {}, nullptr, secret);
    auto f = memostore::memo(store, "value", memostore::state_not_keyed([&](int x) {
      ++computed;
      return std::string("good ") + std::to_string(x);
    }));
    CHECK(f(1) == "good 1");  // the flipped entry: its checksum fails
    CHECK(f(2) == (secret.empty() ? "poison 2" : "good 2"));  // without a secret, signatures are not checked
    return store.stats().remote.rejected;
  };
  CHECK(check("") == 1);
  CHECK(check("the secret") == 2);
}

TEST_CASE("every remote key has an expiry: the entry's ttl, else the default") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  auto store = open_with_remote(tmp / "s", redis.url(), {.ttl = std::chrono::hours(48)});
  auto lasting = memostore::memo(store, "lasting", [](int x) { return x; });
  auto brief = memostore::memo(store, "brief", [](int x) { return x; }, {.ttl = std::chrono::minutes(5)});
  (void)lasting(1);
  (void)brief(1);
  drain(store);
  for (const std::string& key : remote_keys(redis)) {
    const long long ttl_ms = redis.command({"PTTL", key}).integer;
    CHECK(ttl_ms > 0);
    if (key.find("brief") != std::string::npos) {
      CHECK(ttl_ms <= 5 * 60 * 1000);
    } else {
      CHECK(ttl_ms > 47 * 3600 * 1000LL);
    }
  }
  CHECK(remote_keys(redis).size() == 2);
}

TEST_CASE("a 10 MB result passes through intact; one above max_value_bytes stays local") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  auto big = [](int n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) {
      v[i] = static_cast<double>(i) * 0.5;
    }
    return v;
  };
  {
    // A whole command must finish within command_timeout: 10 MB takes about 0.2 s here, over 1 s
    // under TSan on a busy machine, so these large values get a timeout to match (the README says so).
    auto store = open_with_remote(tmp / "a", redis.url(),
                           {.command_timeout = std::chrono::seconds(10), .max_value_bytes = 12'000'000});
    auto f = memostore::memo(store, "big", big);
    (void)f(1'250'000);  // 10 MB
    (void)f(1'600'000);  // 12.8 MB: over the limit
    drain(store);
  }
  CHECK(remote_keys(redis).size() == 1);
  auto store = open_with_remote(tmp / "b", redis.url(), {.command_timeout = std::chrono::seconds(10)});
  std::atomic<int> computed{0};
  auto f = memostore::memo(store, "big", memostore::state_not_keyed([&](int n) {
    ++computed;
    return big(n);
  }));
  CHECK(f(1'250'000) == big(1'250'000));
  CHECK(computed == 0);
}

TEST_CASE("keys are spread over two servers by a stable hash, and both are read") {
  TempDir tmp;
  RedisServer one(tmp / "one");
  RedisServer two(tmp / "two");
  const std::string urls = one.url() + " " + two.url();
  {
    auto store = open_with_remote(tmp / "a", urls);
    auto f = memostore::memo(store, "id", [](int x) { return x; });
    for (int i = 0; i < 40; ++i) {
      (void)f(i);
    }
    drain(store);
  }
  const std::size_t on_one = remote_keys(one).size();
  const std::size_t on_two = remote_keys(two).size();
  CHECK(on_one + on_two == 40);
  CHECK(on_one >= 8);  // 40 keys: a fair split is 20 each; this fails only for a broken spread
  CHECK(on_two >= 8);

  auto store = open_with_remote(tmp / "b", two.url() + " " + one.url());  // the order of the URLs does not matter
  std::atomic<int> computed{0};
  auto f = memostore::memo(store, "id", memostore::state_not_keyed([&](int x) {
    ++computed;
    return x;
  }));
  for (int i = 0; i < 40; ++i) {
    CHECK(f(i) == i);
  }
  CHECK(computed == 0);
  CHECK(store.stats().remote.hits == 40);
}

TEST_CASE("clear of the remote tier removes only keys under its prefix") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  redis.command({"SET", "other-project:key", "keep me"});
  auto store = open_with_remote(tmp / "s", redis.url(), {.prefix = "proj*[1]:"});
  auto f = memostore::memo(store, "id", [](int x) { return x; });
  for (int i = 0; i < 5; ++i) {
    (void)f(i);
  }
  drain(store);
  CHECK(remote_keys(redis).size() == 6);
  CHECK(memostore::detail::core_of(store)->remote()->clear().value() == 5);
  CHECK(remote_keys(redis) == std::vector<std::string>{"other-project:key"});
}

TEST_CASE("remote URLs: parsed, and a bad one is a config error that never shows the password") {
  TempDir tmp;
  const std::string message = memostore::test::error_message(
      [&] { (void)open_with_remote(tmp / "s", "http://user:hunter2@cache:6379"); }, memostore::ErrorCode::config);
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(message.find("redis://") != std::string::npos);
  const auto parsed = memostore::detail::parse_remote_url("redis://:pw@cache.internal:6380/3").value();
  CHECK(parsed.host == "cache.internal");
  CHECK(parsed.port == 6380);
  CHECK(parsed.db == 3);
  CHECK(parsed.password == "pw");
  CHECK(parsed.display.find("pw") == std::string::npos);
  const auto socket = memostore::detail::parse_remote_url("redis+unix:///run/redis.sock?db=2").value();
  CHECK(socket.socket_path == "/run/redis.sock");
  CHECK(socket.db == 2);
}

TEST_CASE("the tool: remote ping reports the server and clear --remote empties the prefix") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  {
    auto store = open_with_remote(tmp / "s", redis.url());
    auto f = memostore::memo(store, "id", [](int x) { return x; });
    (void)f(1);
    (void)f(2);
    drain(store);
  }
  const std::string tool = std::getenv("MEMOSTORE_TOOL");
  const std::map<std::string, std::string> env{{"MEMOSTORE_REMOTE", redis.url()}};
  const auto ping = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "remote", "ping", "--json"}, env);
  REQUIRE(ping.exit_code == 0);
  const auto servers = nlohmann::json::parse(ping.out)["servers"];
  REQUIRE(servers.size() == 1);
  CHECK(servers[0]["ok"] == true);
  CHECK(servers[0]["version"].get<std::string>().find('.') != std::string::npos);

  const auto cleared = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "clear", "--remote"}, env);
  CHECK(cleared.exit_code == 0);
  CHECK(cleared.out.find("2 entries") != std::string::npos);
  CHECK(remote_keys(redis).empty());

  redis.stop();
  const auto down = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "remote", "ping"}, env);
  CHECK(down.exit_code == 3);
  CHECK(down.out.find("cannot connect") != std::string::npos);
  const auto none = memostore::test::run_process({tool, "--dir", (tmp / "s").string(), "remote", "ping"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("MEMOSTORE_REMOTE") != std::string::npos);
}

TEST_CASE("share_inflight across machines: one computes, the other waits for its result through Redis") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  // Two "machines": each its own cache directory, one Redis.
  memostore::test::check_waiter_takes_owners_result(
      (tmp / "a").string(), (tmp / "b").string(), [](int) { return "remote lease"; },
      {{"MEMOSTORE_REMOTE", redis.url()}});
}

TEST_CASE("share_inflight across machines: a crashed owner's lease expires, and the waiter computes") {
  TempDir tmp;
  RedisServer redis(tmp / "redis");
  const std::map<std::string, std::string> env{{"MEMOSTORE_REMOTE", redis.url()}};
  using memostore::test::ChildProcess;
  using memostore::test::wait_for_line;
  ChildProcess owner({memostore::test::child_program(), (tmp / "a").string(), "claimed-square", "7"}, env);
  REQUIRE(wait_for_line(owner, "computing"));
  std::string lease;
  for (const std::string& key : remote_keys(redis)) {
    if (key.find("lease:") != std::string::npos) {
      lease = key;
    }
  }
  REQUIRE_FALSE(lease.empty());
  const long long ttl = redis.command({"PTTL", lease}).integer;
  CHECK(ttl > 0);  // it expires by itself
  CHECK(ttl <= memostore::detail::k_remote_lease.count());
  ::kill(owner.pid(), SIGKILL);
  CHECK(owner.wait() == 128 + SIGKILL);

  ChildProcess waiter({memostore::test::child_program(), (tmp / "b").string(), "claimed-square", "7"}, env);
  REQUIRE(wait_for_line(waiter, "remote lease", "computing"));
  redis.command({"PEXPIRE", lease, "1"});  // what the passing of k_remote_lease does, without waiting for it
  REQUIRE(wait_for_line(waiter, "computing"));
  waiter.close_stdin();
  CHECK(waiter.wait() == 0);
  CHECK(memostore::test::output_value(waiter.out(), "result") == "49");
  CHECK(memostore::test::output_value(waiter.out(), "computed") == "1");
}
