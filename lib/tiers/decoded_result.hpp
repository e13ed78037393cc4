// DecodedResult: an entry's result decoded once and shared (Memo::shared).
// The hot tier keeps it with the entry it was decoded from, so every hit on
// the entry returns the same object until the entry's copy is retired
// (forget, clear, overwrite, eviction, a change another process made) or
// expires (the judge checks ttl on every hit, with or without it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <typeinfo>

#include <memostore/detail/hash128.hpp>

namespace memostore::detail {

struct DecodedResult {
  /// A `const R`, R being the result type of the call that decoded it.
  /// Null: none decoded.
  std::shared_ptr<const void> object;
  /// typeid(R). The key holds the type's name, but two types of one name
  /// (in anonymous namespaces of two files) share it: an object is only
  /// handed to a caller of its own type.
  const std::type_info* type = nullptr;
  /// The result's digest (codec/envelope.hpp: result_digest).
  std::optional<Hash128> digest;
  /// What it counts against the hot tier's budget: its encoded size (the
  /// payload), which for numbers, strings and vectors of them is within a
  /// few percent of what the decoded object holds on the heap.
  std::uint64_t bytes = 0;
  /// Kept with an older copy of the entry (before a change to the store
  /// that may or may not have touched it): still this entry's result if the
  /// entry read now has the same digest, which the caller checks.
  bool stale = false;
};

}  // namespace memostore::detail
