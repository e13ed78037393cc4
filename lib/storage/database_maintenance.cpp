// Maintenance: full and stepwise compaction, key estimates, checksum
// verification, syncing the write-ahead logs, and rebuilding a damaged store
// (repair_database). A primary that has only read opens for writing first;
// read-only and secondary instances leave compaction to the primary.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/database.hpp"
#include "storage/database_files.hpp"
#include "storage/database_format.hpp"
#include "storage/database_handles.hpp"
#include "storage/rocksdb_options.hpp"
#include "storage/store_directory.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

Result<void> Database::compact() {
  if (auto compacted = compact_range(Family::entries, "", ""); !compacted) {
    return compacted;
  }
  return compact_bookkeeping();
}

Result<void> Database::compact_range(Family which, std::string_view begin, std::string_view end) {
  if (m_handles->reading) {
    auto writer = writing();
    return writer ? writer.value()->compact_range(which, begin, end) : writer.failure();
  }
  return compact_handle(family(which), begin, end);
}

Result<void> Database::compact_bookkeeping() {
  if (m_handles->reading) {
    auto writer = writing();
    return writer ? writer.value()->compact_bookkeeping() : writer.failure();
  }
  for (auto* handle : m_handles->families) {
    if (handle == m_handles->entries) {
      continue;
    }
    if (auto compacted = compact_handle(handle, "", ""); !compacted) {
      return compacted;
    }
  }
  return {};
}

Result<void> Database::compact_handle(rocksdb::ColumnFamilyHandle* handle, std::string_view begin,
                                      std::string_view end) {
  if (m_access == Access::read_only || m_handles->secondary || handle == nullptr) {
    return {};
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;  // rewrite every level
  const rocksdb::Slice from = slice(begin);
  const rocksdb::Slice to = slice(end);
  return checked(
      m_handles->db->CompactRange(options, handle, begin.empty() ? nullptr : &from, end.empty() ? nullptr : &to),
      "compact", m_dir);
}

std::uint64_t Database::estimate_keys(Family which) const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->estimate_keys(which);
  }
  std::uint64_t keys = 0;
  if (rocksdb::ColumnFamilyHandle* handle = family(which)) {
    m_handles->db->GetIntProperty(handle, rocksdb::DB::Properties::kEstimateNumKeys, &keys);
  }
  return keys;
}

Result<void> Database::verify_files() const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->verify_files();
  }
  return checked(m_handles->db->VerifyChecksum(), "verify", m_dir);
}

Result<void> Database::sync() {
  if (Database* writer = m_writer.load(std::memory_order_acquire)) {
    return writer->sync();
  }
  if (m_access == Access::read_only || m_handles->secondary || m_handles->reading) {
    return {};  // a reading primary wrote nothing but bookkeeping units (not synced on purpose)
  }
  return sync_logs(m_dir);
}

Result<void> repair_database(const fs::path& dir) {
  if (auto safe = check_store_directory(dir, fs::perms::owner_all); !safe) {
    return safe;
  }
  if (!fs::exists(dir / "CURRENT")) {
    return Failure{ErrorCode::format, fmt::format("{} is not a RocksDB store (no CURRENT file): nothing to repair", dir)};
  }
  // Another program's database is never rebuilt: checked before when it
  // opens, and after (before anything is copied or replaced) when it did not.
  if (auto known = has_format_record_read_only(database_options(dir), dir); !known) {
    return known;
  }
  const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, k_entries_family, k_meta_family,
                                          k_stats_family};
  const auto descriptors = family_descriptors(names, DatabaseOptions{}, nullptr, nullptr);
  if (auto repaired = checked(rocksdb::RepairDB(dir.string(), database_options(dir), descriptors), "repair", dir);
      !repaired) {
    return repaired;
  }
  return has_format_record_read_only(database_options(dir), dir);
}

}  // namespace memostore::detail
