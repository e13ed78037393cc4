// W6: random hits on a store larger than memory's caches (see large_store.cpp).
#pragma once

#include <filesystem>
#include <string>

namespace bench {

/// Writes `entries` 1,000-byte entries into a memostore store and two raw
/// RocksDB stores, then times, `rounds` times per system, a child process
/// (`self --large-store-child`) that opens, does `hits` random hits and
/// closes; prints one JSON line per (system, round).
void large_store_workload(const std::filesystem::path& scratch, const std::string& self, int entries, int hits,
                          int rounds);

/// The child: prints "open_ns hits_ns close_ns peak_rss_bytes".
int large_store_child(const std::string& system, const std::filesystem::path& dir, int entries, int hits);

}  // namespace bench
