// Reading every entry of a store that can still be read, past damaged table
// blocks and blob files, for `verify` (which lists the rest) and `repair`
// (which keeps what it reads).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.hpp"

namespace memostore::detail {

/// An entry, known by its info record, whose value could not be read.
struct UnreadableEntry {
  std::string key;
  std::string what;  // RocksDB's cause, e.g. "Corruption: Blob CRC mismatch"
};

struct ReadableScan {
  std::uint64_t read = 0;                  // entries passed to `visit`
  std::vector<UnreadableEntry> unreadable;
  /// Damage that no key names: where the ordered scan of the entries stopped
  /// (entries past it are found through their info records alone), or the
  /// info records themselves could not all be read.
  std::vector<std::string> stops;
};

/// Calls `visit(key, bytes)` for every entry of `database` that can be read.
/// Scans the entries in key order; when the scan stops at damage (RocksDB's
/// iterator cannot step past a block or blob that fails its checksum), reads
/// each remaining entry that has an info record (they live in other files)
/// by its key, so that one damaged block or blob file costs only its own
/// entries.
ReadableScan for_each_readable_entry(const Database& database,
                                     const std::function<void(std::string_view key, std::string_view bytes)>& visit);

/// RocksDB's cause inside a failure message of database.cpp ("... the store
/// is damaged (Corruption: ...). ..."), or the whole message.
std::string cause_of(const std::string& message);

}  // namespace memostore::detail
