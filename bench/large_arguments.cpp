// L1: what a hit costs when the call's argument is 10 MB (issue 25: a 7.2 MiB
// argument made a 7.2 MiB entry whose hit took 23-29 ms), with the arguments
// stored as a digest (what memostore writes now) and stored in full (what
// store format 2 wrote; the digest threshold set out of reach), against the
// cost of hashing 10 MB with the key's XXH3-128 and the digest's SHA-256.
// L2: the same two ways for arguments of 1 to 64 KiB, to place the threshold.
#include "large_arguments.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#include "codec/arguments_digest.hpp"
#include "codec/key.hpp"
#include "harness.hpp"

namespace bench {
namespace {

namespace fs = std::filesystem;

/// A small result computed from a large argument (five statistics of a table).
std::vector<double> summarize(const std::string& table) {
  double sum = 0;
  for (std::size_t i = 0; i < table.size(); i += 4096) {
    sum += static_cast<unsigned char>(table[i]);
  }
  return {sum, sum / 2, sum / 3, sum / 4, sum / 5};
}

std::string argument_of(std::size_t size) {
  std::string text(size, '\0');
  Random random{size};
  for (char& c : text) c = static_cast<char>(random.next());
  return text;
}

template <class F>
Samples time_calls(int count, F&& call) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    call();
    samples.ns.push_back(ns_since(start));
  }
  return samples;
}

/// Hits on one entry whose argument is `argument`, stored as a digest or in
/// full (`digest`), from a store reopened after the entry was written.
void time_hits(const fs::path& dir, const char* workload, const std::string& system, const std::string& argument,
               bool digest, std::uint64_t hot_cache_bytes, int hits, bool print = true) {
  fs::remove_all(dir);
  memostore::detail::set_digest_threshold_for_testing(digest ? 1 : SIZE_MAX);
  memostore::StoreOptions options{.dir = dir};
  options.hot_cache_bytes = hot_cache_bytes;
  {
    memostore::Store store = memostore::Store::open(options);
    (void)memostore::memo(store, "summarize", summarize)(argument);
  }
  memostore::Store store = memostore::Store::open(options);
  auto summarized = memostore::memo(store, "summarize", summarize);
  std::uint64_t entry_bytes = 0;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    entry_bytes = entry.size;
    return false;
  });
  const std::uint64_t misses = store.stats().total.misses;  // the first session's one
  Samples samples = time_calls(hits, [&] { bench_sink += static_cast<int>(summarized(argument)[0]); });
  const double first_ns = samples.ns.front();  // this process's first hit: what a pipeline step pays once per run
  memostore::detail::set_digest_threshold_for_testing(0);
  if (store.stats().total.misses != misses) {
    std::fprintf(stderr, "%s %s: a hit was a miss\n", workload, system.c_str());
  }
  if (!print) {
    return;
  }
  Result(workload, system)
      .add("first_ns", first_ns)
      .add("median_ns", samples.median())
      .add("p99_ns", samples.p99())
      .add("entry_bytes", static_cast<double>(entry_bytes))
      .add("argument_bytes", static_cast<double>(argument.size()))
      .print();
}

void l1(const fs::path& scratch, bool quick) {
  const std::string argument = argument_of(10'000'000);
  const int runs = quick ? 3 : 31;
  Samples xxh3 = time_calls(runs, [&] {
    bench_sink += static_cast<int>(memostore::detail::hash_arguments(memostore::detail::Hash128{1, 2}, argument).low);
  });
  Result("L1 hash 10 MB", "XXH3-128 (key)").add("median_ns", xxh3.median()).add("gb_per_s", 1e7 / xxh3.median()).print();
  Samples sha = time_calls(runs, [&] { bench_sink += static_cast<int>(memostore::detail::digest_arguments(argument)->back()); });
  Result("L1 hash 10 MB", "SHA-256 (digest)").add("median_ns", sha.median()).add("gb_per_s", 1e7 / sha.median()).print();
  const std::uint64_t hot = memostore::StoreOptions{}.hot_cache_bytes;
  // The process's first run pays one-time costs (RocksDB's threads, the allocator's first 10 MB blocks):
  // one unreported run, so that no system's first hit carries them (they made it 5-10x slower).
  time_hits(scratch / "warm-up", "L1 warm-up", "", argument, false, hot, 3, false);
  time_hits(scratch / "digest", "L1 hit, 10 MB argument", "memostore digest", argument, true, hot, runs);
  time_hits(scratch / "stored", "L1 hit, 10 MB argument", "memostore stored (format 2)", argument, false, hot, runs);
  time_hits(scratch / "digest-cold", "L1 hit, 10 MB argument", "memostore digest, no hot tier", argument, true, 0, runs);
  time_hits(scratch / "stored-cold", "L1 hit, 10 MB argument", "memostore stored (format 2), no hot tier", argument,
            false, 0, runs);
}

void l2(const fs::path& scratch, bool quick) {
  for (const std::size_t size : {1024, 4096, 16384, 65536}) {
    const std::string argument = argument_of(size);
    const std::string workload = "L2 hit, " + std::to_string(size / 1024) + " KiB argument";
    const int hits = quick ? 100 : 20'000;
    time_hits(scratch / "l2", workload.c_str(), "memostore digest", argument, true, memostore::StoreOptions{}.hot_cache_bytes, hits);
    time_hits(scratch / "l2", workload.c_str(), "memostore stored", argument, false, memostore::StoreOptions{}.hot_cache_bytes, hits);
  }
}

}  // namespace

void large_argument_workloads(const fs::path& scratch, bool quick) {
  l1(scratch, quick);
  l2(scratch, quick);
}

}  // namespace bench
