// Which process holds a cache directory: the process that has it open for
// writing holds a POSIX record lock on the directory's LOCK file (RocksDB
// takes the same lock at a read-write open), and the kernel tells anyone who
// asks which process that is.
#pragma once

#include <filesystem>
#include <memory>
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

/// "process 42 (pipeline)", or "another process" when the holder is unknown.
std::string describe(const std::optional<LockHolder>& holder);

/// This process's hold of `dir`'s LOCK file, taken before RocksDB opens the
/// directory for writing and kept until after it closes it, so a process
/// can hold the directory while it only reads (see Database). RocksDB's own
/// lock on the file in the same process never conflicts with it. A POSIX lock
/// is dropped when its process closes any descriptor of the file, so while
/// one is held, lock_holder() here answers without opening the file.
class DirectoryLock {
 public:
  /// Null when another process holds `dir`, or this one already does.
  static std::unique_ptr<DirectoryLock> try_take(const std::filesystem::path& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  DirectoryLock(int fd, std::uint64_t device, std::uint64_t inode) : m_fd(fd), m_device(device), m_inode(inode) {}
  int m_fd;
  std::uint64_t m_device;
  std::uint64_t m_inode;
};

}  // namespace memostore::detail
