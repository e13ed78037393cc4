// Batch: the writes of one Database::write, collected into a RocksDB write
// batch against the database's column families. Counters are merge operands
// (uint64add, 8 bytes little-endian); the batch notes whether it may change an
// entry, for entry_changes().
#include "storage/batch.hpp"

#include <rocksdb/write_batch.h>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"
#include "util/endian.hpp"

namespace memostore::detail {

Batch::Batch(const Database& database) : m_database(&database), m_batch(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::put(Family family, std::string_view key, std::string_view value, Overwrites overwrites) {
  if (auto* handle = m_database->family(family)) {
    m_batch->Put(handle, slice(key), slice(value)).PermitUncheckedError();  // fails only past 4 GiB
    ++m_count;
    m_changes_entries |= family == Family::entries && overwrites == Overwrites::maybe;
  }
}

void Batch::remove(Family family, std::string_view key) {
  if (auto* handle = m_database->family(family)) {
    m_batch->Delete(handle, slice(key)).PermitUncheckedError();
    ++m_count;
    m_changes_entries |= family == Family::entries;
  }
}

void Batch::remove_range(Family family, std::string_view begin, std::string_view end) {
  if (auto* handle = m_database->family(family)) {
    m_batch->DeleteRange(handle, slice(begin), slice(end)).PermitUncheckedError();
    ++m_count;
    m_changes_entries |= family == Family::entries;
  }
}

void Batch::add(Family family, std::string_view counter, std::int64_t delta) {
  if (auto* handle = m_database->family(family)) {
    char operand[8];
    put_u64le(operand, static_cast<std::uint64_t>(delta));  // uint64add wraps: a negative delta subtracts
    m_batch->Merge(handle, slice(counter), rocksdb::Slice(operand, sizeof operand)).PermitUncheckedError();
    ++m_count;
  }
}

}  // namespace memostore::detail
