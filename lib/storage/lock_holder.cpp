#include "storage/lock_holder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

namespace memostore::detail {

std::optional<LockHolder> lock_holder(const std::filesystem::path& dir) {
  const int fd = ::open((dir / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 0;  // the whole file, as RocksDB locks it
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

}  // namespace memostore::detail
