// MEMOSTORE_EXPLAIN: the words that say why a call was computed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <memostore/detail/memo_core.hpp>

#include "tiers/outcome.hpp"

namespace memostore::detail {

/// Logs (at info level) why a call of `memo` with `key` (encoded arguments
/// `args`, input files `inputs`) is computed, given the last lookup;
/// `refresh` in refresh mode. Scans the function's entries for some causes:
/// only while explaining.
void explain_miss(const MemoCore& memo, const std::string& key, std::string_view args,
                  const std::vector<RecordedInput>& inputs, const Lookup& last, bool refresh);

}  // namespace memostore::detail
