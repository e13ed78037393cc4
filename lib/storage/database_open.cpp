// Opening a store: Database::open (which waits briefly for a store another
// process is creating) and one attempt at it, open_once, in named steps. An
// attempt checks the directory, lists the column families, opens RocksDB the
// way the access and the directory's lock call for (read-only; a primary
// that reads first; a primary for writing; a secondary of another process),
// checks the format record, and starts the worker. Each step keeps what it
// found in an Opening for the next.
#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "storage/database.hpp"
#include "storage/database_files.hpp"
#include "storage/database_format.hpp"
#include "storage/database_handles.hpp"
#include "storage/rocksdb_options.hpp"
#include "storage/warning_log.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

namespace {

std::mutex g_test_file_system_mutex;
std::shared_ptr<rocksdb::FileSystem> g_test_file_system;  // guarded by g_test_file_system_mutex

bool has_family(const std::vector<std::string>& names, const char* name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

/// One attempt at opening a store: what each step of open_once found, for the next.
struct Database::Opening {
  Opening(const fs::path& dir, const DatabaseOptions& options, std::unique_ptr<DirectoryLock>& lock);

  /// The families to open: those the store has, and for a read-write open
  /// the meta and stats families that stores written before them lack.
  Result<void> list_families();
  /// Opens as primary (for reading first, or for writing), or notes in
  /// `share` that another process holds the directory.
  Result<void> open_read_write();
  /// The read-only open of a primary that reads first; keeps it (`reading`)
  /// if the store needs nothing written at its open.
  Result<void> open_for_reading_first();
  Result<void> open_for_writing();
  Result<void> open_shared();
  /// Only a store this open creates may lack the format record: in any other,
  /// it is another program's database or one still being created.
  Result<void> check_format_record();
  /// Hands the open instance to `handles`; returns whether it is writable.
  bool adopt_instance();
  /// Cleans up after processes that crashed, applies what others handed
  /// over and starts the worker.
  Result<void> start(Database& database, bool writable);

  const fs::path& dir;
  const DatabaseOptions& options;
  std::unique_ptr<DirectoryLock>& lock;  // moved into the handles of a primary
  std::unique_ptr<Handles> handles = std::make_unique<Handles>();
  rocksdb::DBOptions db_options;
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, k_entries_family};
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  bool existed = false;           // the store had a CURRENT file
  bool has_every_family = false;  // it had the meta and stats families
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  bool share = false;           // another process holds the directory: open as a secondary
  bool format_checked = false;  // the format record was seen in this attempt
};

Database::Opening::Opening(const fs::path& dir, const DatabaseOptions& options, std::unique_ptr<DirectoryLock>& lock)
    : dir(dir), options(options), lock(lock), db_options(database_options(dir)) {
  if (options.access == Access::read_only) {
    db_options.info_log = forwarding_log(dir);  // a read-only open writes nothing there, not even DIR/LOG
  }
  {
    std::lock_guard test_lock(g_test_file_system_mutex);
    if (g_test_file_system) {
      handles->env = rocksdb::NewCompositeEnv(g_test_file_system);
      db_options.env = handles->env.get();
    }
  }
  if (options.entry_expired) {
    handles->entry_filter = std::make_unique<ExpiryFilter>(options.entry_expired, "memostore.ExpiredEntries");
  }
  if (options.meta_expired) {
    handles->meta_filter = std::make_unique<ExpiryFilter>(options.meta_expired, "memostore.ExpiredMeta");
  }
}

Result<void> Database::Opening::list_families() {
  existed = fs::exists(dir / "CURRENT");
  if (existed) {
    const rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir.string(), &names);
    if (!listed.ok()) {
      return failure_from(listed, "open the store", dir);
    }
    if (!has_family(names, k_entries_family)) {
      return Failure{ErrorCode::format,
                     fmt::format("{} holds a RocksDB database without memostore's \"entries\" column family: "
                                 "either it is not a memostore store (use another directory), or its MANIFEST "
                                 "file is damaged (`memostore --dir {} repair` rebuilds it)",
                                 dir, dir.string())};
    }
  }
  // Stores written before the meta and stats families existed gain them on a
  // read-write open; a read-only open works without them.
  has_every_family = has_family(names, k_meta_family) && has_family(names, k_stats_family);
  for (const char* added : {k_meta_family, k_stats_family}) {
    if (options.access == Access::read_write && !has_family(names, added)) {
      names.emplace_back(added);
    }
  }
  descriptors = family_descriptors(names, options, handles->entry_filter.get(), handles->meta_filter.get());
  return {};
}

