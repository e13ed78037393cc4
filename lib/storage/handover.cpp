#include "storage/handover.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <fmt/std.h>
#include <xxhash.h>

#include "storage/safe_files.hpp"
#include "util/endian.hpp"

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_unit_extension = ".unit";
constexpr std::string_view k_bookkeeping_suffix = ".bookkeeping";  // before the extension
constexpr std::string_view k_temporary_prefix = ".tmp-";
constexpr std::size_t k_checksum_size = 8;

constexpr const char* k_handover_folder = "handover";
constexpr const char* k_secondaries_folder = "secondaries";

Failure io_failure(std::string_view doing, const fs::path& path, int error) {
  if (error == ELOOP) {
    return link_refused(path);
  }
  return Failure{ErrorCode::io, fmt::format("cannot {} {}: {}", doing, path, std::strerror(error))};
}

/// Writes all of `bytes` to `fd`.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

/// The names in the folder `fd` (which stays open).
std::vector<std::string> names_in(int fd) {
  std::vector<std::string> names;
  const int copy = ::dup(fd);
  DIR* listing = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (listing == nullptr) {
    if (copy >= 0) {
      ::close(copy);
    }
    return names;
  }
  while (const dirent* entry = ::readdir(listing)) {
    if (entry->d_name[0] != '.') {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(listing);
  return names;
}

/// The PID in a secondary log folder's name as make_secondary_log_dir()
/// gives it ("<pid>-<8 hex digits>"); 0 for any other name, which is not ours.
long secondary_owner(const std::string& name) {
  const std::size_t dash = name.find('-');
  if (dash == 0 || dash == std::string::npos || name.size() - dash - 1 != 8 ||
      name.find_first_not_of("0123456789") != dash ||
      name.find_first_not_of("0123456789abcdef", dash + 1) != std::string::npos) {
    return 0;
  }
  return std::strtol(name.c_str(), nullptr, 10);
}

}  // namespace

fs::path handover_dir(const fs::path& dir) { return dir / k_handover_folder; }

UnitNamer::UnitNamer() {
  std::random_device random;
  const std::uint64_t nonce = (std::uint64_t{random()} << 32) ^ random();
  m_prefix = fmt::format("{}-{:016x}-", ::getpid(), nonce);
}

std::string UnitNamer::name(std::uint64_t sequence, UnitKind kind) const {
  return fmt::format("{}{:016x}{}", m_prefix, sequence, kind == UnitKind::bookkeeping ? k_bookkeeping_suffix : "");
}

Result<fs::path> write_unit(const fs::path& dir, std::string_view name, std::string_view batch) {
  auto folder = open_store_folder(dir, k_handover_folder, Create::yes);
  if (!folder) {
    return folder.failure();
  }
  const std::string temporary = fmt::format("{}{}", k_temporary_prefix, name);
  const std::string unit_name = fmt::format("{}{}", name, k_unit_extension);
  const fs::path unit = handover_dir(dir) / unit_name;
  const bool sync = !is_bookkeeping_unit(unit);
  // A new name of this process's (PID, random number, sequence): O_EXCL
  // refuses anything already there, a planted link included.
  auto file = open_in(folder->get(), temporary, O_WRONLY | O_CREAT | O_EXCL, 0600, handover_dir(dir) / temporary);
  if (!file) {
    return file.failure();
  }
  char checksum[k_checksum_size];
  put_u64le(checksum, XXH3_64bits(batch.data(), batch.size()));
  const int fd = file->get();
  const bool written =
      write_all(fd, batch) && write_all(fd, {checksum, sizeof checksum}) && (!sync || ::fsync(fd) == 0);
  const int error = errno;
  file.value() = FileDescriptor();  // closed before the rename (assigning the Result itself trips g++ 12's -Wmaybe-uninitialized)
  if (!written || ::renameat(folder->get(), temporary.c_str(), folder->get(), unit_name.c_str()) != 0) {
    const int cause = written ? errno : error;
    ::unlinkat(folder->get(), temporary.c_str(), 0);
    return io_failure("write", unit, cause);
  }
  if (sync && ::fsync(folder->get()) != 0) {
    return io_failure("sync", handover_dir(dir), errno);
  }
  return unit;
}

std::vector<fs::path> pending_units(const fs::path& dir) {
  std::vector<fs::path> units;
  auto folder = open_store_folder(dir, k_handover_folder, Create::no);
  if (!folder) {
    return units;  // none yet; a link is refused at the store's open
  }
  DIR* listing = ::fdopendir(folder->release());
  if (listing == nullptr) {
    return units;
  }
  const fs::path shown = handover_dir(dir);
  while (const dirent* entry = ::readdir(listing)) {
    const fs::path name = entry->d_name;
    if (name.extension() == k_unit_extension && entry->d_name[0] != '.') {
      units.push_back(shown / name);
    }
  }
  ::closedir(listing);
  std::sort(units.begin(), units.end());
  return units;
}

bool is_bookkeeping_unit(const fs::path& unit) { return unit.stem().extension() == k_bookkeeping_suffix; }

Result<std::string> read_unit(const fs::path& unit) {
  auto folder = open_store_folder(unit.parent_path().parent_path(), k_handover_folder, Create::no);
  if (!folder) {
    return folder.failure();
  }
  auto file = open_in(folder->get(), unit.filename().string(), O_RDONLY, 0, unit);
  if (!file) {
    return file.failure();
  }
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(file->get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io_failure("read", unit, errno);
    }
    if (n == 0) {
      break;
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  if (bytes.size() < k_checksum_size) {
    return Failure{ErrorCode::corruption, fmt::format("hand-over unit {} is truncated", unit)};
  }
  const std::size_t body = bytes.size() - k_checksum_size;
  if (XXH3_64bits(bytes.data(), body) != get_u64le(bytes.data() + body)) {
    return Failure{ErrorCode::corruption, fmt::format("hand-over unit {} is damaged (checksum mismatch)", unit)};
  }
  bytes.resize(body);
  return bytes;
}

Result<void> remove_unit(const fs::path& dir, const fs::path& unit) {
  auto folder = open_store_folder(dir, k_handover_folder, Create::no);
  if (!folder) {
    return folder.failure();
  }
  if (::unlinkat(folder->get(), unit.filename().c_str(), 0) != 0 && errno != ENOENT) {
    return io_failure("remove applied hand-over unit", unit, errno);
  }
  return {};
}

Result<fs::path> make_secondary_log_dir(const fs::path& dir) {
  auto folder = open_store_folder(dir, k_secondaries_folder, Create::yes);
  if (!folder) {
    return folder.failure();
  }
  std::random_device random;
  for (int attempt = 0;; ++attempt) {
    const std::string name = fmt::format("{}-{:08x}", ::getpid(), random());
    if (::mkdirat(folder->get(), name.c_str(), 0700) == 0) {
      return dir / k_secondaries_folder / name;
    }
    if (errno != EEXIST || attempt == 8) {
      return io_failure("create", dir / k_secondaries_folder / name, errno);
    }
  }
}

void remove_secondary_log_dir(const fs::path& dir, const fs::path& folder) {
  if (auto secondaries = open_store_folder(dir, k_secondaries_folder, Create::no)) {
    (void)remove_tree_in(secondaries->get(), folder.filename().string(), folder);
  }
}

void remove_abandoned_files(const fs::path& dir) {
  if (auto handover = open_store_folder(dir, k_handover_folder, Create::no)) {
    for (const std::string& name : names_in(handover->get())) {
      if (name.rfind(k_temporary_prefix, 0) == 0 &&
          !process_alive(std::strtol(name.c_str() + k_temporary_prefix.size(), nullptr, 10))) {
        ::unlinkat(handover->get(), name.c_str(), 0);  // never follows: a link is removed itself
      }
    }
  }
  if (auto secondaries = open_store_folder(dir, k_secondaries_folder, Create::no)) {
    for (const std::string& name : names_in(secondaries->get())) {
      const long pid = secondary_owner(name);
      if (pid > 0 && !process_alive(pid)) {
        (void)remove_tree_in(secondaries->get(), name, dir / k_secondaries_folder / name);  // refuses a link
      }
    }
  }
}

}  // namespace memostore::detail
