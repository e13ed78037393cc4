#include "codec/arguments_digest.hpp"

#include <openssl/evp.h>

#include <atomic>

#include "util/endian.hpp"

namespace memostore::detail {
namespace {

std::atomic<std::size_t> g_threshold{0};  // 0: k_digest_threshold

}  // namespace

bool stores_digest(std::size_t size) noexcept {
  const std::size_t hooked = g_threshold.load(std::memory_order_relaxed);
  return size > (hooked != 0 ? hooked : k_digest_threshold);
}

std::optional<std::string> digest_arguments(std::string_view arguments) {
  std::string digest(k_arguments_digest_size, '\0');
  put_u64le(digest.data(), arguments.size());
  unsigned int written = 0;
  if (EVP_Digest(arguments.data(), arguments.size(), reinterpret_cast<unsigned char*>(digest.data() + 8), &written,
                 EVP_sha256(), nullptr) != 1 ||
      written != k_sha256_size) {
    return std::nullopt;
  }
  return digest;
}

std::uint64_t digested_size(std::string_view digest) noexcept {
  return digest.size() == k_arguments_digest_size ? get_u64le(digest.data()) : 0;
}

bool digest_matches(std::string_view digest, std::string_view arguments) {
  if (digest.size() != k_arguments_digest_size || digested_size(digest) != arguments.size()) {
    return false;
  }
  const auto computed = digest_arguments(arguments);
  return computed && *computed == digest;  // a failed digest is a miss, never a hit
}

void set_digest_threshold_for_testing(std::size_t threshold) noexcept {
  g_threshold.store(threshold, std::memory_order_relaxed);
}

}  // namespace memostore::detail
