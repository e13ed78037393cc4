#include "memo/process_claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>
#include <xxhash.h>

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

/// Keys can be longer than a file name: the file is named by their hash.
fs::path claim_path(const fs::path& dir, std::string_view key) {
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  return dir / "inflight" / fmt::format("{:016x}{:016x}", hash.high64, hash.low64);
}

long read_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::strtol(text, nullptr, 10) : 0;
}

/// True if `fd` is still the file at `path`: a holder that finished unlinks
/// its file, and a lock on the unlinked file claims nothing.
bool still_at(int fd, const fs::path& path) {
  struct stat opened {};
  struct stat current {};
  return ::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &current) == 0 && opened.st_ino == current.st_ino &&
         opened.st_dev == current.st_dev;
}

}  // namespace

std::optional<std::variant<ProcessClaim, ProcessClaim::Held>> ProcessClaim::try_claim(const fs::path& dir,
                                                                                      std::string_view key,
                                                                                      bool seen_holder) {
  const fs::path path = claim_path(dir, key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const bool existed = fs::exists(path, ec);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return std::nullopt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const long pid = read_pid(fd);
      ::close(fd);
      return std::variant<ProcessClaim, Held>(Held{pid});
    }
    if (!still_at(fd, path)) {
      ::close(fd);  // its holder finished and removed it: try the new one
      continue;
    }
    // A file that was there with nobody holding it: its holder died.
    const bool holder_finished = seen_holder && !existed;
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      // Only the pid for messages is missing: the lock is what counts.
    }
    return std::variant<ProcessClaim, Held>(ProcessClaim(path, fd, holder_finished));
  }
  return std::nullopt;
}

ProcessClaim::ProcessClaim(ProcessClaim&& other) noexcept
    : m_path(std::move(other.m_path)), m_fd(other.m_fd), m_after_holder(other.m_after_holder) {
  other.m_fd = -1;
}

ProcessClaim::~ProcessClaim() {
  if (m_fd >= 0) {
    ::unlink(m_path.c_str());  // before unlocking: a waiter then sees a finished holder, not a dead one
    ::close(m_fd);
  }
}

}  // namespace memostore::detail
