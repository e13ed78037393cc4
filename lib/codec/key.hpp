// Entry keys. Grammar (docs/format.md):
//   key    = name NUL version hash
//   name   = 1..256 bytes, no NUL            (the function's name)
//   version= u32 big-endian                  (so a function's versions sort together)
//   hash   = 16 bytes: XXH3-128 of the argument bytes, seeded by the type fingerprint,
//            high half then low half, big-endian
// Keys of one function share the prefix `name NUL`, so clearing a function is
// one range deletion and listing it one prefix scan. The full argument bytes
// are kept in the entry and compared on every hit: a hash collision is a miss.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <memostore/detail/hash128.hpp>

#include "util/result.hpp"

namespace memostore::detail {

inline constexpr std::size_t k_max_name_size = 256;
inline constexpr std::size_t k_key_hash_size = 16;

/// A function name that keys can be built from, or a config failure naming it
/// as a `kind` ("memo function", "singleton").
Result<void> check_function_name(std::string_view name, std::string_view kind = "memo function");

/// `name NUL`: every key of the function starts with it.
std::string function_prefix(std::string_view name);

/// `name NUL version`: every key of one version of the function starts with it.
std::string version_prefix(std::string_view name, std::uint32_t version);

/// The hash of encoded arguments for a result/argument type fingerprint.
Hash128 hash_arguments(const Hash128& type, std::string_view arguments) noexcept;

/// Appends the 16 hash bytes to a prefix.
void append_hash(std::string& key, const Hash128& hash);

struct KeyParts {
  std::string_view name;
  std::uint32_t version = 0;
  Hash128 hash;
};

/// Splits a key; nullopt if it does not follow the grammar.
std::optional<KeyParts> parse_key(std::string_view key) noexcept;

/// Test hook: replaces the argument hash (nullptr restores XXH3), so tests can
/// force two different argument sets onto one key.
using ArgumentHasher = Hash128 (*)(const Hash128& type, std::string_view arguments);
void set_argument_hasher_for_testing(ArgumentHasher hasher) noexcept;

}  // namespace memostore::detail
