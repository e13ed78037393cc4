// Batch: writes to a Database applied together or not at all
// (Database::write), and whether they may replace an entry that readers keep
// in memory. Included by database.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "storage/database_options.hpp"

namespace rocksdb {
class WriteBatch;
}  // namespace rocksdb

namespace memostore::detail {

class Database;

/// Whether a put into Family::entries may replace an entry that readers keep
/// in memory (the hot tier): `maybe` makes the write invalidate them.
enum class Overwrites { maybe, no };

/// Writes applied together or not at all (Database::write). Copies what it is given.
class Batch {
 public:
  explicit Batch(const Database& database);
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  /// `overwrites`: whether `key` may already hold an entry (Family::entries only).
  void put(Family family, std::string_view key, std::string_view value, Overwrites overwrites = Overwrites::maybe);
  void remove(Family family, std::string_view key);
  /// Adds `delta` (negative to decrease) to a counter: any key of
  /// Family::stats, or a hit-count record of Family::meta.
  void add(Family family, std::string_view counter, std::int64_t delta);
  void add(std::string_view counter, std::int64_t delta) { add(Family::stats, counter, delta); }
  /// Removes the keys of `family` in [begin, end).
  void remove_range(Family family, std::string_view begin, std::string_view end);
  bool empty() const noexcept { return m_count == 0; }

 private:
  friend class Database;
  const Database* m_database;
  std::unique_ptr<rocksdb::WriteBatch> m_batch;
  std::size_t m_count = 0;
  bool m_changes_entries = false;  // removes or may replace an entry
};

}  // namespace memostore::detail
