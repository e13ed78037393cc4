// The column families of a store: how each is configured (the same at every
// open and repair), the compaction filter that drops expired records, and
// questions about the families of an open instance. Internal to lib/storage.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>

#include "storage/database_options.hpp"

namespace memostore::detail {

/// Drops records the store says have expired, during compaction. RocksDB
/// reads a blob-file value back before asking, so large entries expire too.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  ExpiryFilter(ExpiredFn expired, const char* name) : m_expired(std::move(expired)), m_name(name) {}

  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType type, const rocksdb::Slice& value,
                    std::string* new_value, std::string* skip_until) const override;
  const char* Name() const override { return m_name; }

 private:
  ExpiredFn m_expired;
  const char* m_name;
};

/// How each column family is configured: the same at every open and repair.
std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors(const std::vector<std::string>& names,
                                                                const DatabaseOptions& options,
                                                                const rocksdb::CompactionFilter* entry_filter,
                                                                const rocksdb::CompactionFilter* meta_filter);

/// The caches the entries family was opened with (a secondary's are its
/// own), which a held value may pin.
std::shared_ptr<const EntryCaches> caches_of(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries);

/// True if a family holds records but no table yet.
bool only_in_memory(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families);

/// Destroys the handles of `families` and closes and deletes `db`.
void close_instance(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& families);

}  // namespace memostore::detail
