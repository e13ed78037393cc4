// W6: random hits on a store larger than memory's caches, each system in a
// process of its own, timed from open to close (the cost a pipeline step
// pays), with its peak memory.
//
// Three stores of the same entries (1,000-byte incompressible values):
// memostore with its defaults, raw RocksDB with memostore's RocksDB options
// (the same block and blob caches), and raw RocksDB with RocksDB's defaults.
// The parent writes them, then starts one child per (system, round) that
// opens, does the hits and closes; the child reports its own times.
#include "large_store.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "baselines.hpp"
#include "harness.hpp"

namespace fs = std::filesystem;

namespace bench {
namespace {

const char* const k_systems[] = {"memostore", "rocksdb_raw", "rocksdb_default"};

/// RocksDB as its documentation's first example opens it: default options.
class DefaultRocksDb {
 public:
  explicit DefaultRocksDb(const fs::path& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    const auto status = rocksdb::DB::Open(options, dir.string(), &db);
    if (!status.ok()) throw std::runtime_error("RocksDB open: " + status.ToString());
    m_db.reset(db);
  }
  ~DefaultRocksDb() { m_db->Close().PermitUncheckedError(); }

  void put(const std::string& key, const std::string& value) {
    const auto status = m_db->Put(rocksdb::WriteOptions(), key, value);
    if (!status.ok()) throw std::runtime_error("RocksDB put: " + status.ToString());
  }
  std::size_t get(const std::string& key) {
    rocksdb::PinnableSlice value;
    const auto status = m_db->Get(rocksdb::ReadOptions(), m_db->DefaultColumnFamily(), key, &value);
    if (!status.ok()) throw std::runtime_error("RocksDB get: " + status.ToString());
    return cereal_decode<std::string>(value.data(), value.size()).size();
  }

 private:
  std::unique_ptr<rocksdb::DB> m_db;
};

void fill(const fs::path& dir, int entries) {
  {
    auto store = memostore::Store::open(dir / "memostore");
    auto f = memostore::memo(store, "W6", &kilobyte_value);
    for (int k = 0; k < entries; ++k) f(k);
  }
  {
    RawRocksDb db(dir / "rocksdb_raw");
    for (int k = 0; k < entries; ++k) db.put(raw_key("W6", k), cereal_encode(kilobyte_value(k)));
  }
  DefaultRocksDb db(dir / "rocksdb_default");
  for (int k = 0; k < entries; ++k) db.put(raw_key("W6", k), cereal_encode(kilobyte_value(k)));
}

/// Opens `system`'s store, does `hits` random hits and closes it; returns
/// {open, hits, close} in nanoseconds.
struct Phases {
  double open = 0, hits = 0, close = 0;
};

template <class Open, class Hit>
Phases run_phases(int entries, int hits, Open&& open, Hit&& hit) {
  Random random{6};
  Phases phases;
  auto start = Clock::now();
  auto handle = open();
  phases.open = ns_since(start);
  start = Clock::now();
  for (int i = 0; i < hits; ++i) bench_sink += static_cast<int>(hit(*handle, random.below(entries)));
  phases.hits = ns_since(start);
  start = Clock::now();
  handle.reset();
  phases.close = ns_since(start);
  return phases;
}

Phases child_phases(const std::string& system, const fs::path& dir, int entries, int hits) {
  if (system == "memostore") {
    struct Handle {
      memostore::Store store;
      memostore::Memo<std::string (*)(int)> f;
    };
    return run_phases(entries, hits, [&] {
      auto store = memostore::Store::open(dir / system);
      auto f = memostore::memo(store, "W6", &kilobyte_value);
      return std::make_unique<Handle>(Handle{std::move(store), std::move(f)});
    }, [](Handle& h, int k) { return h.f(k).size(); });
  }
  if (system == "rocksdb_raw") {
    return run_phases(entries, hits, [&] { return std::make_unique<RawRocksDb>(dir / system); },
                      [](RawRocksDb& db, int k) {
                        std::size_t size = 0;
                        db.get(raw_key("W6", k), [&](const char* data, std::size_t n) {
                          size = cereal_decode<std::string>(data, n).size();
                        });
                        return size;
                      });
  }
  return run_phases(entries, hits, [&] { return std::make_unique<DefaultRocksDb>(dir / system); },
                    [](DefaultRocksDb& db, int k) { return db.get(raw_key("W6", k)); });
}

}  // namespace

int large_store_child(const std::string& system, const fs::path& dir, int entries, int hits) {
  const Phases p = child_phases(system, dir, entries, hits);
  std::printf("%.0f %.0f %.0f %llu\n", p.open, p.hits, p.close, static_cast<unsigned long long>(peak_rss_bytes()));
  return 0;
}

void large_store_workload(const fs::path& scratch, const std::string& self, int entries, int hits, int rounds) {
  const fs::path dir = scratch / "W6";
  fs::remove_all(dir);
  fill(dir, entries);
  for (int round = 0; round < rounds; ++round) {
    for (const char* system : k_systems) {  // interleaved, so a noisy moment hits every system alike
      const std::string command = self + " --large-store-child " + system + " " + (dir).string() + " " +
                                  std::to_string(entries) + " " + std::to_string(hits);
      FILE* child = popen(command.c_str(), "r");
      double open = 0, hit = 0, close = 0;
      unsigned long long rss = 0;
      if (child == nullptr || std::fscanf(child, "%lf %lf %lf %llu", &open, &hit, &close, &rss) != 4) {
        throw std::runtime_error(std::string("W6 child failed: ") + system);
      }
      pclose(child);
      Result("W6", system)
          .add("round", round)
          .add("entries", entries)
          .add("hits", hits)
          .add("open_ms", open / 1e6)
          .add("hits_ms", hit / 1e6)
          .add("close_ms", close / 1e6)
          .add("total_ms", (open + hit + close) / 1e6)
          .add("per_hit_ns", (open + hit + close) / hits)
          .add("peak_rss_mb", static_cast<double>(rss) / 1e6)
          .print();
    }
  }
  // Kept for a profiler when asked: `--large-store-child SYSTEM DIR N N` runs one system again.
  if (std::getenv("MEMOSTORE_BENCH_KEEP") == nullptr) fs::remove_all(dir);
}

}  // namespace bench
