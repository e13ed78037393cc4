#include "storage/lock_holder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace memostore::detail {
namespace {

using FileIdentity = std::pair<std::uint64_t, std::uint64_t>;  // device, inode

struct HeldHere {
  std::mutex mutex;
  std::set<FileIdentity> files;  // guarded by mutex
};

HeldHere& held_here() {
  static HeldHere instance;
  return instance;
}

std::filesystem::path lock_file(const std::filesystem::path& dir) { return dir / "LOCK"; }

/// Requires: held_here().mutex is locked.
bool is_held_here(const std::filesystem::path& dir) {
  struct stat file {};
  return ::lstat(lock_file(dir).c_str(), &file) == 0 && held_here().files.count({file.st_dev, file.st_ino}) != 0;
}

struct flock whole_file(short type) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = 0;
  range.l_len = 0;  // the whole file, as RocksDB locks it
  return range;
}

}  // namespace

std::optional<LockHolder> lock_holder(const std::filesystem::path& dir) {
  // Held until the file is closed again: a lock taken meanwhile by another
  // thread would be dropped by that close.
  std::lock_guard lock(held_here().mutex);
  if (is_held_here(dir)) {
    return std::nullopt;  // opening and closing the file would drop this process's lock
  }
  const int fd = ::open(lock_file(dir).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return std::nullopt;
  }
  struct flock probe = whole_file(F_WRLCK);
  const int asked = ::fcntl(fd, F_GETLK, &probe);
  ::close(fd);
  if (asked != 0 || probe.l_type == F_UNLCK) {
    return std::nullopt;
  }
  LockHolder holder;
  holder.pid = static_cast<long>(probe.l_pid);
  std::ifstream comm("/proc/" + std::to_string(holder.pid) + "/comm");
  std::getline(comm, holder.command);
  return holder;
}

std::unique_ptr<DirectoryLock> DirectoryLock::try_take(const std::filesystem::path& dir) {
  auto& held = held_here();
  std::lock_guard lock(held.mutex);
  if (is_held_here(dir)) {
    return nullptr;  // checked before opening: closing a descriptor of it would drop the lock
  }
  // Never through a link planted at LOCK (the store's open refuses one found
  // there; this is for one planted since): the open then fails as if locked.
  const int fd = ::open(lock_file(dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return nullptr;
  }
  struct stat file {};
  struct flock range = whole_file(F_WRLCK);
  if (::fstat(fd, &file) != 0 || ::fcntl(fd, F_SETLK, &range) != 0) {
    ::close(fd);
    return nullptr;
  }
  held.files.insert({file.st_dev, file.st_ino});
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd, file.st_dev, file.st_ino));
}

DirectoryLock::~DirectoryLock() {
  auto& held = held_here();
  std::lock_guard lock(held.mutex);
  ::close(m_fd);  // drops the lock (RocksDB's too, if it still held it: it is closed by now)
  held.files.erase({m_device, m_inode});
}

std::string describe(const std::optional<LockHolder>& holder) {
  return !holder                  ? "another process"
         : holder->command.empty() ? fmt::format("process {}", holder->pid)
                                   : fmt::format("process {} ({})", holder->pid, holder->command);
}

}  // namespace memostore::detail
