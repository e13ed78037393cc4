// Fallback directories (StoreOptions::fallback): other stores, read as tiers
// below this directory and above the remote tier. Each is opened read-only
// (no lock, nothing written, not even RocksDB's LOG), so it may be held by
// another process, sit on a read-only file system or come from another
// memostore version whose format this one reads. The lookup is in
// Tiers::find_lower.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/database.hpp"

namespace memostore::detail {

/// Opens each of `dirs` that can be: one that cannot (missing, not a store,
/// refused as unsafe, this store's own `store_dir`) costs one warning naming
/// it and why, and is left out; a missing one is never created.
/// `allowed`: the permissions a safe directory may grant (StoreOptions::directory_permissions).
std::vector<std::unique_ptr<Database>> open_fallbacks(const std::vector<std::filesystem::path>& dirs,
                                                      const std::filesystem::path& store_dir,
                                                      std::filesystem::perms allowed);

}  // namespace memostore::detail
