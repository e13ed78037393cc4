#include "tiers/process_claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include <fmt/format.h>
#include <fmt/std.h>
#include <xxhash.h>

#include "storage/safe_files.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_claims_folder = "inflight";

long read_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::strtol(text, nullptr, 10) : 0;
}

/// True if `fd` is still the file `name` in `folder`: a holder that finished
/// unlinks its file, and a lock on the unlinked file claims nothing.
bool still_at(int fd, int folder, const std::string& name) {
  struct stat opened {};
  struct stat current {};
  return ::fstat(fd, &opened) == 0 && ::fstatat(folder, name.c_str(), &current, AT_SYMLINK_NOFOLLOW) == 0 &&
         opened.st_ino == current.st_ino && opened.st_dev == current.st_dev;
}

/// Warns, once per process, that claims cannot be made (a planted link, an
/// unwritable folder); the calls compute unclaimed meanwhile.
void report_unclaimable(const Failure& failure) {
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) {
    warn("share_inflight: {}; computing without a claim (other processes may compute the same call meanwhile). "
         "Later failures to claim are not reported",
         failure.message);
  }
}

}  // namespace

std::string claim_name(std::string_view key) {
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  return fmt::format("{:016x}{:016x}", hash.high64, hash.low64);
}

std::optional<std::variant<ProcessClaim, ProcessClaim::Held>> ProcessClaim::try_claim(const fs::path& dir,
                                                                                      std::string_view key,
                                                                                      bool seen_holder) {
  auto folder = open_store_folder(dir, k_claims_folder, Create::yes);
  if (!folder) {
    report_unclaimable(folder.failure());
    return std::nullopt;
  }
  const std::string name = claim_name(key);
  const fs::path shown = dir / k_claims_folder / name;
  for (int attempt = 0; attempt < 8; ++attempt) {
    struct stat before {};
    const bool existed = ::fstatat(folder->get(), name.c_str(), &before, AT_SYMLINK_NOFOLLOW) == 0;
    auto file = open_in(folder->get(), name, O_RDWR | O_CREAT, 0600, shown);  // never through a link
    if (!file) {
      report_unclaimable(file.failure());
      return std::nullopt;
    }
    if (::flock(file->get(), LOCK_EX | LOCK_NB) != 0) {
      return std::variant<ProcessClaim, Held>(Held{read_pid(file->get())});
    }
    if (!still_at(file->get(), folder->get(), name)) {
      continue;  // its holder finished and removed it: try the new one
    }
    // A file that was there with nobody holding it: its holder died.
    const bool holder_finished = seen_holder && !existed;
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(file->get(), 0) != 0 ||
        ::pwrite(file->get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      // Only the pid for messages is missing: the lock is what counts.
    }
    const int fd = file->release();
    return std::variant<ProcessClaim, Held>(ProcessClaim(folder->release(), name, fd, holder_finished));
  }
  return std::nullopt;
}

ProcessClaim::ProcessClaim(ProcessClaim&& other) noexcept
    : m_folder(other.m_folder), m_name(std::move(other.m_name)), m_fd(other.m_fd),
      m_after_holder(other.m_after_holder) {
  other.m_fd = -1;
  other.m_folder = -1;
}

ProcessClaim::~ProcessClaim() {
  if (m_fd >= 0) {
    // Before unlocking: a waiter then sees a finished holder, not a dead one.
    // By name in the folder's descriptor: never through a link.
    ::unlinkat(m_folder, m_name.c_str(), 0);
    ::close(m_fd);
  }
  if (m_folder >= 0) {
    ::close(m_folder);
  }
}

}  // namespace memostore::detail
