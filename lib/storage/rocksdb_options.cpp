#include "storage/rocksdb_options.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace memostore::detail {

rocksdb::DBOptions database_options() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.keep_log_file_num = 2;
  options.max_log_file_size = 1 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return options;
}

rocksdb::ColumnFamilyOptions entries_options(std::uint64_t cache_bytes) {
  // One memory budget for small entries (in blocks) and large ones (in blobs).
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Debian's RocksDB computes CRC32C in software (about 1 GB/s); XXH3 is far faster.
  table.checksum = rocksdb::kXXH3;
  table.format_version = 5;
  rocksdb::ColumnFamilyOptions family;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.compression = rocksdb::kLZ4Compression;
  // Large values live in blob files. Inline, a 20 MB value would share a data
  // block with the small entries written next to it, and every read of those
  // would load and decompress the whole block.
  family.enable_blob_files = true;
  family.min_blob_size = k_min_blob_size;
  family.blob_cache = cache;
  family.enable_blob_garbage_collection = true;
  return family;
}

}  // namespace memostore::detail
