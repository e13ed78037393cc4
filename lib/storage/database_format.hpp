// The store's format record ("memostore.format" in the default family): the
// mark that a RocksDB database is a memostore store, and its version, which
// an open checks, writes or upgrades. Internal to lib/storage.
#pragma once

#include <filesystem>
#include <vector>

#include <rocksdb/db.h>

#include "util/result.hpp"

namespace memostore::detail {

/// Whether `db` holds memostore's format record (any version: the caller
/// checks which); else the error that `dir` is not a memostore store.
Result<void> has_format_record(rocksdb::DB& db, const std::filesystem::path& dir);

/// has_format_record() through a read-only instance of the default family,
/// before a read-write open, which changes what it opens.
Result<void> has_format_record_read_only(const rocksdb::DBOptions& db_options, const std::filesystem::path& dir);

/// Whether a read-only instance shows a store that needs nothing written at
/// its open: its format is current and every family with records has a table.
bool needs_no_write(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families);

/// At an open, after the format record's presence was checked: a `writable`
/// instance writes the current version into a new store or over an older
/// one it can upgrade (a secondary leaves that to the primary); a store of
/// another version is refused.
Result<void> settle_format(rocksdb::DB& db, const std::filesystem::path& dir, bool secondary, bool writable);

/// Whether `failure` is settle_format()'s refusal of a finished store of
/// another format version (not a store still being created).
bool of_other_format(const Failure& failure);

}  // namespace memostore::detail
