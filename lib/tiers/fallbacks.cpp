#include "tiers/fallbacks.hpp"

#include <fmt/std.h>

#include "util/log.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

namespace {

// A fallback's entries are read once each, then copied into this store:
// small caches suffice.
constexpr std::uint64_t k_fallback_block_cache_bytes = 8 << 20;
constexpr std::uint64_t k_fallback_blob_cache_bytes = 16 << 20;

/// Why `dir` cannot serve as a fallback of the store in `store_dir`, before it is opened; empty if it may.
std::string refused_before_open(const fs::path& dir, const fs::path& store_dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) {
    return "it does not exist (a fallback is never created)";
  }
  if (fs::exists(store_dir, ec) && fs::equivalent(dir, store_dir, ec)) {
    return "it is this store's own directory";
  }
  return {};
}

}  // namespace

std::vector<std::unique_ptr<Database>> open_fallbacks(const std::vector<fs::path>& dirs, const fs::path& store_dir,
                                                      fs::perms allowed) {
  std::vector<std::unique_ptr<Database>> opened;
  for (const fs::path& dir : dirs) {
    std::string why = refused_before_open(dir, store_dir);
    if (why.empty()) {
      DatabaseOptions options;
      options.access = Access::read_only;
      options.block_cache_bytes = k_fallback_block_cache_bytes;
      options.blob_cache_bytes = k_fallback_blob_cache_bytes;
      options.directory_permissions = allowed;
      if (auto database = Database::open(dir, options)) {
        opened.push_back(std::move(database).value());
        continue;
      } else {
        why = database.failure().message;
      }
    }
    // A cache never breaks the computation: the store works without it.
    warn("fallback cache {} left out: {}. The store {} works without it", dir, why, store_dir);
  }
  return opened;
}

}  // namespace memostore::detail
