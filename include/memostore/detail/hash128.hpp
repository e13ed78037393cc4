// A 128-bit hash value, as used in keys and type fingerprints.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace memostore::detail {

struct Hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;

  friend bool operator==(const Hash128&, const Hash128&) = default;
};

/// XXH3-128 over the names joined with NUL separators, tagged with a format
/// label. Stable across processes, builds and machines of one platform.
Hash128 fingerprint_of_names(std::initializer_list<std::string_view> names);

}  // namespace memostore::detail
