// The RocksDB options memostore uses, in one place: the store opens with them,
// and the raw-RocksDB benchmark baseline uses the same, so the comparison
// measures memostore's own overhead. Includes RocksDB: lib/storage and bench only.
#pragma once

#include <cstdint>
#include <filesystem>

#include <rocksdb/options.h>

#include "storage/database.hpp"  // k_min_blob_size

namespace memostore::detail {

/// Options of the database as a whole, for the store in `dir`.
rocksdb::DBOptions database_options(const std::filesystem::path& dir);

/// The bookkeeping families (meta, stats, and the store's own records): small
/// records, written in batches, many of them by short processes that only hit.
rocksdb::ColumnFamilyOptions bookkeeping_options();

/// Options of the "entries" column family, with the memory of its block cache
/// (small entries) and blob cache (large values).
rocksdb::ColumnFamilyOptions entries_options(std::uint64_t block_cache_bytes, std::uint64_t blob_cache_bytes);

}  // namespace memostore::detail
