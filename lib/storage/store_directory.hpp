// Whether a cache directory is safe to use: the rule of ssh's StrictModes,
// applied to the directory and to the folders memostore keeps in it. Others
// who can write there could plant entries, or links under the names
// memostore and RocksDB write, and make this process write or delete through
// them. No RocksDB. Thread-safe (no state).
#pragma once

#include <filesystem>

#include "util/result.hpp"

namespace memostore::detail {

/// The folders memostore keeps inside a cache directory.
inline constexpr const char* k_store_folders[] = {"secondaries", "handover", "inflight"};

/// Refuses `dir` (naming it, its owner or mode, and what to do) when it is a
/// symbolic link; is owned by another user than this process's (root is
/// trusted, as is a member of the directory's group when `allowed` grants
/// the group write access); or is writable by group or others beyond what
/// `allowed` (StoreOptions::directory_permissions) grants. The same for its
/// folders (k_store_folders), and it refuses a directory holding any
/// symbolic link: RocksDB writes files under predictable names and would
/// follow one. A directory that does not exist passes (the caller creates
/// it). Parents of `dir` are not checked (see docs/design.md).
Result<void> check_store_directory(const std::filesystem::path& dir, std::filesystem::perms allowed);

}  // namespace memostore::detail
