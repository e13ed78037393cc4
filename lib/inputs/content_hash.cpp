#include "inputs/content_hash.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/std.h>

#include "util/stream_hash.hpp"

namespace memostore::detail {
namespace {

constexpr std::size_t k_read_block = 1 << 20;

Failure read_failure(const std::filesystem::path& path, std::string_view cause) {
  return Failure{ErrorCode::io, fmt::format("cannot read input {}: {}", path, cause)};
}

std::int64_t nanoseconds(const timespec& time) { return std::int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec; }

Result<FileIdentity> identity_of(const std::filesystem::path& path, const struct stat& status) {
  if (S_ISDIR(status.st_mode)) {
    return read_failure(path, "it is a directory (pass memostore::Dir for a directory)");
  }
  if (!S_ISREG(status.st_mode)) {
    return read_failure(path, "it is not a regular file");
  }
  return FileIdentity{static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino),
                      static_cast<std::uint64_t>(status.st_size), nanoseconds(status.st_mtim),
                      nanoseconds(status.st_ctim)};
}

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

Result<FileIdentity> stat_file(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return read_failure(path, std::strerror(errno));
  }
  return identity_of(path, status);
}

Result<HashedFile> hash_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return read_failure(path, std::strerror(errno));
  }
  const FdCloser closer{fd};
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    return read_failure(path, std::strerror(errno));
  }
  auto before = identity_of(path, status);
  if (!before) {
    return before.failure();
  }
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  const HashState state = new_hash_state(HashWidth::bits128);
  const std::size_t block = std::min<std::size_t>(k_read_block, before.value().size + 1);  // +1: sees the end at once
  const auto buffer = std::make_unique_for_overwrite<char[]>(block);
  for (;;) {
    const ssize_t got = ::read(fd, buffer.get(), block);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return read_failure(path, std::strerror(errno));
    }
    if (got == 0) {
      break;
    }
    XXH3_128bits_update(state.get(), buffer.get(), static_cast<std::size_t>(got));
  }
  if (::fstat(fd, &status) != 0) {
    return read_failure(path, std::strerror(errno));
  }
  auto after = identity_of(path, status);
  if (!after) {
    return after.failure();
  }
  const XXH128_hash_t digest = XXH3_128bits_digest(state.get());
  return HashedFile{after.value(), Hash128{digest.low64, digest.high64}, after.value() == before.value()};
}

}  // namespace memostore::detail
