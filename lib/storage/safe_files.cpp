#include "storage/safe_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

/// Folders nest this deep at most in what memostore removes (a secondary
/// instance's log folder holds files only); deeper is not ours.
constexpr int k_max_depth = 8;

Failure io_failure(std::string_view doing, const fs::path& path, int error) {
  if (error == ELOOP) {
    return link_refused(path);
  }
  return Failure{ErrorCode::io, fmt::format("cannot {} {}: {}", doing, path, std::strerror(error))};
}

Result<void> remove_tree(int folder, const std::string& name, const fs::path& shown, int depth) {
  if (depth > k_max_depth) {
    return Failure{ErrorCode::io, fmt::format("not removing {}: nested deeper than memostore makes folders", shown)};
  }
  const int fd = ::openat(folder, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return io_failure("open", shown, errno == ENOTDIR ? ELOOP : errno);  // a link or a file: not our folder
  }
  DIR* listing = ::fdopendir(fd);
  if (listing == nullptr) {
    const int error = errno;
    ::close(fd);
    return io_failure("read", shown, error);
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a real folder
  while (const dirent* entry = ::readdir(listing)) {
    const std::string child = entry->d_name;
    if (child == "." || child == "..") {
      continue;
    }
    struct stat status {};
    const bool folder_entry = ::fstatat(fd, child.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(status.st_mode);
    entries.emplace_back(child, folder_entry);
  }
  Result<void> result;
  for (const auto& [child, is_folder] : entries) {
    if (is_folder) {
      if (auto removed = remove_tree(fd, child, shown / child, depth + 1); !removed && result) {
        result = removed;
      }
    } else if (::unlinkat(fd, child.c_str(), 0) != 0 && errno != ENOENT && result) {
      result = io_failure("remove", shown / child, errno);  // a link is removed itself, never its target
    }
  }
  ::closedir(listing);  // closes fd
  if (::unlinkat(folder, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT && result) {
    result = io_failure("remove", shown, errno);
  }
  return result;
}

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Failure link_refused(const fs::path& path) {
  return Failure{ErrorCode::io, fmt::format("{} is a symbolic link, or a folder memostore expected is not one: "
                                            "memostore does not follow links in a cache directory (it never "
                                            "makes any), so it did not write through it. Remove it",
                                            path)};
}

Result<FileDescriptor> open_store_folder(const fs::path& dir, std::string_view name, Create create) {
  const fs::path path = dir / name;
  constexpr int k_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(path.c_str(), k_flags);
  if (fd < 0 && errno == ENOENT && create == Create::yes) {
    struct stat store {};
    if (::stat(dir.c_str(), &store) != 0) {
      return io_failure("read", dir, errno);
    }
    const mode_t mode = store.st_mode & 0777;
    const bool made = ::mkdir(path.c_str(), mode) == 0;
    if (!made && errno != EEXIST) {
      return io_failure("create", path, errno);
    }
    fd = ::open(path.c_str(), k_flags);
    if (fd >= 0 && made) {
      (void)::fchmod(fd, mode);  // mkdir applied the umask
    }
  }
  if (fd < 0) {
    return io_failure("open", path, errno == ENOTDIR ? ELOOP : errno);
  }
  return FileDescriptor(fd);
}

Result<FileDescriptor> open_in(int folder, std::string_view name, int flags, unsigned mode, const fs::path& shown) {
  const std::string file(name);
  const int fd = ::openat(folder, file.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    return io_failure("open", shown, errno);
  }
  return FileDescriptor(fd);
}

Result<void> remove_tree_in(int folder, std::string_view name, const fs::path& shown) {
  return remove_tree(folder, std::string(name), shown, 0);
}

Result<void> remove_tree(const fs::path& path) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return io_failure("open", parent, errno);
  }
  FileDescriptor owned(fd);
  return remove_tree(fd, path.filename().string(), path, 0);
}

}  // namespace memostore::detail
