// Snapshot: a Database at one moment. Included by database.hpp.
#pragma once

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace memostore::detail {

class Database;

/// A consistent view of the database at one moment, for reads that must
/// agree with each other (a scan and the counters it corrects).
class Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  friend class Database;
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : m_db(db), m_snapshot(snapshot) {}
  rocksdb::DB* m_db;
  const rocksdb::Snapshot* m_snapshot;
};

}  // namespace memostore::detail
