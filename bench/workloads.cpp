// The benchmark workloads (W1-W5, S1, M, F1/F2 in fingerprints.cpp, L1/L2 in large_arguments.cpp, W7 in
// shared_results.cpp), each run for memostore and its
// baselines in one process, one JSON line per (workload, system).
//
//   memostore-bench --dir SCRATCH --cold-start PATH [--quick] [--only W1,W2,...,F]
//   memostore-bench --memory-child DIR ENTRIES HITS     (internal: the M workload's reader)
//   memostore-bench --large-store-child SYSTEM DIR ENTRIES HITS   (internal: W6's processes)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "baselines.hpp"
#include "fingerprints.hpp"
#include "large_arguments.hpp"
#include "large_store.hpp"
#include "remote.hpp"
#include "harness.hpp"
#include "shared_results.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace bench;

namespace {

struct Config {
  fs::path scratch;
  std::string cold_start;
  bool quick = false;
  std::set<std::string> only;
  int w6_entries = 1'000'000;  // --w6-entries: a smaller W6 for quick looks
  std::string redis;  // a Redis server for R1/R2 (bench/run.sh starts one); empty: skipped
  bool wants(const std::string& w) const { return only.empty() || only.count(w) > 0; }
};

int sink = 0;  // defeats dead-code elimination of decoded values
constexpr int k_hot_keys = 64;

/// Times `hits` calls of `hit(key)` on random keys below `keys`.
template <class Hit>
Samples time_hits(int keys, int hits, Hit&& hit, std::uint64_t seed = 1) {
  Random random{seed};
  Samples samples;
  samples.ns.reserve(static_cast<std::size_t>(hits));
  for (int i = 0; i < hits; ++i) {
    const int key = random.below(keys);
    const auto start = Clock::now();
    hit(key);
    samples.ns.push_back(ns_since(start));
  }
  return samples;
}

void report_hits(const char* workload, const char* system, Samples samples, double bytes = 0) {
  Result r(workload, system);
  const double median = samples.median();
  r.add("median_ns", median).add("p99_ns", samples.p99());
  if (bytes > 0) r.add("gb_per_s", bytes / median);
  r.print();
}

// --- W1 small hit / W2 large hit: same shape, different values ---

template <class Value>
void hit_workload(const Config& c, const char* workload, int keys, int hits, Value (*make)(int)) {
  const double bytes = static_cast<double>(sizeof(typename Value::value_type) * make(0).size());
  const fs::path dir = c.scratch / workload;
  const bool hot_set = std::strcmp(workload, "W1") == 0;  // W1 also times the same 64 keys over and over
  // Default options, then (for W1) without the hot tier: RocksDB's read path alone.
  for (const std::uint64_t hot_bytes : {memostore::StoreOptions{}.hot_cache_bytes, std::uint64_t{0}}) {
    if (hot_bytes == 0 && !hot_set) break;
    const char* system = hot_bytes == 0 ? "memostore_no_hot" : "memostore";
    auto store = memostore::Store::open({.dir = dir / system, .hot_cache_bytes = hot_bytes});
    auto f = memostore::memo(store, workload, make);
    for (int k = 0; k < keys; ++k) f(k);
    auto hit = [&](int k) { sink += static_cast<int>(f(k).size()); };
    report_hits(workload, system, time_hits(keys, hits, hit), bytes);
    if (hot_set) report_hits("W1-hot", system, time_hits(k_hot_keys, hits, hit));
  }
  {
    RawRocksDb db(dir / "rocksdb");
    for (int k = 0; k < keys; ++k) db.put(raw_key(workload, k), cereal_encode(make(k)));
    auto hit = [&](int k) {
      db.get(raw_key(workload, k), [](const char* data, std::size_t size) {
        sink += static_cast<int>(cereal_decode<Value>(data, size).size());
      });
    };
    report_hits(workload, "rocksdb_raw", time_hits(keys, hits, hit), bytes);
    if (hot_set) report_hits("W1-hot", "rocksdb_raw", time_hits(k_hot_keys, hits, hit));
  }
  {
    std::unordered_map<int, std::string> map;
    for (int k = 0; k < keys; ++k) memostore::detail::encode_value(make(k), map[k]);
    report_hits(workload, "unordered_map", time_hits(keys, hits, [&](int k) {
                  sink += static_cast<int>(memostore::detail::decode_value<Value>(map.find(k)->second).size());
                }), bytes);
    std::string destination(map[0].size(), '\0');
    report_hits(workload, "memcpy", time_hits(keys, hits, [&](int k) {
                  const std::string& source = map.find(k)->second;
                  std::memcpy(destination.data(), source.data(), source.size());
                  sink += destination[static_cast<std::size_t>(k) % destination.size()];
                }), bytes);
  }
  {
    SqliteStore db(dir / "sqlite.db");
    for (int k = 0; k < keys; ++k) db.put(raw_key(workload, k), cereal_encode(make(k)));
    report_hits(workload, "sqlite_wal", time_hits(keys, hits, [&](int k) {
                  sink += static_cast<int>(cereal_decode<Value>(*db.get(raw_key(workload, k))).size());
                }), bytes);
  }
  {
    FileStore files(dir / "files");
    for (int k = 0; k < keys; ++k) files.put(raw_key(workload, k), cereal_encode(make(k)));
    report_hits(workload, "cereal_files", time_hits(keys, hits, [&](int k) {
                  sink += static_cast<int>(cereal_decode<Value>(*files.get(raw_key(workload, k))).size());
                }), bytes);
  }
  fs::remove_all(dir);
}

// --- W3 store: a miss that stores a new 100-byte result ---

template <class Store>
Samples time_stores(int keys, Store&& store) {
  Samples samples;
  for (int k = 0; k < keys; ++k) {
    const auto start = Clock::now();
    store(k);
    samples.ns.push_back(ns_since(start));
  }
  return samples;
}

void w3(const Config& c, int keys) {
  const fs::path dir = c.scratch / "W3";
  {
    auto store = memostore::Store::open(dir / "memostore");
    auto f = memostore::memo(store, "W3", &small_value);
    report_hits("W3", "memostore", time_stores(keys, [&](int k) { sink += static_cast<int>(f(k).size()); }));
  }
  // What each miss would cost with a claim (Inflight::shared), and without any (per_process):
  // the default, automatic, claims a cheap function's first miss only.
  for (const auto& [system, inflight] : {std::pair{"memostore_claim_every_miss", memostore::Inflight::shared},
                                        std::pair{"memostore_per_process", memostore::Inflight::per_process}}) {
    auto store = memostore::Store::open(dir / system);
    auto f = memostore::memo(store, "W3", &small_value, {.inflight = inflight});
    report_hits("W3", system, time_stores(keys, [&](int k) { sink += static_cast<int>(f(k).size()); }));
  }
  {
    RawRocksDb db(dir / "rocksdb");
    report_hits("W3", "rocksdb_raw", time_stores(keys, [&](int k) { db.put(raw_key("W3", k), cereal_encode(small_value(k))); }));
  }
  {
    RawRocksDb db(dir / "rocksdb-get-put");
    report_hits("W3", "rocksdb_raw_get_put", time_stores(keys, [&](int k) {
                  const std::string key = raw_key("W3", k);
                  if (!db.get(key, [](const char*, std::size_t) {})) db.put(key, cereal_encode(small_value(k)));
                }));
  }
  {
    // The floor under memostore's store format: the same Get, then an entry
    // and its info record in one batch.
    RawRocksDb db(dir / "rocksdb-get-put-info", Bookkeeping::meta_family);
    report_hits("W3", "rocksdb_raw_get_put_info", time_stores(keys, [&](int k) {
                  const std::string key = raw_key("W3", k);
                  if (!db.get(key, [](const char*, std::size_t) {})) db.put_with_info(key, cereal_encode(small_value(k)));
                }));
  }
  {
    SqliteStore db(dir / "sqlite.db");
    report_hits("W3", "sqlite_wal", time_stores(keys, [&](int k) { db.put(raw_key("W3", k), cereal_encode(small_value(k))); }));
  }
  {
    FileStore files(dir / "files");
    report_hits("W3", "cereal_files", time_stores(keys, [&](int k) { files.put(raw_key("W3", k), cereal_encode(small_value(k))); }));
  }
  fs::remove_all(dir);
}

// --- W5: W1 hits from two threads ---

template <class Hit>
double hits_per_second(int threads, int keys, int hits_per_thread, Hit&& hit) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  std::vector<double> elapsed(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Random random{static_cast<std::uint64_t>(t + 1)};
      ++ready;
      while (!go) std::this_thread::yield();
      const auto start = Clock::now();
      for (int i = 0; i < hits_per_thread; ++i) hit(random.below(keys));
      elapsed[static_cast<std::size_t>(t)] = ns_since(start);
    });
  }
  while (ready < threads) std::this_thread::yield();
  go = true;
  for (auto& w : workers) w.join();
  const double slowest = *std::max_element(elapsed.begin(), elapsed.end());
  return threads * hits_per_thread / (slowest * 1e-9);
}

