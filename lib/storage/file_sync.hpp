// Making a file or directory durable by its path, for what memostore writes
// beside RocksDB (hand-over units) and logs RocksDB does not sync itself.
#pragma once

#include <filesystem>

namespace memostore::detail {

/// fsyncs the file or directory at `path`. Returns 0, or the errno of the
/// open or the fsync that failed.
int fsync_path(const std::filesystem::path& path);

}  // namespace memostore::detail
