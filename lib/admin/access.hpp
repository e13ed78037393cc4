// How the admin functions reach an open store's internals, and the one
// conversion from bookkeeping records to the public EntrySummary.
#pragma once

#include <string_view>

#include <memostore/admin.hpp>

#include "policy/meta_scan.hpp"
#include "store/store_core.hpp"

namespace memostore::detail {

/// The store's database. Throws Error (usage) for a store in Mode::off,
/// naming `operation`.
const Database& database_of(const Store& store, std::string_view operation);

/// The store's database and policy, for an operation that writes. Throws
/// Error (usage) for a store that is not open for writing.
StoreCore& writable_core(Store& store, std::string_view operation);

EntrySummary summarize(const EntryRecords& records);

/// A problem with the entry stored under `key` (which may not parse: then its
/// first bytes in hex name it).
Problem problem_at(std::string_view key, std::string what);

inline TimePoint time_point_of_ms(std::int64_t unix_ms) { return TimePoint(std::chrono::milliseconds(unix_ms)); }

}  // namespace memostore::detail
