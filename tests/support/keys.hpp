// Entry keys as the library builds them (lib/codec/key.hpp's grammar over the
// argument bytes of memostore/detail/call_key.hpp), for tests that must name
// one entry: never rebuilt by hand, so a test cannot drift from the format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <memostore/detail/call_key.hpp>
#include <memostore/detail/hash128.hpp>

#include "codec/key.hpp"

namespace memostore::test {

/// The key of the entry of `name` version `version` whose result/argument
/// types have the fingerprint `type`, called with `args`.
template <class... Args>
std::string entry_key(std::string_view name, std::uint32_t version, const detail::Hash128& type, const Args&... args) {
  std::string key = detail::version_prefix(name, version);
  detail::append_hash(key, detail::hash_arguments(type, detail::encode_key_arguments(args...)));
  return key;
}

/// The same for a function `Result(Args...)` memoized without a source hash.
template <class Result, class... Args>
std::string entry_key(std::string_view name, std::uint32_t version, const Args&... args) {
  return entry_key(name, version, detail::type_fingerprint<Result, Args...>(), args...);
}

}  // namespace memostore::test
