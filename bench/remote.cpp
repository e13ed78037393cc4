// R1/R2: the remote tier on a Redis server on this machine (a Unix socket,
// started by bench/run.sh). R1 times a remote hit (a local miss answered by
// Redis, checked and stored locally) for a 100-byte and a 10 MB result, next
// to a local hit and a miss (the function itself returning at once: the cost
// of storing). R2 runs 4 processes with empty local directories on one Redis,
// each calling the same keys of a function that takes 1 ms, and counts how
// often it was computed, against 4 processes without a remote tier.
#include "remote.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "harness.hpp"
#include "remote/redis_connection.hpp"
#include "store/store_core.hpp"

namespace fs = std::filesystem;

namespace bench {
namespace {

memostore::Store open_remote(const fs::path& dir, const std::string& redis) {
  return memostore::Store::open({.dir = dir, .remote = redis});
}

template <class Value>
void remote_hits(const fs::path& scratch, const std::string& redis, const char* workload, int keys,
                 Value (*make)(int)) {
  const double bytes = static_cast<double>(sizeof(typename Value::value_type) * make(0).size());
  memostore::detail::RedisConnection connection(memostore::detail::parse_remote_url(redis).value(), {});
  (void)connection.command({"FLUSHALL"}).value();  // only this workload's entries below
  {
    auto producer = open_remote(scratch / workload / "producer", redis);
    auto f = memostore::memo(producer, workload, make);
    for (int k = 0; k < keys; ++k) f(k);
    (void)memostore::detail::core_of(producer)->remote()->drain(std::chrono::minutes(1));
  }
  Samples raw;  // the floor: hiredis GET of the same entries, copied out (what the remote tier does first)
  {
    auto listed = connection.command({"KEYS", "*"});
    if (!listed) throw std::runtime_error(listed.failure().message);
    for (const auto& key : listed.value().elements) {
      const auto start = Clock::now();
      bench_sink += static_cast<int>(connection.command({"GET", key.text}).value().text.size());
      raw.ns.push_back(ns_since(start));
    }
  }
  auto consumer = open_remote(scratch / workload / "consumer", redis);
  auto f = memostore::memo(consumer, workload, make);
  Samples remote, local;
  for (int k = 0; k < keys; ++k) {  // each key once: after it, it is local
    const auto start = Clock::now();
    bench_sink += static_cast<int>(f(k).size());
    remote.ns.push_back(ns_since(start));
  }
  for (int k = 0; k < keys; ++k) {
    const auto start = Clock::now();
    bench_sink += static_cast<int>(f(k).size());
    local.ns.push_back(ns_since(start));
  }
  auto report = [&](const char* system, Samples& samples) {
    Result(workload, system).add("median_ns", samples.median()).add("p99_ns", samples.p99())
        .add("gb_per_s", bytes / samples.median()).print();
  };
  report("redis_get", raw);
  report("memostore_remote_hit", remote);
  report("memostore_local_hit", local);
  if (consumer.stats().remote.hits != static_cast<std::uint64_t>(keys)) {
    throw std::runtime_error("remote benchmark: not every first call was a remote hit");
  }
  auto misses = open_remote(scratch / workload / "misses", redis);
  auto g = memostore::memo(misses, std::string(workload) + "-miss", make);
  Samples miss;
  for (int k = 0; k < keys; ++k) {
    const auto start = Clock::now();
    bench_sink += static_cast<int>(g(k).size());
    miss.ns.push_back(ns_since(start));
  }
  report("memostore_miss", miss);
}

}  // namespace

int remote_child(const std::string& redis, const fs::path& dir, int keys, int seed) {
  auto store = redis.empty() ? memostore::Store::open(dir) : open_remote(dir, redis);
  int computed = 0;
  auto slow = memostore::memo(
      store, "R2",
      memostore::state_not_keyed([&computed](int k) {
        ++computed;
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (std::chrono::steady_clock::now() < until) {
        }
        return small_value(k);
      }),
      {.inflight = memostore::Inflight::shared});
  Random random{static_cast<std::uint64_t>(seed)};
  std::vector<int> order(static_cast<std::size_t>(keys));
  for (int k = 0; k < keys; ++k) order[static_cast<std::size_t>(k)] = k;
  for (int i = keys - 1; i > 0; --i) std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(random.below(i + 1))]);
  for (int k : order) bench_sink += static_cast<int>(slow(k).size());
  std::printf("%d\n", computed);
  return 0;
}

void remote_workloads(const fs::path& scratch, const std::string& redis, const std::string& self, bool quick) {
  remote_hits<std::string>(scratch, redis, "R1-small", quick ? 200 : 2000, &small_value);
  remote_hits<std::vector<double>>(scratch, redis, "R1-large", quick ? 3 : 20, &large_value);

  const int keys = quick ? 100 : 1000;
  for (const bool shared : {false, true}) {
    const auto start = Clock::now();
    std::vector<FILE*> children;
    for (int p = 0; p < 4; ++p) {
      const fs::path dir = scratch / (shared ? "R2-shared" : "R2-alone") / std::to_string(p);
      const std::string command = self + " --remote-child '" + (shared ? redis : std::string()) + "' '" +
                                  dir.string() + "' " + std::to_string(keys) + " " + std::to_string(p + 1);
      children.push_back(popen(command.c_str(), "r"));
    }
    int computed = 0;
    for (FILE* child : children) {
      int n = 0;
      if (child == nullptr || std::fscanf(child, "%d", &n) != 1) throw std::runtime_error("R2 child failed");
      computed += n;
      pclose(child);
    }
    const double seconds = ns_since(start) / 1e9;
    Result("R2", shared ? "memostore_remote" : "memostore_local_only")
        .add("processes", 4).add("keys", keys).add("computed", computed).add("seconds", seconds).print();
  }
}

}  // namespace bench
