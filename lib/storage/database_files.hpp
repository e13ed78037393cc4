// Checks of the store directory and its files, before and after RocksDB has
// it open: whether a directory may become or hold a store, and how much the
// write-ahead logs hold (which decides whether a close flushes and whether an
// open replays without a flush). Internal to lib/storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "storage/database_options.hpp"
#include "util/result.hpp"

namespace memostore::detail {

/// Refuses directories that memostore must not write into or cannot read
/// (see check_store_directory), and a directory that holds something else.
/// Creates `dir` with `permissions` for a read-write open when it is missing.
Result<void> prepare_directory(const std::filesystem::path& dir, Access access, std::filesystem::perms permissions);

struct WriteAheadLogs {
  std::vector<std::filesystem::path> files;
  std::uintmax_t bytes = 0;
};

WriteAheadLogs write_ahead_logs(const std::filesystem::path& dir);

/// More than a close leaves unflushed for the next open to replay.
bool too_much_to_replay(const WriteAheadLogs& logs);

/// fsyncs every write-ahead log in `dir` by its path (see database_files.cpp).
Result<void> sync_logs(const std::filesystem::path& dir);

/// Whether a primary may open `dir` for reading only: nothing waits to be
/// applied but a few bookkeeping units (`units` of them, or fewer), and no
/// more logs than a close leaves (too many would need a flush).
bool reading_is_enough(const std::filesystem::path& dir, std::size_t& units);

}  // namespace memostore::detail
