// Opening, creating and removing files inside a cache directory without ever
// following a symbolic link memostore did not make: everything is opened
// with O_NOFOLLOW, relative to a descriptor of the folder it is in, and
// removed by the exact name memostore gave it. A link planted under such a
// name (a restored CI artifact, another user) makes the operation fail with a
// message naming it; nothing is written or removed through it. No RocksDB:
// usable by every layer. Thread-safe (no state).
#pragma once

#include <filesystem>
#include <string_view>

#include "util/result.hpp"

namespace memostore::detail {

/// An open file descriptor, closed at scope exit.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : m_fd(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : m_fd(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();

  int get() const noexcept { return m_fd; }
  int release() noexcept {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }

 private:
  int m_fd = -1;
};

enum class Create { yes, no };

/// Opens the folder `name` of the cache directory `dir` (secondaries,
/// handover, inflight) without following a link at `name`. With
/// Create::yes, a missing folder is made with the permission bits of `dir`
/// itself (whatever the umask), so it is no more open than the store.
Result<FileDescriptor> open_store_folder(const std::filesystem::path& dir, std::string_view name, Create create);

/// Opens `name` in the folder `folder` (shown as `shown` in messages) with
/// `flags` plus O_NOFOLLOW and O_CLOEXEC. A link there fails with a message
/// saying memostore does not write through it and to remove it.
Result<FileDescriptor> open_in(int folder, std::string_view name, int flags, unsigned mode,
                               const std::filesystem::path& shown);

/// Removes the folder `name` in `folder` and everything in it, never
/// following a link: a link inside is removed itself (its target is left
/// alone), and `name` itself must be a real folder. `shown` names it in messages.
Result<void> remove_tree_in(int folder, std::string_view name, const std::filesystem::path& shown);

/// remove_tree_in() for the folder at `path`, relative to its parent.
Result<void> remove_tree(const std::filesystem::path& path);

/// The message for a link found where memostore reads or writes `path`.
Failure link_refused(const std::filesystem::path& path);

}  // namespace memostore::detail
