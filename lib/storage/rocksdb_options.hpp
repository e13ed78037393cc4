// The RocksDB options memostore uses, in one place: the store opens with them,
// and the raw-RocksDB benchmark baseline uses the same, so the comparison
// measures memostore's own overhead. Includes RocksDB: lib/storage and bench only.
#pragma once

#include <cstdint>
#include <filesystem>

#include <rocksdb/options.h>

namespace memostore::detail {

/// Values of at least this many bytes go to blob files (see docs/design.md).
inline constexpr std::uint64_t k_min_blob_size = 16 << 10;

/// Options of the database as a whole, for the store in `dir`.
rocksdb::DBOptions database_options(const std::filesystem::path& dir);

/// Options of the "entries" column family, with the memory of its block cache
/// (small entries) and blob cache (large values).
/// The bookkeeping families (meta, stats): small records, written in batches.
/// A small write buffer, so that access times written after a burst of hits
/// do not hold tens of MB of memtable.
rocksdb::ColumnFamilyOptions bookkeeping_options();

rocksdb::ColumnFamilyOptions entries_options(std::uint64_t block_cache_bytes, std::uint64_t blob_cache_bytes);

}  // namespace memostore::detail
