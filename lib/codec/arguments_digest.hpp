// Large arguments are keyed, not stored: an envelope whose arguments encode
// to more than k_digest_threshold bytes keeps, instead of them, their size
// and SHA-256 (OpenSSL's libcrypto), and a hit compares that digest with the
// caller's. The key already holds XXH3-128 of the arguments; SHA-256 is a
// second, independent hash, so serving another call's value would take a
// collision of both, and SHA-256 collisions cannot be found even by someone
// choosing arguments on purpose (docs/format.md, "Arguments digest").
// Grammar of the arguments field of such an envelope (flag 0x02):
//   digest = size u64 (little-endian, the encoded arguments' bytes) | SHA-256 32 bytes
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memostore::detail {

/// Arguments longer than this are stored as their digest. A SHA-256 never
/// makes a hit cheaper than comparing bytes in memory (bench L2: 3.3 against
/// 0.7 µs at 4 KiB), so this only says where stored bytes start to count: at
/// 4 KiB the arguments alone fill a RocksDB data block. Not part of the
/// format: readers take either kind of entry at any size.
inline constexpr std::size_t k_digest_threshold = 4096;
inline constexpr std::size_t k_sha256_size = 32;
inline constexpr std::size_t k_arguments_digest_size = 8 + k_sha256_size;

/// Whether arguments of `size` bytes are stored as a digest.
bool stores_digest(std::size_t size) noexcept;

/// The digest field for `arguments` (k_arguments_digest_size bytes); none
/// only if OpenSSL fails (out of memory), in which case the caller stores
/// the arguments themselves.
std::optional<std::string> digest_arguments(std::string_view arguments);

/// The size of the arguments a digest field was made from.
std::uint64_t digested_size(std::string_view digest) noexcept;

/// True if `digest` (a field of k_arguments_digest_size bytes) is the digest
/// of `arguments`. Compares the sizes first, so arguments of another size
/// cost nothing; otherwise one SHA-256 of `arguments`.
bool digest_matches(std::string_view digest, std::string_view arguments);

/// Test hook: replaces k_digest_threshold (0 restores it), so tests and the
/// benchmark can store small arguments either way.
void set_digest_threshold_for_testing(std::size_t threshold) noexcept;

}  // namespace memostore::detail
