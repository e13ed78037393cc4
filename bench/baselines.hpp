// What memostore is measured against, each behind the same three calls:
// get(key) -> optional value, put(key, value), and a name. Values are encoded
// with cereal (PortableBinary, as a user would) except where noted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;
namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace bench {

/// cereal PortableBinary encoding of a value, as a user would write it.
template <class T>
std::string cereal_encode(const T& value);
template <class T>
T cereal_decode(const std::string& bytes);
template <class T>
T cereal_decode(const char* data, std::size_t size);

/// The key a hand-written memoizer would use: function name + encoded argument.
std::string raw_key(const std::string& function, int argument);

/// Whether RawRocksDb also opens a bookkeeping family like memostore's `meta`.
enum class Bookkeeping { none, meta_family };

/// RocksDB with the same options memostore uses; Get + cereal decode.
class RawRocksDb {
 public:
  explicit RawRocksDb(const std::filesystem::path& dir, Bookkeeping bookkeeping = Bookkeeping::none);
  ~RawRocksDb();
  /// Calls `decode(data, size)` on the pinned value; false on a miss.
  template <class Decode>
  bool get(const std::string& key, Decode&& decode);
  void put(const std::string& key, const std::string& value);
  /// Writes `value` under `key` and, in the same batch, a 24-byte record
  /// under `key` + 'i' in the bookkeeping family: the two records a memostore
  /// store writes. Requires Bookkeeping::meta_family.
  void put_with_info(const std::string& key, const std::string& value);

 private:
  bool get_pinned(const std::string& key, void* pinnable);
  std::unique_ptr<rocksdb::DB> m_db;
  std::vector<rocksdb::ColumnFamilyHandle*> m_families;
};

/// SQLite, one table, WAL mode, synchronous=NORMAL; prepared statements.
class SqliteStore {
 public:
  explicit SqliteStore(const std::filesystem::path& file);
  ~SqliteStore();
  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, const std::string& value);

 private:
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_select = nullptr;
  sqlite3_stmt* m_insert = nullptr;
};

/// One cereal file per entry, written to a temporary name and renamed: what a
/// C++ user hand-rolls.
class FileStore {
 public:
  explicit FileStore(std::filesystem::path dir);
  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, const std::string& value);

 private:
  std::filesystem::path path_of(const std::string& key) const;
  std::filesystem::path m_dir;
};

}  // namespace bench

#include "baselines_inline.hpp"
