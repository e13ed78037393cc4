// Database: the cache directory's RocksDB instance. The only code that
// includes RocksDB headers lives in lib/storage.
//
// Column families: "default" holds store records (the format version),
// "entries" key -> envelope, "meta" per-entry bookkeeping (size, times) and
// "stats" persistent counters (8-byte little-endian, added up by RocksDB's
// uint64add merge operator). Safe to use from many threads.
//
// Several processes may open one directory for writing. The first holds
// RocksDB's lock and is the primary; the others become secondaries: they read
// through a RocksDB secondary instance that catches up with the primary every
// k_catch_up_interval, and write hand-over units (storage/handover.hpp) that
// the primary applies within the same interval. A secondary reads its own
// writes at once (they are kept in memory until the primary has applied them
// and the secondary has caught up); others' writes become visible within
// about two intervals. When the primary goes, a secondary takes the lock with
// a second instance that applies the units from then on.
//
// A primary opens a store that needs nothing written at its open for reading
// only (RocksDB's read-write open costs a new MANIFEST, log and OPTIONS file,
// each synced: most of a short process's time), and opens it for writing at
// its first write. A process that only hit hands its access times and
// counters over as a bookkeeping unit at close (write_bookkeeping), which the
// next process that writes applies. See docs/design.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/detail/function_ref.hpp>

#include "storage/batch.hpp"
#include "storage/database_options.hpp"
#include "storage/held_value.hpp"
#include "storage/snapshot.hpp"
#include "util/result.hpp"

namespace rocksdb {
struct DBOptions;
class DB;
class ColumnFamilyHandle;
class FileSystem;
class PinnableSlice;
struct ReadOptions;
}  // namespace rocksdb

namespace memostore::detail {

class DirectoryLock;
struct EntriesReader;

class Database {
 public:
  /// Opens or creates the store in `dir`. Failures name the directory, the
  /// cause and what to do.
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& dir, const DatabaseOptions& options);

  /// Applies what other processes handed over and closes. Leaves this
  /// process's writes in the write-ahead log (synced) for the next open to
  /// replay, unless several logs or more than a little have gathered, or a
  /// family has records but no table yet: then flushes.
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Calls `use` with the value stored under `key`, valid only during the
  /// call (pinned, not copied). Returns false when there is no such key.
  Result<bool> get(Family family, std::string_view key, FunctionRef<void(std::string_view value)> use,
                   const Snapshot* at = nullptr) const;

  /// The capacity of the cache that large values are read into (DatabaseOptions).
  std::uint64_t blob_cache_bytes() const noexcept;

  /// Like get(), and `use` may keep the value past the call (ReadValue::hold).
  Result<bool> get_holdable(Family family, std::string_view key, FunctionRef<void(ReadValue& value)> use) const;

  /// Stores `value` under `key`; on return it is in the write-ahead log.
  Result<void> put(Family family, std::string_view key, std::string_view value);

  Result<void> remove(Family family, std::string_view key);

  /// Applies every write of `batch` atomically.
  Result<void> write(Batch& batch);

  /// Like write(), for bookkeeping that may wait (access times and counters
  /// at close): a primary that has only read so far writes it as a
  /// bookkeeping unit, for the next process that writes to apply, rather than
  /// open the store for writing. Other readers see it once it is applied.
  Result<void> write_bookkeeping(Batch& batch);

  /// How many writes of this process so far removed or may have replaced an
  /// entry (Family::entries), counted after each such write is applied. A copy
  /// of an entry read while this was N is current as long as it is still N.
  /// Writes of other processes are not counted.
  std::uint64_t entry_changes() const noexcept {
    const Database* writer = m_writer.load(std::memory_order_acquire);
    return m_entry_changes.load() + (writer != nullptr ? writer->entry_changes() : 0);
  }

  /// Removes every key of each of `families` that starts with `prefix` (a
  /// range tombstone each, in one batch); an empty prefix removes everything.
  Result<void> remove_prefix(std::initializer_list<Family> families, std::string_view prefix);

  /// Calls `visit` for each record of `family` whose key starts with
  /// `prefix`, in key order, until it returns false. Views are valid only
  /// during the call.
  Result<void> for_each(Family family, std::string_view prefix,
                        FunctionRef<bool(std::string_view key, std::string_view value)> visit,
                        const Snapshot* at = nullptr) const;

  std::unique_ptr<Snapshot> snapshot() const;

  /// Compacts every family fully: drops expired and deleted records from the
  /// files and reclaims their space. Slow; for maintenance and tests.
  Result<void> compact();

  /// Compacts the keys of `family` in [begin, end) fully (an empty `end`:
  /// to the last key). For compaction in steps that can report progress.
  Result<void> compact_range(Family family, std::string_view begin, std::string_view end);

  /// Compacts the store's records (the format version) and the bookkeeping families.
  Result<void> compact_bookkeeping();

