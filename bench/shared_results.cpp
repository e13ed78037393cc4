// W7 (issue 29): what Memo::shared saves.
//  * "W7 repeat": hits on one 10 MB result (1,250,000 doubles) in one process:
//    Memo::shared (the object the hot tier keeps), the copying operator()
//    (a decode per hit), and raw RocksDB's pinned read plus a decode.
//  * "W7 first": the first hit of each of several 10 MB results after the
//    store was reopened: Memo::shared against raw RocksDB's pinned read plus
//    one decode (the floor: memostore also checks the entry's checksum).
//  * "W7 chained N": a hit on a call whose argument is a Shared of an N-byte
//    result, keyed by its 16-byte digest, against a hit keyed by an int (the
//    difference is the key's cost) and a hit keyed by the value itself.
#include "shared_results.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "baselines.hpp"
#include "harness.hpp"

namespace bench {
namespace {

namespace fs = std::filesystem;

template <class F>
Samples time_calls(int count, F&& call) {
  Samples samples;
  samples.ns.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    call();
    samples.ns.push_back(ns_since(start));
  }
  return samples;
}

void report(const std::string& workload, const char* system, Samples samples) {
  Result(workload, system).add("median_ns", samples.median()).add("p99_ns", samples.p99()).print();
}

std::vector<double> numbers(std::int64_t count) {
  std::vector<double> values(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) * 0.25;
  return values;
}

double total(const std::vector<double>& values) {
  double sum = 0;
  for (std::size_t i = 0; i < values.size(); i += 4096) sum += values[i];
  return sum;
}

void repeated_hits(const fs::path& dir, bool quick) {
  const int hits = quick ? 20 : 200;
  memostore::Store store = memostore::Store::open(dir / "memostore");
  auto result = memostore::memo(store, "W7", &large_value);
  (void)result(0);  // computed
  (void)result.shared(0);  // read once: kept, decoded, with the entry
  report("W7 repeat", "memostore_shared",
         time_calls(hits * 100, [&] { bench_sink += static_cast<int>(result.shared(0)->size()); }));
  report("W7 repeat", "memostore_copy", time_calls(hits, [&] { bench_sink += static_cast<int>(result(0).size()); }));
  RawRocksDb db(dir / "rocksdb");
  db.put(raw_key("W7", 0), cereal_encode(large_value(0)));
  report("W7 repeat", "rocksdb_raw", time_calls(hits, [&] {
           db.get(raw_key("W7", 0), [](const char* data, std::size_t size) {
             bench_sink += static_cast<int>(cereal_decode<std::vector<double>>(data, size).size());
           });
         }));
}

void first_hits(const fs::path& dir, bool quick) {
  // Each system's store is written, then read through once in a process of
  // its own (warming the OS's page cache, as a pipeline's earlier runs
  // have), then opened again: the first hit of each key is timed.
  const int keys = quick ? 2 : 8;
  const fs::path memostore_dir = dir / "memostore-first";
  const fs::path rocksdb_dir = dir / "rocksdb-first";
  {
    memostore::Store store = memostore::Store::open(memostore_dir);
    auto result = memostore::memo(store, "W7", &large_value);
    for (int k = 0; k < keys; ++k) (void)result(k);
  }
  const fs::path fast_dir = dir / "rocksdb-first-memostore-encoding";
  {
    RawRocksDb db(rocksdb_dir);
    RawRocksDb fast(fast_dir);
    for (int k = 0; k < keys; ++k) {
      db.put(raw_key("W7", k), cereal_encode(large_value(k)));
      std::string encoded;
      memostore::detail::encode_value(large_value(k), encoded);
      fast.put(raw_key("W7", k), encoded);
    }
  }
  for (const char* system : {"warm-up", "memostore_copy", "memostore_shared"}) {
    memostore::Store store = memostore::Store::open(memostore_dir);
    auto result = memostore::memo(store, "W7", &large_value);
    int k = 0;
    Samples samples = time_calls(keys, [&] {
      bench_sink += static_cast<int>(std::string_view(system) == "memostore_copy" ? result(k++).size()
                                                                                 : result.shared(k++)->size());
    });
    if (std::string_view(system) != "warm-up") report("W7 first", system, samples);
  }
  // The floor three ways: raw RocksDB with cereal's own portable archive
  // (the baseline of every workload here); with memostore's archive, which
  // decodes a vector of numbers in one copy (the fastest decode there is);
  // and the same keeping each decoded result, as a caller that uses what it
  // read does, and as Memo::shared does (the others free each result before
  // the next read, whose memory then costs no page faults).
  for (const std::string_view system : {"warm-up", "rocksdb_raw", "warm-up", "rocksdb_raw_memostore_decoder", "warm-up",
                                        "rocksdb_raw_memostore_decoder_kept"}) {
    const bool fast = system.starts_with("rocksdb_raw_memostore_decoder");
    const bool kept = system.ends_with("_kept");
    RawRocksDb db(fast ? fast_dir : rocksdb_dir);
    std::vector<std::vector<double>> results;
    int k = 0;
    Samples samples = time_calls(keys, [&] {
      db.get(raw_key("W7", k++), [&](const char* data, std::size_t size) {
        std::vector<double> decoded = fast ? memostore::detail::decode_value<std::vector<double>>(std::string_view(data, size))
                                           : cereal_decode<std::vector<double>>(data, size);
        bench_sink += static_cast<int>(decoded.size());
        if (kept) results.push_back(std::move(decoded));
      });
    });
    if (system != "warm-up") report("W7 first", std::string(system).c_str(), samples);
  }
}

void chained_hits(const fs::path& dir, bool quick) {
  const int hits = quick ? 2000 : 100'000;
  memostore::Store store = memostore::Store::open(dir / "memostore-chained");
  auto upstream = memostore::memo(store, "W7 upstream", &numbers);
  auto by_digest = memostore::memo(store, "W7 by digest",
                                   [](const memostore::Shared<std::vector<double>>& values) { return total(*values); });
  auto by_value = memostore::memo(store, "W7 by value", &total);
  auto by_int = memostore::memo(store, "W7 by int", [](std::int64_t count) { return static_cast<double>(count); });
  for (const std::int64_t bytes : {std::int64_t{1} << 10, std::int64_t{1} << 20,
                                   quick ? std::int64_t{10} << 20 : std::int64_t{100} << 20}) {
    const std::string workload = "W7 chained " + std::to_string(bytes >> 10) + " KiB";
    const memostore::Shared<std::vector<double>> values = upstream.shared(bytes / 8);
    (void)by_digest(values);
    (void)by_value(*values);
    (void)by_int(bytes);
    report(workload, "memostore_by_digest",
           time_calls(hits, [&] { bench_sink += static_cast<int>(by_digest(values)); }));
    report(workload, "memostore_by_int", time_calls(hits, [&] { bench_sink += static_cast<int>(by_int(bytes)); }));
    const int value_hits = bytes > (std::int64_t{1} << 20) ? 5 : hits / 100;
    report(workload, "memostore_by_value",
           time_calls(value_hits, [&] { bench_sink += static_cast<int>(by_value(*values)); }));
  }
}

}  // namespace

void shared_result_workloads(const fs::path& scratch, bool quick) {
  fs::remove_all(scratch);
  repeated_hits(scratch, quick);
  first_hits(scratch, quick);
  chained_hits(scratch, quick);
  fs::remove_all(scratch);
}

}  // namespace bench
