// The compiled half of memostore::Shared (memostore/shared.hpp): digests.
#include <memostore/shared.hpp>

#include <random>

#include <fmt/format.h>

#include "codec/envelope.hpp"

namespace memostore {

std::string Digest::hex() const { return fmt::format("{:016x}{:016x}", high, low); }

namespace detail {

Digest digest_of_encoded(std::string_view encoded) noexcept {
  const Hash128 digest = result_digest_of(encoded);
  return Digest{digest.high, digest.low};
}

Digest unique_digest() {
  // Straight from the system's randomness: a seeded generator would give two
  // processes seeded alike the same "unique" digests.
  std::random_device device;
  const auto word = [&device] { return (std::uint64_t{device()} << 32) | device(); };
  return Digest{word(), word()};
}

}  // namespace detail
}  // namespace memostore
