// Refreshing stored results (MemoOptions::refresh_after, Memo::refresh): a
// hit on an entry older than refresh_after is served at once and hands a
// refresh job to the store's pool (store/refresh_pool.hpp), which recomputes
// the call in the background and keeps the result down the tiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/detail/memo_core.hpp>

#include "tiers/tiers.hpp"

namespace memostore::detail {

/// How far a miss (or a refresh) of `memo` waits for, or claims against,
/// others computing the same call (MemoOptions::inflight); none: only this
/// process's threads.
std::optional<Tiers::ClaimReach> claim_reach(const MemoCore& memo);

/// The record of a call's input files that joins its entry; empty without any.
std::string inputs_record(const std::vector<RecordedInput>& inputs);

/// Fills in the bookkeeping of a computed envelope (`envelope`: started with
/// start_envelope, the result appended) for `key` of a function with type
/// fingerprint `type` and counters `state`, and finishes it (checksum,
/// signature).
NewEntry finish_entry(Tiers& tiers, const FunctionState& state, const Hash128& type, const std::string& key,
                      std::string envelope, std::uint64_t compute_ns);

/// After a hit on `key` (encoded arguments `args`, input files `inputs`)
/// whose entry was created at `created_ms`: when it is older than the
/// function's refresh_after at `now_ms`, starts its background refresh
/// unless one is running or backing off (MEMOSTORE_EXPLAIN says which).
/// Requires: the store writes results and the call uses hits (readwrite).
void refresh_if_stale(const MemoCore& memo, const std::string& key, std::string_view args,
                      const std::vector<RecordedInput>& inputs, std::int64_t created_ms, std::int64_t now_ms,
                      MakeRefreshFn make_refresh);

}  // namespace memostore::detail