/// The median of five runs of hits_per_second: one run on this shared VM
/// varied by up to 2 x between runs.
template <class Hit>
double median_hits_per_second(int threads, int keys, int hits_per_thread, Hit&& hit) {
  std::vector<double> runs;
  for (int run = 0; run < 5; ++run) runs.push_back(hits_per_second(threads, keys, hits_per_thread, hit));
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

template <class Hit>
void report_scaling(const char* system, int keys, int hits, Hit&& hit) {
  hits_per_second(1, keys, hits / 4, hit);  // warm up
  const double one = median_hits_per_second(1, keys, hits, hit);
  const double two = median_hits_per_second(2, keys, hits, hit);
  Result("W5", system).add("hits_per_s_1", one).add("hits_per_s_2", two).add("scaling", two / one).print();
}

void w5(const Config& c, int keys, int hits) {
  const fs::path dir = c.scratch / "W5";
  for (const std::uint64_t hot_bytes : {memostore::StoreOptions{}.hot_cache_bytes, std::uint64_t{0}}) {
    const char* system = hot_bytes == 0 ? "memostore_no_hot" : "memostore";
    auto store = memostore::Store::open({.dir = dir / system, .hot_cache_bytes = hot_bytes});
    auto f = memostore::memo(store, "W1", &small_value);
    for (int k = 0; k < keys; ++k) f(k);
    report_scaling(system, keys, hits, [&](int k) { return f(k).size(); });
  }
  {
    RawRocksDb db(dir / "rocksdb");
    for (int k = 0; k < keys; ++k) db.put(raw_key("W1", k), cereal_encode(small_value(k)));
    report_scaling("rocksdb_raw", keys, hits, [&](int k) {
      std::size_t size = 0;
      db.get(raw_key("W1", k), [&](const char* data, std::size_t n) { size = cereal_decode<std::string>(data, n).size(); });
      return size;
    });
  }
  fs::remove_all(dir);
}

// --- S1: singleton hits, one thread and two threads on the same object ---

/// What people write by hand: a map of shared objects under one mutex.
class MutexMap {
 public:
  std::shared_ptr<std::string> get(int key) {
    std::lock_guard lock(m_mutex);
    auto& slot = m_objects[key];
    if (!slot) slot = std::make_shared<std::string>(small_value(key));
    return slot;
  }

 private:
  std::mutex m_mutex;
  std::unordered_map<int, std::shared_ptr<std::string>> m_objects;
};

/// The floor the issue sets for a singleton hit: a map of shared objects
/// under a reader-writer lock, so hits share the lock and only creation
/// takes it exclusively.
class SharedMutexMap {
 public:
  std::shared_ptr<std::string> get(int key) {
    {
      std::shared_lock lock(m_mutex);
      if (auto it = m_objects.find(key); it != m_objects.end()) return it->second;
    }
    std::unique_lock lock(m_mutex);
    auto& slot = m_objects[key];
    if (!slot) slot = std::make_shared<std::string>(small_value(key));
    return slot;
  }

 private:
  std::shared_mutex m_mutex;
  std::unordered_map<int, std::shared_ptr<std::string>> m_objects;
};

/// Per-hit time from batches of 1,000 calls: timing each call alone would
/// add the clock's own ~20 ns to a ~50 ns operation.
template <class Hit>
Samples time_batched_hits(int batches, Hit&& hit) {
  constexpr int k_batch = 1000;
  Samples samples;
  for (int b = 0; b < batches; ++b) {
    const auto start = Clock::now();
    for (int i = 0; i < k_batch; ++i) hit(i & 7);
    samples.ns.push_back(ns_since(start) / k_batch);
  }
  return samples;
}

template <class Hit>
void report_singleton(const char* system, int batches, int hits, Hit&& hit) {
  Result r("S1", system);
  Samples one = time_batched_hits(batches, hit);
  r.add("median_ns", one.median()).add("p99_ns", one.p99());
  const double single = hits_per_second(1, 1, hits, hit);
  const double two = hits_per_second(2, 1, hits, hit);  // keys = 1: both threads on the same object
  r.add("hits_per_s_1", single).add("hits_per_s_2", two).add("scaling", two / single).print();
}

void s1(int batches, int hits) {
  auto connect = memostore::singleton("S1", [](int key) { return small_value(key); });
  report_singleton("memostore", batches, hits, [&](int k) { return connect(k)->size(); });
  MutexMap map;
  report_singleton("mutex_map", batches, hits, [&](int k) { return map.get(k)->size(); });
  SharedMutexMap shared_map;
  report_singleton("shared_mutex_map", batches, hits, [&](int k) { return shared_map.get(k)->size(); });
  report_singleton("static_local", batches, hits, [](int) {
    static const auto object = std::make_shared<std::string>(small_value(0));
    return std::shared_ptr<std::string>(object)->size();
  });
}

// --- W4 cold start: a new process opens a store of 100,000 entries, one hit ---

/// Wall time of a whole child process. posix_spawn, not fork: copying this
/// process's page tables would be timed as part of the child's start.
double run_ms(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + argv[0]);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("cold start run failed: " + argv[1]);
  return ns_since(start) / 1e6;
}

