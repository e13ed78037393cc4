// Reading the "meta" family entry by entry: each entry's records (info,
// last access, hits, input files) come together under its key, so one ordered pass sees
// every entry once without reading the entries themselves. Eviction, gc,
// recounts and the admin listing all read the store this way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <memostore/detail/function_ref.hpp>

#include "codec/key.hpp"
#include "codec/meta.hpp"
#include "storage/database.hpp"
#include "util/result.hpp"

namespace memostore::detail {

/// One entry as its meta records describe it. Views are valid only during
/// the visit.
struct EntryRecords {
  std::string_view key;             // the entry key
  KeyParts parts;                   // parsed from key
  EntryMeta meta;                   // valid when has_info
  bool has_info = false;            // false: records left behind by a removed entry
  std::int64_t last_access_ms = 0;  // 0: never read since written
  std::uint64_t hits = 0;
  std::string inputs;               // the encoded input files record; empty if none

  /// The later of creation and last access: what least-recently-used orders by.
  std::int64_t last_used_ms() const noexcept {
    return last_access_ms > meta.created_ms ? last_access_ms : meta.created_ms;
  }
};

/// Calls `visit` for each entry whose key starts with `prefix`, in key order,
/// until it returns false. Records whose key does not parse are skipped.
Result<void> for_each_entry_records(const Database& database, std::string_view prefix, const Snapshot* at,
                                    FunctionRef<bool(const EntryRecords& entry)> visit);

}  // namespace memostore::detail
