#include "storage/store_directory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

std::string user_name(uid_t uid) {
  const passwd* entry = ::getpwuid(uid);  // only on the way to an error
  return entry != nullptr ? fmt::format("{} (uid {})", entry->pw_name, uid) : fmt::format("uid {}", uid);
}

bool in_group(gid_t group) {
  if (group == ::getegid()) {
    return true;
  }
  const int count = ::getgroups(0, nullptr);
  std::vector<gid_t> groups(static_cast<std::size_t>(count > 0 ? count : 0));
  const int got = ::getgroups(count, groups.data());
  for (int i = 0; i < got; ++i) {
    if (groups[static_cast<std::size_t>(i)] == group) {
      return true;
    }
  }
  return false;
}

bool grants(fs::perms allowed, fs::perms bit) { return (allowed & bit) != fs::perms::none; }

/// The StrictModes rule for one directory: owner and write bits.
Result<void> check_owner_and_mode(const fs::path& path, const struct stat& status, fs::perms allowed) {
  const uid_t me = ::geteuid();
  const bool group_shared = grants(allowed, fs::perms::group_write) && in_group(status.st_gid);
  if (status.st_uid != me && status.st_uid != 0 && !group_shared) {
    return Failure{ErrorCode::io, fmt::format("cache directory {} is owned by {}, not by this process's user {} "
                                              "or root: its owner could plant entries, or links that make "
                                              "memostore write or delete elsewhere. Use a directory of your own "
                                              "(StoreOptions::dir or MEMOSTORE_DIR); for a store a group shares, "
                                              "grant the group write access in "
                                              "StoreOptions::directory_permissions",
                                              path, user_name(status.st_uid), user_name(me))};
  }
  const bool group_writes = (status.st_mode & S_IWGRP) != 0 && !grants(allowed, fs::perms::group_write);
  const bool others_write = (status.st_mode & S_IWOTH) != 0 && !grants(allowed, fs::perms::others_write);
  if (group_writes || others_write) {
    return Failure{ErrorCode::io, fmt::format("cache directory {} is writable by {} (mode {:04o}): they could "
                                              "plant entries, or links that make memostore write or delete "
                                              "elsewhere. Run `chmod go-w {}`, or grant that access in "
                                              "StoreOptions::directory_permissions if the store is meant to be "
                                              "shared",
                                              path, others_write ? "others" : "its group", status.st_mode & 07777,
                                              path.string())};
  }
  return {};
}

Failure link_in_store(const fs::path& path) {
  return Failure{ErrorCode::io, fmt::format("cache directory holds a symbolic link, {}: memostore and RocksDB "
                                            "write files under predictable names there and never make links, "
                                            "so this one was planted or restored from elsewhere. Remove it (or "
                                            "delete the directory: it is only a cache)",
                                            path)};
}

/// Refuses links among `dir`'s entries and checks memostore's own folders.
Result<void> check_entries(const fs::path& dir, fs::perms allowed) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Failure{ErrorCode::io, fmt::format("cannot read cache directory {}: {}", dir, std::strerror(errno))};
  }
  DIR* listing = ::fdopendir(fd);
  if (listing == nullptr) {
    ::close(fd);
    return Failure{ErrorCode::io, fmt::format("cannot read cache directory {}: {}", dir, std::strerror(errno))};
  }
  Result<void> result;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    bool folder = false;
    for (const char* ours : k_store_folders) {
      folder |= name == ours;
    }
    if (entry->d_type != DT_LNK && entry->d_type != DT_UNKNOWN && !folder) {
      continue;  // a file (RocksDB's): no system call
    }
    struct stat status {};
    if (::fstatat(fd, entry->d_name, &status, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // removed meanwhile
    }
    if (S_ISLNK(status.st_mode)) {
      result = link_in_store(dir / name);
      break;
    }
    if (folder && S_ISDIR(status.st_mode)) {
      if (auto checked = check_owner_and_mode(dir / name, status, allowed); !checked) {
        result = checked;
        break;
      }
    }
  }
  ::closedir(listing);  // closes fd
  return result;
}

}  // namespace

Result<void> check_store_directory(const fs::path& dir, fs::perms allowed) {
  struct stat status {};
  if (::lstat(dir.c_str(), &status) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return {};  // the caller creates it, or says why it cannot
    }
    return Failure{ErrorCode::io, fmt::format("cannot read cache directory {}: {}", dir, std::strerror(errno))};
  }
  if (S_ISLNK(status.st_mode)) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(dir, ec);
    return Failure{ErrorCode::io, fmt::format("cache directory {} is a symbolic link (to {}): memostore does not "
                                              "follow links for a cache directory, whose target someone else "
                                              "could change. Give the real directory (StoreOptions::dir or "
                                              "MEMOSTORE_DIR)",
                                              dir, target)};
  }
  if (!S_ISDIR(status.st_mode)) {
    return Failure{ErrorCode::io, fmt::format("cache directory {} exists but is not a directory", dir)};
  }
  if (auto checked = check_owner_and_mode(dir, status, allowed); !checked) {
    return checked;
  }
  return check_entries(dir, allowed);
}

}  // namespace memostore::detail
