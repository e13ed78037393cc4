// The format record: how an open tells a memostore store from another
// program's RocksDB database (which it must leave alone: no column families
// added, no compaction with memostore's filters) and from a store of another
// format version, and how a read-write open writes or upgrades the version.
#include "storage/database_format.hpp"

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/database_families.hpp"
#include "storage/database_handles.hpp"
#include "storage/database_status.hpp"
#include "storage/rocksdb_options.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_format_key = "memostore.format";
// Format 2 added per-entry hit counts (merge records in "meta"), format 3
// envelopes that hold a digest of large arguments (flag 0x02), format 4
// envelopes that hold their result's digest (flag 0x04). Older stores are
// upgraded by writing "4" on their next read-write open: their records all
// read as they are. A build that knows only an older format refuses a
// newer store rather than misread merge records or delete, as damaged,
// entries whose flag it does not know.
constexpr std::string_view k_format_version = "4";
bool upgradable_format(std::string_view format) { return format == "1" || format == "2" || format == "3"; }
// In the error for a store of another format version: a finished store,
// not one being created.
constexpr std::string_view k_other_format = "this build reads format";

}  // namespace

Result<void> has_format_record(rocksdb::DB& db, const fs::path& dir) {
  std::string format;
  const rocksdb::Status read = db.Get(rocksdb::ReadOptions(), slice(k_format_key), &format);
  if (read.IsNotFound()) {
    return Failure{ErrorCode::format,
                   fmt::format("{} is not a memostore store: it holds a RocksDB database without memostore's "
                               "format record (\"{}\" in its default column family), so memostore leaves it "
                               "alone. Use another directory. (If memostore's own creation of this store was "
                               "interrupted, delete it: it is only a cache)",
                               dir, k_format_key)};
  }
  return checked(read, "read the format of the store", dir);
}

Result<void> has_format_record_read_only(const rocksdb::DBOptions& db_options, const fs::path& dir) {
  rocksdb::DBOptions options = db_options;
  options.create_if_missing = false;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status status = rocksdb::DB::OpenForReadOnly(
      options, dir.string(), {rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName, bookkeeping_options())},
      &families, &raw);
  if (!status.ok()) {
    return {};  // the read-write open reports why it cannot open the store
  }
  auto known = has_format_record(*raw, dir);
  close_instance(raw, families);
  return known;
}

bool needs_no_write(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  std::string format;
  return db.Get(rocksdb::ReadOptions(), slice(k_format_key), &format).ok() && format == k_format_version &&
         !only_in_memory(db, families);
}

Result<void> settle_format(rocksdb::DB& db, const fs::path& dir, bool secondary, bool writable) {
  std::string format;
  const rocksdb::Status read = db.Get(rocksdb::ReadOptions(), slice(k_format_key), &format);
  const bool upgrade = read.ok() && upgradable_format(format);
  if (secondary && (read.IsNotFound() || upgrade)) {
    // The primary writes the format (or upgrades it) at its open.
  } else if ((read.IsNotFound() || upgrade) && writable) {
    const rocksdb::Status written = db.Put(rocksdb::WriteOptions(), slice(k_format_key), slice(k_format_version));
    if (!written.ok()) {
      return failure_from(written, "initialize the store", dir);
    }
  } else if (!read.ok() && !read.IsNotFound()) {
    return failure_from(read, "read the format of the store", dir);
  } else if (read.ok() && format != k_format_version && !upgrade) {
    return Failure{ErrorCode::format,
                   fmt::format("{} uses memostore store format {}, {} {}. Use another "
                               "directory, or the memostore version that wrote it",
                               dir, format, k_other_format, k_format_version)};
  }
  return {};
}

bool of_other_format(const Failure& failure) {
  return failure.code == ErrorCode::format && failure.message.find(k_other_format) != std::string::npos;
}

}  // namespace memostore::detail