Result<void> Database::Opening::open_read_write() {
  if (!lock) {
    lock = DirectoryLock::try_take(dir);
  }
  share = !lock;  // another process holds the directory (or this one, through another Database)
  if (share && !options.share_when_locked) {
    return store_in_use(dir, "open for writing");
  }
  if (!share && options.read_first && has_every_family && reading_is_enough(dir, handles->units_at_open)) {
    if (auto opened = open_for_reading_first(); !opened) {
      return opened;
    }
  }
  if (!share && !handles->reading) {
    if (auto opened = open_for_writing(); !opened) {
      return opened;
    }
  }
  if (share) {
    lock.reset();
  }
  return {};
}

Result<void> Database::Opening::open_for_reading_first() {
  status = rocksdb::DB::OpenForReadOnly(db_options, dir.string(), descriptors, &handles->families, &raw);
  if (auto known = status.ok() ? has_format_record(*raw, dir) : Result<void>(); !known) {
    close_instance(raw, handles->families);
    return known.failure();
  }
  format_checked = status.ok();
  handles->reading = status.ok() && needs_no_write(*raw, handles->families);
  if (status.ok() && !handles->reading) {
    close_instance(raw, handles->families);
    raw = nullptr;
  }
  return {};
}

Result<void> Database::Opening::open_for_writing() {
  if (existed && !format_checked && !options.format_seen) {
    // Checked before a read-write open, which would add column families
    // to a database of another program and compact it with memostore's filters.
    if (auto known = has_format_record_read_only(db_options, dir); !known) {
      return known.failure();
    }
  }
  // Replay what earlier processes left in their logs into memory, unless
  // killed processes (whose close never flushed) left too much.
  db_options.avoid_flush_during_recovery = !too_much_to_replay(write_ahead_logs(dir));
  status = rocksdb::DB::Open(db_options, dir.string(), descriptors, &handles->families, &raw);
  // A process that takes RocksDB's lock alone (an older memostore) was quicker.
  share = is_lock_failure(status) && options.share_when_locked;
  return {};
}

Result<void> Database::Opening::open_shared() {
  handles->families.clear();
  if (auto opened = open_secondary(dir, db_options, options, *handles, names, &raw); !opened) {
    return opened.failure();
  }
  status = rocksdb::Status::OK();
  handles->reader_options = db_options;
  handles->reader_options.create_if_missing = false;
  handles->reader_families =
      family_descriptors({rocksdb::kDefaultColumnFamilyName, k_entries_family}, options, nullptr, nullptr);
  return {};
}

Result<void> Database::Opening::check_format_record() {
  const bool creating = !existed && options.access == Access::read_write && !share;
  if (auto known = creating || format_checked ? Result<void>() : has_format_record(*raw, dir); !known) {
    close_instance(raw, handles->families);
    if (share) {
      remove_secondary_log_dir(dir, handles->secondary_path);
    }
    return known.failure();
  }
  return {};
}

bool Database::Opening::adopt_instance() {
  handles->db.reset(raw);
  handles->options = options;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == k_entries_family) {
      handles->entries = handles->families[i];
    } else if (names[i] == k_meta_family) {
      handles->meta = handles->families[i];
    } else if (names[i] == k_stats_family) {
      handles->stats = handles->families[i];
    }
  }
  handles->caches = caches_of(*handles->db, handles->entries);
  if (handles->reading) {
    // The instance for writing reads through the same caches: memory stays as configured.
    handles->options.caches = std::static_pointer_cast<const EntryCaches>(handles->caches);
  }
  const bool writable = options.access == Access::read_write && !handles->secondary && !handles->reading;
  if (writable && only_in_memory(*handles->db, handles->families)) {
    // A new store whose first process was killed before its close flushed:
    // give every family a table now, for `repair` (see ~Database).
    rocksdb::FlushOptions flush;
    flush.wait = true;
    handles->db->Flush(flush, handles->families).PermitUncheckedError();
  }
  if (writable || handles->reading) {
    handles->lock = std::move(lock);
  }
  return writable;
}

