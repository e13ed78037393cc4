// Column families: how each family of a store is configured (caches and
// blob files for entries, the uint64add merge operator for counters, the
// expiry filter), the same at every open and repair; and what an open
// instance's families hold.
#include "storage/database_families.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "storage/database_handles.hpp"
#include "storage/rocksdb_options.hpp"

namespace memostore::detail {

ExpiryFilter::Decision ExpiryFilter::FilterV2(int /*level*/, const rocksdb::Slice& key, ValueType type,
                                              const rocksdb::Slice& value, std::string* /*new_value*/,
                                              std::string* /*skip_until*/) const {
  if (type != ValueType::kValue) {
    return Decision::kKeep;
  }
  return m_expired(view(key), view(value)) ? Decision::kRemove : Decision::kKeep;
}

namespace {

std::shared_ptr<rocksdb::MergeOperator> uint64_add_operator() {
  std::shared_ptr<rocksdb::MergeOperator> add;
  rocksdb::ConfigOptions config;
  // RocksDB's own operator, found by its registered name; never fails for it.
  rocksdb::MergeOperator::CreateFromString(config, "uint64add", &add).PermitUncheckedError();
  return add;
}

}  // namespace

std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors(const std::vector<std::string>& names,
                                                                const DatabaseOptions& options,
                                                                const rocksdb::CompactionFilter* entry_filter,
                                                                const rocksdb::CompactionFilter* meta_filter) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    if (name == k_entries_family) {
      rocksdb::ColumnFamilyOptions family =
          options.caches ? entries_options(*options.caches)
                         : entries_options(options.block_cache_bytes, options.blob_cache_bytes);
      family.compaction_filter = entry_filter;
      descriptors.emplace_back(name, family);
      continue;
    }
    rocksdb::ColumnFamilyOptions family = bookkeeping_options();  // meta, stats and the store's records
    if (name == k_meta_family) {
      family.compaction_filter = meta_filter;
      family.merge_operator = uint64_add_operator();  // per-entry hit counts
    } else if (name == k_stats_family) {
      family.merge_operator = uint64_add_operator();
    }
    descriptors.emplace_back(name, family);
  }
  return descriptors;
}

std::shared_ptr<const EntryCaches> caches_of(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries) {
  const rocksdb::Options options = db.GetOptions(entries);
  const auto* table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  return std::make_shared<const EntryCaches>(
      EntryCaches{table != nullptr ? table->block_cache : nullptr, options.blob_cache});
}

bool only_in_memory(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  for (auto* family : families) {
    rocksdb::ColumnFamilyMetaData tables;
    db.GetColumnFamilyMetaData(family, &tables);
    std::uint64_t in_memory = 0;
    if (tables.file_count == 0 && db.GetIntProperty(family, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &in_memory) &&
        in_memory > 0) {
      return true;
    }
  }
  return false;
}

void close_instance(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  for (auto* family : families) {
    db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  families.clear();
  db->Close().PermitUncheckedError();
  delete db;
}

}  // namespace memostore::detail
