// The RocksDB options memostore uses, in one place: the store opens with them,
// and the raw-RocksDB benchmark baseline uses the same, so the comparison
// measures memostore's own overhead. Includes RocksDB: lib/storage and bench only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include <rocksdb/options.h>

#include "storage/database.hpp"  // k_min_blob_size

namespace memostore::detail {

/// Options of the database as a whole, for the store in `dir`.
rocksdb::DBOptions database_options(const std::filesystem::path& dir);

/// The bookkeeping families (meta, stats, and the store's own records): small
/// records, written in batches, many of them by short processes that only hit.
rocksdb::ColumnFamilyOptions bookkeeping_options();

/// The caches of the "entries" family: small entries' blocks and large values.
struct EntryCaches {
  std::shared_ptr<rocksdb::Cache> block;
  std::shared_ptr<rocksdb::Cache> blob;
};

/// New caches of these capacities.
EntryCaches new_entry_caches(std::uint64_t block_cache_bytes, std::uint64_t blob_cache_bytes);

/// Options of the "entries" column family, reading through `caches`.
rocksdb::ColumnFamilyOptions entries_options(const EntryCaches& caches);

/// Options of the "entries" column family, with new caches of these capacities.
inline rocksdb::ColumnFamilyOptions entries_options(std::uint64_t block_cache_bytes, std::uint64_t blob_cache_bytes) {
  return entries_options(new_entry_caches(block_cache_bytes, blob_cache_bytes));
}

}  // namespace memostore::detail
