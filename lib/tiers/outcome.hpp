// What a read of one call's entry can find, in any tier, and the two things
// the storage facade needs from the memo layer to read one: who is calling
// (for counters and warnings) and a judge that decides whether a whole,
// authentic entry is this call's result (types, arguments, ttl, decoding).
// The facade checks structure, checksum and signature; the judge the rest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <memostore/detail/function_ref.hpp>

#include "codec/envelope.hpp"

namespace memostore::detail {

class FunctionState;

enum class Outcome {
  hit,
  absent,           // no entry under the key
  expired,          // an entry past its ttl
  other_type,       // an entry of another result or argument type
  other_arguments,  // another call's entry under a colliding hash
  damaged,          // an entry that fails its checks (structure, checksum)
  changed_layout,   // a whole entry of the right types whose bytes do not decode as the result type
  rejected,         // an entry without a valid signature for the store's secret
  unreadable,       // the read itself failed
};

/// A judge's answer: the outcome, and for changed_layout what the decoder said.
struct Verdict {
  Outcome outcome = Outcome::hit;
  std::string detail = {};
};

/// Decides whether an authentic `entry` is the caller's result at `now_ms`
/// and, if it is, decodes it into the caller's result (so a hit is decoded
/// exactly once, by the tier that found it).
using Judge = FunctionRef<Verdict(const EntryView& entry, std::int64_t now_ms)>;

/// The function reading or writing an entry: its counters and its name for warnings.
struct Caller {
  FunctionState* state = nullptr;  // never null on a store that is not off
  std::string_view name;
  std::uint32_t version = 0;
};

/// The result of reading the local tiers for a key.
struct Lookup {
  Outcome outcome = Outcome::absent;
  std::optional<std::uint64_t> existing_size;  // key + entry bytes, if anything is stored under the key
};

}  // namespace memostore::detail
