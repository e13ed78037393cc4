// F1/F2: the cost of File and Dir inputs (see fingerprints.cpp).
#pragma once

#include <filesystem>

namespace bench {

/// Runs F1 (one large file) and F2 (a directory of many small files) in
/// `scratch`, printing one JSON line per system.
void fingerprint_workloads(const std::filesystem::path& scratch, bool quick);

}  // namespace bench
