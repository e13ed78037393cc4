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

/// Like writable_core, but another process may hold the store: then what the
/// operation writes is handed over to that process (await_holder waits for
/// it). Catches up first, so that the operation sees the holder's writes.
StoreCore& shared_writable_core(Store& store, std::string_view operation);

/// After an operation on a store another process holds: waits (at most
/// `limit`) until that process applied what this one handed over. Throws
/// Error (locked) naming the holder if it has not by then; the writes stay
/// and are applied later.
void await_holder(StoreCore& core, std::string_view operation, std::chrono::milliseconds limit);

EntrySummary summarize(const EntryRecords& records);

/// A problem with the entry stored under `key` (which may not parse: then its
/// first bytes in hex name it).
Problem problem_at(std::string_view key, std::string what);

inline TimePoint time_point_of_ms(std::int64_t unix_ms) { return TimePoint(std::chrono::milliseconds(unix_ms)); }

}  // namespace memostore::detail
