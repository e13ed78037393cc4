#include "inputs/tree.hpp"

#include <algorithm>

#include <fnmatch.h>

#include <fmt/std.h>

namespace memostore::detail {

namespace fs = std::filesystem;

bool matches(std::string_view relative, const std::string& pattern) {
  if (pattern.empty()) {
    return true;
  }
  const std::string subject(pattern.find('/') == std::string::npos ? relative.substr(relative.rfind('/') + 1)
                                                                   : relative);
  return ::fnmatch(pattern.c_str(), subject.c_str(), FNM_PATHNAME) == 0;
}

Result<std::vector<TreeFile>> list_tree(const fs::path& root, std::string_view pattern) {
  const std::string filter(pattern);
  std::vector<TreeFile> files;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, error);
  const fs::recursive_directory_iterator end;
  for (; !error && it != end; it.increment(error)) {
    std::error_code kind_error;
    if (!it->is_regular_file(kind_error)) {
      continue;  // directories are walked into; other kinds (and dangling links) have no content
    }
    std::string relative = it->path().lexically_relative(root).generic_string();
    if (matches(relative, filter)) {
      files.push_back(TreeFile{std::move(relative), it->path()});
    }
  }
  if (error) {
    const fs::path where = it != end ? it->path() : root;
    return Failure{ErrorCode::io, fmt::format("cannot list input directory {}: {}", where, error.message())};
  }
  std::sort(files.begin(), files.end(), [](const TreeFile& a, const TreeFile& b) { return a.relative < b.relative; });
  return files;
}

}  // namespace memostore::detail