  /// RocksDB's estimate of the number of keys in `family`.
  std::uint64_t estimate_keys(Family family) const;

  /// Reads every table and blob file and checks its block checksums; the
  /// failure names the damaged file.
  Result<void> verify_files() const;

  /// fsyncs the write-ahead log (a secondary's writes are durable already).
  Result<void> sync();

  /// Makes other processes' writes visible now rather than within
  /// k_catch_up_interval: a primary applies the waiting hand-over units
  /// (bookkeeping units too: a primary that has only read opens for writing
  /// if any wait), a secondary catches up with the primary.
  Result<void> catch_up();

  /// In a process that shares the directory with its holder (a secondary):
  /// waits until the holder applied every hand-over unit this process wrote
  /// (its worker does within about k_catch_up_interval), at most `limit`,
  /// then catches up. True if they were (at once where there is nothing to
  /// wait for); false if `limit` passed first (they stay and are applied later).
  Result<bool> wait_until_applied(std::chrono::milliseconds limit);

  const std::filesystem::path& dir() const noexcept { return m_dir; }
  bool read_only() const noexcept { return m_access == Access::read_only; }
  /// True when another process holds the directory and this one writes through hand-over units.
  bool secondary() const noexcept;
  /// True for a primary that has not opened the store for writing yet.
  bool reading() const noexcept;

 private:
  friend class Batch;
  struct Handles;
  struct Opening;  // the steps of open_once (database_open.cpp)
  Result<void> apply_units();
  void run_worker();
  rocksdb::ColumnFamilyHandle* family(Family family) const noexcept;
  /// Reads `key` into `value` (this process's own writes first, in a
  /// secondary). In a secondary, the entries family is read through `reader`,
  /// which the caller keeps until it is done with `value`.
  Result<bool> read(Family family, std::string_view key, const Snapshot* at, rocksdb::PinnableSlice& value,
                    std::shared_ptr<const EntriesReader>& reader) const;
  /// A secondary's read-only instance for the entries family, current with
  /// this process's view of the store (see EntriesReader).
  Result<std::shared_ptr<const EntriesReader>> entries_reader() const;
  /// In a secondary, points a read of the entries family (`db`, `handle`,
  /// `read`) at its EntriesReader, which `reader` keeps alive; else leaves it.
  Result<void> route_to_reader(Family family, rocksdb::DB*& db, rocksdb::ColumnFamilyHandle*& handle,
                               rocksdb::ReadOptions& read, std::shared_ptr<const EntriesReader>& reader) const;
  /// Compacts [begin, end) of one family fully; empty bounds are open.
  Result<void> compact_handle(rocksdb::ColumnFamilyHandle* handle, std::string_view begin, std::string_view end);
  Database(std::filesystem::path dir, Access access, std::unique_ptr<Handles> handles);
  /// `lock`: the directory's lock, if the caller holds it already; moved into
  /// the result when it opens as primary.
  static Result<std::unique_ptr<Database>> open_once(const std::filesystem::path& dir, const DatabaseOptions& options,
                                                     std::unique_ptr<DirectoryLock>& lock);
  /// A primary that has only read: the instance open for writing, opened now
  /// if it is not yet (applying what waits in the hand-over folder). Else this.
  Result<Database*> writing();
  /// Where a read goes: the instance open for writing once there is one,
  /// except for a read at a snapshot of this instance. Null: this one.
  const Database* read_elsewhere(const Snapshot* at) const noexcept;
  static Result<void> open_secondary(const std::filesystem::path& dir, const rocksdb::DBOptions& db_options,
                                     const DatabaseOptions& options, Handles& handles, std::vector<std::string>& names,
                                     rocksdb::DB** raw);
  void close_secondary();
  void take_over_applying();
  /// A second instance of this directory as primary (the lock must be free).
  Result<std::unique_ptr<Database>> open_as_primary() const;

  std::filesystem::path m_dir;
  Access m_access;
  std::unique_ptr<Handles> m_handles;
  std::atomic<std::uint64_t> m_entry_changes{0};
  std::atomic<Database*> m_writer{nullptr};  // a reading primary's instance for writing, once opened
};

/// The error for an operation that needs `dir` to itself while another
/// process has it open; names that process.
Failure store_in_use(const std::filesystem::path& dir, std::string_view doing);

/// Rebuilds the store in `dir` from the table files it still has (RocksDB's
/// RepairDB) when it cannot be opened, e.g. after its MANIFEST was damaged.
/// What was only in a damaged file is lost. Requires: no process has it open.
Result<void> repair_database(const std::filesystem::path& dir);

/// Test hook: the file system the next opened Databases use (nullptr: the
/// real one). Lets tests inject write failures below RocksDB.
void set_file_system_for_testing(std::shared_ptr<rocksdb::FileSystem> file_system);

}  // namespace memostore::detail
