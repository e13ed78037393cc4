// L1/L2: the cost of large arguments (see large_arguments.cpp).
#pragma once

#include <filesystem>

namespace bench {

/// Runs L1 (a hit with a 10 MB argument, and hashing 10 MB) and L2 (hits
/// around the digest threshold) in `scratch`, printing one JSON line per system.
void large_argument_workloads(const std::filesystem::path& scratch, bool quick);

}  // namespace bench
