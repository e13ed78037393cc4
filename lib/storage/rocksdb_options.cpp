#include "storage/rocksdb_options.hpp"

#include "storage/warning_log.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace memostore::detail {

rocksdb::DBOptions database_options(const std::filesystem::path& dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.keep_log_file_num = 2;
  options.max_log_file_size = 1 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.info_log = warning_log(dir / "LOG");
  // A short process opens the store, hits and exits: its open is its cost.
  // 16 threads per column family to open its table files cost more to start
  // than the work they share on a store of tens of files in the page cache;
  // a store of thousands, read from a cold disk, would open more slowly.
  options.max_file_opening_threads = 1;
  // A close leaves its writes in the write-ahead log (Database::~Database);
  // the next open replays them into memory instead of writing a table file
  // (open_once turns this off when killed processes left too much).
  options.avoid_flush_during_recovery = true;
  return options;
}

rocksdb::ColumnFamilyOptions bookkeeping_options() {
  rocksdb::ColumnFamilyOptions family;
  // Access times written after a burst of hits should not hold tens of MB of memory table.
  family.write_buffer_size = 4 << 20;
  family.compression = rocksdb::kLZ4Compression;
  // Short processes that only hit leave a few hundred bytes of access times
  // each; every eighth close flushes them into a table of about 1 KB. Leveled
  // compaction merged four such tables into one sorted run holding all of
  // `meta` (a record per entry): a rewrite of the whole family, which a short
  // process started at its open and abandoned at its close, every time, while
  // the small tables piled up. Universal (tiered) compaction merges the small
  // tables with each other and leaves the large run alone until they add up
  // to its size. The same layout opens with either style.
  family.compaction_style = rocksdb::kCompactionStyleUniversal;
  return family;
}

EntryCaches new_entry_caches(std::uint64_t block_cache_bytes, std::uint64_t blob_cache_bytes) {
  // The blob cache is not sharded: an LRU shard evicts anything larger than
  // its share of the capacity, and a 64-way sharded cache could never keep a
  // 10 MB value. A large-value hit holds the lock for a lookup, next to a 10 MB copy.
  return EntryCaches{rocksdb::NewLRUCache(block_cache_bytes),
                     rocksdb::NewLRUCache(blob_cache_bytes, /*num_shard_bits=*/0)};
}

rocksdb::ColumnFamilyOptions entries_options(const EntryCaches& caches) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = caches.block;
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
  family.blob_cache = caches.blob;
  family.enable_blob_garbage_collection = true;
  // A value just written is likely to be read again soon: keep it in memory
  // rather than read it back (and check its CRC32C in software) on first use.
  family.prepopulate_blob_cache = rocksdb::PrepopulateBlobCache::kFlushOnly;
  return family;
}

}  // namespace memostore::detail
