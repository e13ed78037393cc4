// W7: shared results and lineage keys (see shared_results.cpp).
#pragma once

#include <filesystem>

namespace bench {

/// Runs W7 in `scratch`: repeated and first hits on a 10 MB result, shared
/// and copied, against raw RocksDB's pinned read and one decode; and the key
/// cost of a call whose argument is a Shared of 1 KB to 100 MB (10 MB with
/// `quick`). One JSON line per (workload, system).
void shared_result_workloads(const std::filesystem::path& scratch, bool quick);

}  // namespace bench
