#include "storage/handover.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <fmt/std.h>
#include <xxhash.h>

#include "storage/file_sync.hpp"
#include "util/endian.hpp"

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_unit_extension = ".unit";
constexpr std::string_view k_bookkeeping_suffix = ".bookkeeping";  // before the extension
constexpr std::string_view k_temporary_prefix = ".tmp-";
constexpr std::size_t k_checksum_size = 8;

Failure io_failure(std::string_view doing, const fs::path& path, int error) {
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

Result<void> sync_directory(const fs::path& dir) {
  if (const int error = fsync_path(dir); error != 0) {
    return io_failure("sync", dir, error);
  }
  return {};
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

fs::path handover_dir(const fs::path& dir) { return dir / "handover"; }

UnitNamer::UnitNamer() {
  std::random_device random;
  const std::uint64_t nonce = (std::uint64_t{random()} << 32) ^ random();
  m_prefix = fmt::format("{}-{:016x}-", ::getpid(), nonce);
}

std::string UnitNamer::name(std::uint64_t sequence, UnitKind kind) const {
  return fmt::format("{}{:016x}{}", m_prefix, sequence, kind == UnitKind::bookkeeping ? k_bookkeeping_suffix : "");
}

Result<fs::path> write_unit(const fs::path& dir, std::string_view name, std::string_view batch) {
  const fs::path folder = handover_dir(dir);
  std::error_code ec;
  fs::create_directories(folder, ec);
  const fs::path temporary = folder / fmt::format("{}{}", k_temporary_prefix, name);
  const fs::path unit = folder / fmt::format("{}{}", name, k_unit_extension);
  const bool sync = !is_bookkeeping_unit(unit);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return io_failure("create", temporary, errno);
  }
  char checksum[k_checksum_size];
  put_u64le(checksum, XXH3_64bits(batch.data(), batch.size()));
  const bool written =
      write_all(fd, batch) && write_all(fd, {checksum, sizeof checksum}) && (!sync || ::fsync(fd) == 0);
  const int error = errno;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), unit.c_str()) != 0) {
    const int cause = written ? errno : error;
    ::unlink(temporary.c_str());
    return io_failure("write", unit, cause);
  }
  if (sync) {
    if (auto synced = sync_directory(folder); !synced) {
      return synced.failure();
    }
  }
  return unit;
}

std::vector<fs::path> pending_units(const fs::path& dir) {
  std::vector<fs::path> units;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(handover_dir(dir), ec)) {
    if (entry.path().extension() == k_unit_extension) {
      units.push_back(entry.path());
    }
  }
  std::sort(units.begin(), units.end());
  return units;
}

bool is_bookkeeping_unit(const fs::path& unit) { return unit.stem().extension() == k_bookkeeping_suffix; }

Result<std::string> read_unit(const fs::path& unit) {
  std::ifstream in(unit, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Failure{ErrorCode::io, fmt::format("cannot read {}", unit)};
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

fs::path secondary_log_dir(const fs::path& dir) {
  std::random_device random;
  return dir / "secondaries" / fmt::format("{}-{:08x}", ::getpid(), random());
}

void remove_abandoned_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(handover_dir(dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(k_temporary_prefix, 0) == 0 &&
        !process_alive(std::strtol(name.c_str() + k_temporary_prefix.size(), nullptr, 10))) {
      fs::remove(entry.path(), ec);
    }
  }
  for (const auto& entry : fs::directory_iterator(dir / "secondaries", ec)) {
    if (!process_alive(std::strtol(entry.path().filename().c_str(), nullptr, 10))) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace memostore::detail
