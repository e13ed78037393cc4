// Database: the cache directory's RocksDB instance. The only code that
// includes RocksDB headers lives in lib/storage.
//
// Column families: "default" holds store records (the format version),
// "entries" holds key -> envelope. Safe to use from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <memostore/detail/function_ref.hpp>

#include "util/result.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class FileSystem;
}  // namespace rocksdb

namespace memostore::detail {

enum class Access { read_write, read_only };

struct DatabaseOptions {
  Access access = Access::read_write;
  std::uint64_t block_cache_bytes = std::uint64_t{64} << 20;
  std::uint64_t blob_cache_bytes = std::uint64_t{256} << 20;
};

class Database {
 public:
  /// Opens or creates the store in `dir`. Failures name the directory, the
  /// cause and what to do.
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& dir, const DatabaseOptions& options);

  /// Flushes the in-memory table (so the next open does not replay the log) and closes.
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Calls `use` with the value stored under `key`, valid only during the
  /// call (pinned, not copied). Returns false when there is no such key.
  Result<bool> get(std::string_view key, FunctionRef<void(std::string_view value)> use) const;

  /// Stores `value` under `key`; on return it is in the write-ahead log.
  Result<void> put(std::string_view key, std::string_view value);

  Result<void> remove(std::string_view key);

  /// Removes every key that starts with `prefix` (one range tombstone).
  Result<void> remove_prefix(std::string_view prefix);

  /// Removes every entry.
  Result<void> remove_all();

  /// Calls `visit` for each entry whose key starts with `prefix`, in key
  /// order, until it returns false. Views are valid only during the call.
  Result<void> for_each(std::string_view prefix,
                        FunctionRef<bool(std::string_view key, std::string_view value)> visit) const;

  /// fsyncs the write-ahead log.
  Result<void> sync();

  const std::filesystem::path& dir() const noexcept { return m_dir; }
  bool read_only() const noexcept { return m_access == Access::read_only; }

 private:
  struct Handles;
  Database(std::filesystem::path dir, Access access, std::unique_ptr<Handles> handles);

  std::filesystem::path m_dir;
  Access m_access;
  std::unique_ptr<Handles> m_handles;
};

/// Test hook: the file system the next opened Databases use (nullptr: the
/// real one). Lets tests inject write failures below RocksDB.
void set_file_system_for_testing(std::shared_ptr<rocksdb::FileSystem> file_system);

}  // namespace memostore::detail
