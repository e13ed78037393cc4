// Check mode (Mode::check, StoreOptions::check_rate): a stored result is
// compared with a fresh computation of the same call, so that a forgotten
// `version` bump or a function that is not deterministic is found instead of
// served. What a key cannot see (a callee's code, a field's meaning) is
// caught here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <memostore/detail/memo_core.hpp>

namespace memostore::detail {

/// Whether this call compares its stored result with a fresh computation:
/// every call in Mode::check; in readwrite mode a random fraction
/// (StoreOptions::check_rate) of calls.
bool should_check(const MemoCore& memo);

/// The valid entry stored for `key`, as a check needs it.
struct StoredResult {
  std::string payload;       // the encoded result
  std::uint64_t size = 0;    // key plus envelope bytes, for the replacement's bookkeeping
};

/// The valid entry for `key` (the call with encoded arguments `args`), read
/// from the store itself rather than this process's memory; none if nothing
/// valid is stored. Counts and logs nothing.
std::optional<StoredResult> stored_result(const MemoCore& memo, const std::string& key, std::string_view args);

/// Where `stored` and `fresh` first differ (a shorter one differs where it
/// ends); none if they are equal.
std::optional<std::size_t> first_difference(std::string_view stored, std::string_view fresh) noexcept;

/// Logs, at error level, that the entry under `key` holds another result
/// than a fresh computation: where the bytes first differ, and what to do.
void report_stale(const MemoCore& memo, std::string_view key, std::size_t offset, std::size_t stored_size,
                  std::size_t fresh_size);

}  // namespace memostore::detail