Result<void> Database::Opening::start(Database& database, bool writable) {
  if (writable) {
    remove_abandoned_files(dir);
    // Markers of units applied just before a crash; their files are gone or about to be reapplied.
    if (auto applied = database.apply_units(); !applied) {
      return applied.failure();
    }
    auto* db = database.m_handles->db.get();
    db->DeleteRange(rocksdb::WriteOptions(), db->DefaultColumnFamily(), slice(k_applied_prefix),
                    prefix_end(k_applied_prefix))
        .PermitUncheckedError();
  }
  if (options.access == Access::read_write) {
    Database* worker_of = &database;
    database.m_handles->worker = std::thread([worker_of] { worker_of->run_worker(); });
  }
  return {};
}

Result<std::unique_ptr<Database>> Database::open_once(const fs::path& dir, const DatabaseOptions& options,
                                                      std::unique_ptr<DirectoryLock>& lock) {
  if (auto prepared = prepare_directory(dir, options.access, options.directory_permissions); !prepared) {
    return prepared.failure();
  }
  Opening opening(dir, options, lock);
  if (auto listed = opening.list_families(); !listed) {
    return listed.failure();
  }
  if (options.access == Access::read_only) {
    opening.status = rocksdb::DB::OpenForReadOnly(opening.db_options, dir.string(), opening.descriptors,
                                                  &opening.handles->families, &opening.raw);
  } else if (auto opened = opening.open_read_write(); !opened) {
    return opened.failure();
  }
  if (opening.share) {
    if (auto opened = opening.open_shared(); !opened) {
      return opened.failure();
    }
  }
  if (!opening.status.ok()) {
    return failure_from(opening.status, "open the store", dir);
  }
  if (auto known = opening.check_format_record(); !known) {
    return known.failure();
  }
  const bool writable = opening.adopt_instance();
  // Made before the rest, so that a failure below closes it as ~Database does.
  auto database = std::unique_ptr<Database>(new Database(dir, options.access, std::move(opening.handles)));
  const auto& h = *database->m_handles;
  if (auto format = settle_format(*h.db, dir, h.secondary, writable); !format) {
    return format.failure();
  }
  if (auto started = opening.start(*database, writable); !started) {
    return started.failure();
  }
  return database;
}

Result<std::unique_ptr<Database>> Database::open(const fs::path& dir, const DatabaseOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + k_creation_wait;
  for (;;) {
    std::unique_ptr<DirectoryLock> no_lock;
    auto database = open_once(dir, options, no_lock);
    if (database) {
      return database;
    }
    // A store another process is creating right now looks unfinished (no
    // CURRENT file, column families or format record yet) while that
    // process holds the directory's lock: wait for it, briefly.
    const Failure& failure = database.failure();
    std::error_code ec;
    const bool unfinished =
        (failure.code == ErrorCode::format && !of_other_format(failure)) || !fs::exists(dir / "CURRENT", ec);
    // A reader's open lists the files of a store its holder is still
    // setting up (RocksDB writes a new OPTIONS file and deletes the old one
    // as it adds column families): a file it listed can vanish before it
    // reads it. Against a live holder, an I/O error is tried again too.
    const bool files_moving = failure.code == ErrorCode::io;
    const auto creator = unfinished || files_moving ? lock_holder(dir) : std::nullopt;
    if (!creator) {
      return database;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return being_created(dir, *creator);
    }
    std::this_thread::sleep_for(k_secondary_open_pause);
  }
}

Database::Database(fs::path dir, Access access, std::unique_ptr<Handles> handles)
    : m_dir(std::move(dir)), m_access(access), m_handles(std::move(handles)) {}

void set_file_system_for_testing(std::shared_ptr<rocksdb::FileSystem> file_system) {
  std::lock_guard lock(g_test_file_system_mutex);
  g_test_file_system = std::move(file_system);
}

}  // namespace memostore::detail
