// Listing a Dir input: the regular files under a directory that match its
// pattern, in a stable order (the order its fingerprint hashes them in).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace memostore::detail {

struct TreeFile {
  std::string relative;  // generic form ('/' separators), e.g. "2024/prices.csv"
  std::filesystem::path path;
};

/// The regular files (and symbolic links to them) under `root` at any depth
/// whose relative path matches `pattern` (see memostore::Dir), sorted by
/// `relative` bytewise. Symbolic links to directories are not followed. An
/// io failure names the directory that cannot be listed.
Result<std::vector<TreeFile>> list_tree(const std::filesystem::path& root, std::string_view pattern);

/// Whether `relative` matches `pattern`: fnmatch(3) on the file name for a
/// pattern without '/', on the whole relative path (FNM_PATHNAME) with one.
bool matches(std::string_view relative, const std::string& pattern);

}  // namespace memostore::detail
