// What a Database holds, shared by the database_*.cpp files that implement
// it (opening, closing, reads, writes, maintenance, and sharing one directory
// between processes). Internal to lib/storage.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include "storage/database.hpp"
#include "storage/database_families.hpp"
#include "storage/database_status.hpp"
#include "storage/handover.hpp"
#include "storage/lock_holder.hpp"
#include "storage/own_writes.hpp"

namespace memostore::detail {

inline constexpr const char* k_entries_family = "entries";
inline constexpr const char* k_meta_family = "meta";
inline constexpr const char* k_stats_family = "stats";
// A hand-over unit being applied is marked in the same write batch, so one
// applied again after a crash (before its file was deleted) is recognised and
// its counter additions are not counted twice.
inline constexpr std::string_view k_applied_prefix = "memostore.applied/";
// How long a process that finds the store locked keeps trying to open it as
// a secondary while the primary is still creating it.
inline constexpr int k_secondary_open_attempts = 100;
inline constexpr std::chrono::milliseconds k_secondary_open_pause{20};
// How long an open waits for a store another process is creating (it holds
// the lock, and the store has no CURRENT file, column families or format
// record yet) before reporting it as being created.
inline constexpr std::chrono::seconds k_creation_wait{2};
// RocksDB's write-batch encoding starts with a sequence number and a count.
inline constexpr std::size_t k_write_batch_header_size = 12;

inline rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
inline std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

/// The smallest key greater than every key starting with `prefix`; empty when
/// there is none (an empty prefix, or one of only 0xff bytes).
std::string prefix_end(std::string_view prefix);

/// Applies `batch` (see database_writes.cpp for the ThreadSanitizer case).
rocksdb::Status write_batch(rocksdb::DB& db, const rocksdb::WriteOptions& options, rocksdb::WriteBatch& batch);

/// In a secondary, the entries family is read through a read-only instance:
/// RocksDB 7.8's secondary instances compute blob cache keys from a dangling
/// reference to their database id, and crashed reading blob files (see
/// docs/design.md). Reopened when a catch-up has moved what this process sees.
struct EntriesReader {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;  // destroyed before db
  rocksdb::ColumnFamilyHandle* entries = nullptr;
  std::shared_ptr<const void> caches;  // its block and blob caches, kept alive by held values
  std::uint64_t generation = 0;        // Database::entry_changes() when it was opened
  EntriesReader() = default;
  EntriesReader(const EntriesReader&) = delete;
  EntriesReader& operator=(const EntriesReader&) = delete;
  ~EntriesReader() {
    for (auto* family : families) {
      db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
    }
  }
};

struct Database::Handles {
  std::unique_ptr<rocksdb::Env> env;           // only with a test file system; outlives db
  std::unique_ptr<ExpiryFilter> entry_filter;  // outlive db
  std::unique_ptr<ExpiryFilter> meta_filter;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::ColumnFamilyHandle* entries = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;   // null only in an older store opened read-only
  rocksdb::ColumnFamilyHandle* stats = nullptr;  // likewise
  std::shared_ptr<const void> caches;  // the block and blob caches, kept alive by held values
  rocksdb::ReadOptions read_options;
  rocksdb::WriteOptions write_options;
  DatabaseOptions options;  // as opened: a secondary reopens as primary at close to apply what is left
  std::unique_ptr<DirectoryLock> lock;  // a primary's; released after db is closed

  // A primary that has only read (db is a read-only instance) until `writer` opens.
  bool reading = false;
  std::size_t units_at_open = 0;             // hand-over units waiting when it opened
  std::atomic<std::size_t> handed_over{0};   // bookkeeping units it wrote since
  std::mutex writer_mutex;
  std::unique_ptr<Database> writer;  // guarded by writer_mutex; holds `lock` once opened

  // Sharing the directory with other processes (see database.hpp).
  bool secondary = false;
  std::filesystem::path secondary_path;  // the secondary instance's own log folder
  UnitNamer unit_names;
  std::atomic<std::uint64_t> next_unit{0};
  OwnWrites own_writes;
  std::mutex apply_mutex;  // the worker and catch_up() both apply units
  std::mutex worker_mutex;
  std::condition_variable wake;
  bool stopping = false;  // guarded by worker_mutex
  std::thread worker;     // primary: applies units; secondary: catches up
  // A secondary whose primary has gone takes the lock with a second instance
  // that applies everyone's units; reads stay on the secondary instance.
  std::unique_ptr<Database> applier;  // guarded by apply_mutex
  rocksdb::DBOptions reader_options;  // a secondary's EntriesReader: how it opens
  std::vector<rocksdb::ColumnFamilyDescriptor> reader_families;
  std::mutex reader_mutex;
  std::shared_ptr<const EntriesReader> reader;  // guarded by reader_mutex
};

}  // namespace memostore::detail
