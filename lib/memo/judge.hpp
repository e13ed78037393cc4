// Judging an entry for one call of a memoized function: the memo layer's
// half of a read. The storage facade (tiers/tiers.hpp) finds an entry and
// checks that it is whole and authentic; whether it is this call's result
// (types, arguments, ttl) and what it decodes to is decided here.
#pragma once

#include <cstdint>
#include <string_view>

#include <memostore/detail/memo_core.hpp>

#include "tiers/outcome.hpp"
#include "tiers/tiers.hpp"

namespace memostore::detail {

/// The facade of `memo`'s store. Requires: the store is not off.
Tiers& tiers_of(const MemoCore& memo) noexcept;

/// `memo` as the facade counts and names it.
Caller caller_of(const MemoCore& memo) noexcept;

/// Whether an authentic `entry` is the result of a call of `memo` with
/// encoded arguments `args` at `now_ms`: hit, or why not (other_type,
/// other_arguments, expired). Decodes nothing.
Outcome judge_entry(const MemoCore& memo, std::string_view args, const EntryView& entry, std::int64_t now_ms);

/// judge_entry, then on a hit decodes the payload through `decode`: a whole
/// entry of the right types whose bytes do not decode is a changed layout.
Verdict judge_and_decode(const MemoCore& memo, std::string_view args, const EntryView& entry, std::int64_t now_ms,
                         DecodeFn decode);

}  // namespace memostore::detail
