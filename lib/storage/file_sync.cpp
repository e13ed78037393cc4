#include "storage/file_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace memostore::detail {

int fsync_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // a directory opens read-only too
  if (fd < 0) {
    return errno;
  }
  const int error = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

}  // namespace memostore::detail
