// What a call contributes to its key, shared by memo and singleton: the
// canonical bytes of its keyed arguments and a fingerprint of its types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <typeinfo>

#include <memostore/detail/archive.hpp>
#include <memostore/detail/hash128.hpp>
#include <memostore/unhashed.hpp>

namespace memostore::detail {

/// The canonical encoding of the arguments that are part of the key (all but
/// `Unhashed<T>` ones), in order, with File and Dir arguments fingerprinted
/// by `inputs`. Equal arguments give equal bytes.
template <class... Args>
std::string encode_key_arguments(InputHasher& inputs, const Args&... args) {
  std::string out;
  BinaryWriter writer(out, &inputs);
  auto write_one = [&writer](const auto& arg) {
    if constexpr (!is_unhashed_v<decltype(arg)>) {
      writer(arg);
    }
  };
  (write_one(args), ...);
  return out;
}

/// The same for keys that take no input files (a File or Dir argument throws).
template <class... Args>
std::string encode_key_arguments(const Args&... args) {
  return encode_key_arguments<Args...>(inputs_not_supported(), args...);
}

/// A stable fingerprint of a result type and argument types. Mangled names are
/// identical for g++ and clang on one platform (Itanium ABI). An unhashed
/// argument contributes the fixed name "-": its position counts, its type does
/// not. A function's `source_hash` (MEMOSTORE_SOURCE; 0: none) follows the
/// types as one more name, "source:" and 16 hex digits.
template <class Result, class... Args>
Hash128 type_fingerprint(std::uint64_t source_hash = 0) {
  if (source_hash == 0) {
    return fingerprint_of_names({typeid(Result).name(),
                                 (is_unhashed_v<Args> ? std::string_view("-") : std::string_view(typeid(Args).name()))...});
  }
  char source[24] = "source:";
  constexpr char k_digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    source[7 + i] = k_digits[(source_hash >> (60 - 4 * i)) & 0xF];
  }
  return fingerprint_of_names({typeid(Result).name(),
                               (is_unhashed_v<Args> ? std::string_view("-") : std::string_view(typeid(Args).name()))...,
                               std::string_view(source, 23)});
}

}  // namespace memostore::detail