void w4(const Config& c, int entries, int runs) {
  const fs::path dir = c.scratch / "W4";
  {
    auto store = memostore::Store::open(dir / "memostore");
    auto f = memostore::memo(store, "W1", &small_value);
    for (int k = 0; k < entries; ++k) f(k);
  }
  {
    RawRocksDb db(dir / "rocksdb");
    for (int k = 0; k < entries; ++k) db.put(raw_key("W1", k), cereal_encode(small_value(k)));
  }
  {
    SqliteStore db(dir / "sqlite.db");
    for (int k = 0; k < entries; ++k) db.put(raw_key("W1", k), cereal_encode(small_value(k)));
  }
  struct System {
    std::string name;
    std::string program;
    std::string system;  // cold-start's argument
    fs::path path;
  };
  std::vector<System> systems = {{"memostore", c.cold_start, "memostore", dir / "memostore"},
                                 {"rocksdb_raw", c.cold_start, "rocksdb_raw", dir / "rocksdb"},
                                 {"sqlite_wal", c.cold_start, "sqlite_wal", dir / "sqlite.db"}};
  // cold-start-static, built next to cold-start: the same program with RocksDB linked statically.
  if (const std::string linked_statically = c.cold_start + "-static"; fs::exists(linked_statically)) {
    systems.insert(systems.begin() + 1, {"memostore_static", linked_statically, "memostore", dir / "memostore"});
  }
  for (const System& s : systems) {
    Samples samples;
    run_ms({s.program, s.system, s.path.string(), "777"});  // warm the page cache
    for (int i = 0; i < runs; ++i) {
      samples.ns.push_back(run_ms({s.program, s.system, s.path.string(), std::to_string(i * 7919 % entries)}));
    }
    Result("W4", s.name).add("median_ms", samples.median()).add("p99_ms", samples.p99()).print();
  }
  fs::remove_all(dir);
}

