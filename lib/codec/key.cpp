#include "codec/key.hpp"

#include <atomic>

#include <fmt/format.h>
#include <xxhash.h>

#include "util/endian.hpp"

namespace memostore::detail {
namespace {

Hash128 xxh3_arguments(const Hash128& type, std::string_view arguments) {
  const XXH64_hash_t seed = type.low ^ (type.high * 0x9E3779B97F4A7C15ULL);
  const XXH128_hash_t h = XXH3_128bits_withSeed(arguments.data(), arguments.size(), seed);
  return Hash128{h.low64, h.high64};
}

std::atomic<ArgumentHasher> g_argument_hasher{nullptr};

}  // namespace

Result<void> check_function_name(std::string_view name, std::string_view kind) {
  if (name.empty() || name.size() > k_max_name_size || name.find('\0') != std::string_view::npos) {
    return Failure{ErrorCode::config,
                   fmt::format("invalid {} name \"{}\" ({} bytes): a name must be 1 to {} bytes "
                               "with no NUL byte; it identifies the function",
                               kind, name.substr(0, 64), name.size(), k_max_name_size)};
  }
  return {};
}

std::string function_prefix(std::string_view name) {
  std::string prefix(name);
  prefix.push_back('\0');
  return prefix;
}

std::string version_prefix(std::string_view name, std::uint32_t version) {
  std::string prefix = function_prefix(name);
  append_u32be(prefix, version);
  return prefix;
}

Hash128 hash_arguments(const Hash128& type, std::string_view arguments) noexcept {
  if (const ArgumentHasher hook = g_argument_hasher.load(std::memory_order_relaxed)) {
    return hook(type, arguments);
  }
  return xxh3_arguments(type, arguments);
}

void append_hash(std::string& key, const Hash128& hash) {
  append_u64be(key, hash.high);
  append_u64be(key, hash.low);
}

std::optional<KeyParts> parse_key(std::string_view key) noexcept {
  const std::size_t nul = key.find('\0');
  if (nul == 0 || nul == std::string_view::npos || nul > k_max_name_size ||
      key.size() != nul + 1 + 4 + k_key_hash_size) {
    return std::nullopt;
  }
  const char* rest = key.data() + nul + 1;
  KeyParts parts;
  parts.name = key.substr(0, nul);
  parts.version = get_u32be(rest);
  parts.hash.high = get_u64be(rest + 4);
  parts.hash.low = get_u64be(rest + 12);
  return parts;
}

void set_argument_hasher_for_testing(ArgumentHasher hasher) noexcept {
  g_argument_hasher.store(hasher, std::memory_order_relaxed);
}

Hash128 fingerprint_of_names(std::initializer_list<std::string_view> names) {
  std::string text = "memostore.type.v1";  // computed once per memoized function, not per call
  for (std::string_view name : names) {
    text.push_back('\0');
    text.append(name);
  }
  const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return Hash128{h.low64, h.high64};
}

}  // namespace memostore::detail
