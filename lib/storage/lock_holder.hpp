// Which process holds a cache directory: RocksDB takes a POSIX record lock
// on the directory's LOCK file for as long as a process has it open for
// writing, and the kernel tells anyone who asks which process that is.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace memostore::detail {

struct LockHolder {
  long pid = 0;
  std::string command;  // the process's name, if it can be read; else empty
};

/// The process holding `dir`'s LOCK file, if another process holds it.
/// A lock held by the calling process is not reported (POSIX locks never
/// conflict with their own process).
std::optional<LockHolder> lock_holder(const std::filesystem::path& dir);

}  // namespace memostore::detail