// --- M: peak RSS while doing random hits on a large store ---

int memory_child(const fs::path& dir, int entries, int hits) {
  auto store = memostore::Store::open(dir);
  auto f = memostore::memo(store, "M", &kilobyte_value);
  Random random{5};
  for (int i = 0; i < hits; ++i) sink += static_cast<int>(f(random.below(entries)).size());
  std::printf("%llu\n", static_cast<unsigned long long>(peak_rss_bytes()));
  return 0;
}

void memory(const Config& c, const std::string& self, int entries, int hits) {
  const fs::path dir = c.scratch / "M";
  {
    auto store = memostore::Store::open(dir);
    auto f = memostore::memo(store, "M", &kilobyte_value);
    for (int k = 0; k < entries; ++k) f(k);
  }
  const std::string command = self + " --memory-child " + dir.string() + " " + std::to_string(entries) + " " + std::to_string(hits);
  FILE* child = popen(command.c_str(), "r");
  unsigned long long rss = 0;
  if (child == nullptr || std::fscanf(child, "%llu", &rss) != 1) throw std::runtime_error("memory child failed");
  pclose(child);
  std::uint64_t disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) disk += e.is_regular_file() ? e.file_size() : 0;
  Result("M", "memostore").add("entries", entries).add("hits", hits).add("store_mb", static_cast<double>(disk) / 1e6)
      .add("peak_rss_mb", static_cast<double>(rss) / 1e6).print();
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  memostore::set_log_handler(&memostore::log_to_stderr);
  if (argc == 5 && std::strcmp(argv[1], "--memory-child") == 0) {
    return memory_child(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
  }
  if (argc == 6 && std::strcmp(argv[1], "--large-store-child") == 0) {
    return large_store_child(argv[2], argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
  }
  if (argc == 6 && std::strcmp(argv[1], "--remote-child") == 0) {
    return remote_child(argv[2], argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
  }
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") c.quick = true;
    else if (arg == "--dir" && i + 1 < argc) c.scratch = argv[++i];
    else if (arg == "--cold-start" && i + 1 < argc) c.cold_start = argv[++i];
    else if (arg == "--redis" && i + 1 < argc) c.redis = argv[++i];
    else if (arg == "--w6-entries" && i + 1 < argc) c.w6_entries = std::stoi(argv[++i]);
    else if (arg == "--only" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string w; std::getline(list, w, ',');) c.only.insert(w);
    } else {
      std::fprintf(stderr, "usage: memostore-bench --dir SCRATCH --cold-start PATH [--quick] [--only W1,W2,...] [--redis URL] [--w6-entries N]\n");
      return 2;
    }
  }
  if (c.scratch.empty() || c.cold_start.empty()) {
    std::fprintf(stderr, "memostore-bench: --dir and --cold-start are required\n");
    return 2;
  }
  const bool q = c.quick;
  if (c.wants("W1")) hit_workload<std::string>(c, "W1", q ? 1000 : 10'000, q ? 2000 : 100'000, &small_value);
  if (c.wants("W2")) hit_workload<std::vector<double>>(c, "W2", q ? 3 : 20, q ? 5 : 200, &large_value);
  if (c.wants("W3")) w3(c, q ? 1000 : 10'000);
  if (c.wants("W4")) w4(c, q ? 1000 : 100'000, q ? 3 : 30);
  if (c.wants("W5")) w5(c, q ? 1000 : 10'000, q ? 2000 : 400'000);
  if (c.wants("S1")) s1(q ? 20 : 2000, q ? 2000 : 4'000'000);
  if (c.wants("F")) fingerprint_workloads(c.scratch / "F", q);
  if (c.wants("L")) large_argument_workloads(c.scratch / "L", q);
  if (c.wants("W7")) shared_result_workloads(c.scratch / "W7", q);
  if (c.wants("R") && !c.redis.empty()) remote_workloads(c.scratch / "R", c.redis, argv[0], q);
  // W6 only when asked or in a full run: it writes about 3 GB (three stores of 1,000,000 entries).
  if (c.wants("W6")) large_store_workload(c.scratch, argv[0], q ? 2000 : c.w6_entries, q ? 2000 : c.w6_entries, q ? 1 : 3);
  if (c.wants("M")) memory(c, argv[0], q ? 2000 : 1'000'000, q ? 2000 : 1'000'000);
  return sink == 42 ? 1 : 0;
}
