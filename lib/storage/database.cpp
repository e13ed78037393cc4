#include "storage/database.hpp"
#include "storage/database_handles.hpp"

#include "storage/file_sync.hpp"
#include "storage/rocksdb_options.hpp"
#include "storage/handover.hpp"
#include "storage/lock_holder.hpp"
#include "storage/own_writes.hpp"
#include "storage/store_directory.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "util/endian.hpp"

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_format_key = "memostore.format";
// Format 2 added per-entry hit counts (merge records in "meta"), format 3
// envelopes that hold a digest of large arguments (flag 0x02). Older stores
// are upgraded by writing "3" on their next read-write open: their records
// all read as they are. A build that knows only an older format refuses a
// newer store rather than misread merge records or delete, as damaged,
// entries whose flag it does not know.
constexpr std::string_view k_format_version = "3";
bool upgradable_format(std::string_view format) { return format == "1" || format == "2"; }
// In the error for a store of another format version: a finished store,
// not one being created.
constexpr std::string_view k_other_format = "this build reads format";
/// A close leaves at most this much in write-ahead logs for the next open to
/// replay: a process that only hit leaves a few hundred bytes of bookkeeping.
constexpr std::size_t k_logs_before_flush = 8;
constexpr std::uintmax_t k_log_bytes_before_flush = 1 << 20;

std::mutex g_test_file_system_mutex;
std::shared_ptr<rocksdb::FileSystem> g_test_file_system;  // guarded by g_test_file_system_mutex

std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

/// Drops records the store says have expired, during compaction. RocksDB
/// reads a blob-file value back before asking, so large entries expire too.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  ExpiryFilter(ExpiredFn expired, const char* name) : m_expired(std::move(expired)), m_name(name) {}

  Decision FilterV2(int /*level*/, const rocksdb::Slice& key, ValueType type, const rocksdb::Slice& value,
                    std::string* /*new_value*/, std::string* /*skip_until*/) const override {
    if (type != ValueType::kValue) {
      return Decision::kKeep;
    }
    return m_expired(view(key), view(value)) ? Decision::kRemove : Decision::kKeep;
  }
  const char* Name() const override { return m_name; }

 private:
  ExpiredFn m_expired;
  const char* m_name;
};

namespace {

std::shared_ptr<rocksdb::MergeOperator> uint64_add_operator() {
  std::shared_ptr<rocksdb::MergeOperator> add;
  rocksdb::ConfigOptions config;
  // RocksDB's own operator, found by its registered name; never fails for it.
  rocksdb::MergeOperator::CreateFromString(config, "uint64add", &add).PermitUncheckedError();
  return add;
}

bool is_lock_failure(const rocksdb::Status& status) {
  return status.IsIOError() && status.ToString().find("lock") != std::string::npos;
}

}  // namespace

namespace {

std::string describe(const std::optional<LockHolder>& holder) {
  return !holder                  ? "another process"
         : holder->command.empty() ? fmt::format("process {}", holder->pid)
                                   : fmt::format("process {} ({})", holder->pid, holder->command);
}

/// The error for a store that `creator` holds but has not finished making
/// within k_creation_wait.
Failure being_created(const fs::path& dir, const LockHolder& creator) {
  return Failure{ErrorCode::locked,
                 fmt::format("{} is being created by {}, which holds it and has not finished within {} s: try "
                             "again in a moment. (If that process is not a memostore program, the directory "
                             "belongs to another program: use another one)",
                             dir, describe(creator),
                             std::chrono::duration_cast<std::chrono::seconds>(k_creation_wait).count())};
}

}  // namespace

Failure store_in_use(const fs::path& dir, std::string_view doing) {
  const std::string who = describe(lock_holder(dir));
  return Failure{ErrorCode::locked, fmt::format("cannot {} {}: {} has it open, and this needs the store to itself: "
                                                "wait for it to finish. Reading works meanwhile (the memostore "
                                                "tool's read commands)",
                                                doing, dir, who)};
}

/// Applies `batch`. Under ThreadSanitizer, one write at a time: Debian's
/// RocksDB is not instrumented, and in its group commit one writer appends the
/// batches other threads queued to a buffer that successive leaders reuse,
/// synchronized by RocksDB's own mutex, which TSan cannot see. (The std::string
/// code doing it is instrumented, so TSan would report it as a race.)
rocksdb::Status write_batch(rocksdb::DB& db, const rocksdb::WriteOptions& options, rocksdb::WriteBatch& batch) {
#if defined(__SANITIZE_THREAD__)
  static std::mutex one_writer;
  std::lock_guard lock(one_writer);
#endif
  return db.Write(options, &batch);
}
Failure failure_from(const rocksdb::Status& status, std::string_view doing, const fs::path& dir) {
  const std::string cause = status.ToString();
  if (is_lock_failure(status)) {
    return store_in_use(dir, doing);
  }
  if (status.IsCorruption()) {
    return Failure{ErrorCode::corruption,
                   fmt::format("cannot {} {}: the store is damaged ({}). `memostore --dir {} verify` lists the "
                               "damage, `memostore --dir {} repair` rebuilds the store from its intact files; "
                               "or delete the directory: it is only a cache",
                               doing, dir, cause, dir.string(), dir.string())};
  }
  if (status.IsNoSpace()) {
    // RocksDB's text says "No space left on device"; ENOSPC is what people search for.
    return Failure{ErrorCode::io, fmt::format("cannot {} {}: the disk is full (ENOSPC: {}). Free space on that "
                                              "disk or move the store elsewhere; what was stored before is kept",
                                              doing, dir, cause)};
  }
  return Failure{ErrorCode::io, fmt::format("cannot {} {}: {}", doing, dir, cause)};
}

Result<void> checked(const rocksdb::Status& status, std::string_view doing, const fs::path& dir) {
  if (!status.ok()) {
    return failure_from(status, doing, dir);
  }
  return {};
}

namespace {

bool only_store_files(const fs::path& dir);

// Refuses directories that memostore must not write into or cannot read
// (see check_store_directory), and a directory that holds something else.
Result<void> prepare_directory(const fs::path& dir, Access access, fs::perms permissions) {
  if (auto checked = check_store_directory(dir, permissions); !checked) {
    return checked;
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (access == Access::read_only) {
      return Failure{ErrorCode::io, fmt::format("no memostore store at {}: readonly mode does not create one. Run "
                                                "once in readwrite mode first, or point MEMOSTORE_DIR at a store",
                                                dir)};
    }
    fs::create_directories(dir, ec);
    if (!ec) {
      fs::permissions(dir, permissions, fs::perm_options::replace, ec);
    }
    if (ec) {
      return Failure{ErrorCode::io, fmt::format("cannot create cache directory {}: {}. Choose a writable "
                                                "location (StoreOptions::dir or MEMOSTORE_DIR)",
                                                dir, ec.message())};
    }
    return {};
  }
  if (fs::exists(dir / "CURRENT", ec)) {
    return {};
  }
  // No database yet: an empty directory, or files of a store another process
  // is creating right now (or whose creation was interrupted).
  if (!fs::is_empty(dir, ec) && !only_store_files(dir)) {
    return Failure{ErrorCode::format, fmt::format("{} is not a memostore store: it holds other files and no "
                                                  "RocksDB CURRENT file. Use an empty or new directory",
                                                  dir)};
  }
  if (ec) {
    return Failure{ErrorCode::io, fmt::format("cannot read cache directory {}: {}", dir, ec.message())};
  }
  if (access == Access::read_only) {
    return Failure{ErrorCode::io, fmt::format("no memostore store at {} yet: readonly mode does not create one. "
                                              "Run once in readwrite mode first, or point MEMOSTORE_DIR at a store",
                                              dir)};
  }
  return {};
}

/// The smallest key greater than every key starting with `prefix`; empty when
/// there is none (an empty prefix, or one of only 0xff bytes).
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (!end.empty()) {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  }
  return end;
}

/// True if `dir` holds only files RocksDB (or memostore) makes while a store is
/// created: another process may be creating it right now.
bool only_store_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string extension = entry.path().extension().string();
    const bool known = name == "LOCK" || name == "IDENTITY" || name == "CURRENT" || name.rfind("LOG", 0) == 0 ||
                       name.rfind("MANIFEST-", 0) == 0 || name.rfind("OPTIONS-", 0) == 0 || extension == ".log" ||
                       extension == ".sst" || extension == ".blob" || extension == ".dbtmp" ||
                       name == "secondaries" || name == "handover" || name == "inflight";
    if (!known) {
      return false;
    }
  }
  return !ec;
}

struct WriteAheadLogs {
  std::vector<fs::path> files;
  std::uintmax_t bytes = 0;
};

/// More than a close leaves unflushed for the next open to replay.
bool too_much_to_replay(const WriteAheadLogs& logs) {
  return logs.files.size() > k_logs_before_flush || logs.bytes > k_log_bytes_before_flush;
}

WriteAheadLogs write_ahead_logs(const fs::path& dir) {
  std::error_code ec;
  WriteAheadLogs logs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log") {
      logs.files.push_back(entry.path());
      const std::uintmax_t size = entry.file_size(ec);
      logs.bytes += ec ? 0 : size;
    }
  }
  return logs;
}

/// fsyncs every write-ahead log in `dir` by its path: this instance's (RocksDB
/// writes each record to the file at once; only the fsync is left), and those
/// of earlier processes that the open replayed, which stay until a flush (a
/// killed process could not sync its own). Unlike SyncWAL() it works after a
/// failed log write: Debian's RocksDB 7.8 aborts in SyncWAL() then.
Result<void> sync_logs(const fs::path& dir) {
  for (const fs::path& log : write_ahead_logs(dir).files) {
    const int error = fsync_path(log);
    if (error == ENOENT) {
      continue;  // flushed and deleted meanwhile
    }
    if (error != 0) {
      return Failure{ErrorCode::io, fmt::format("cannot sync {}: {}; results written before it may not survive "
                                                "a power loss. Check the disk",
                                                log, std::strerror(error))};
    }
  }
  return {};
}

/// True if a family holds records but no table yet.
bool only_in_memory(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  for (auto* family : families) {
    rocksdb::ColumnFamilyMetaData tables;
    db.GetColumnFamilyMetaData(family, &tables);
    std::uint64_t in_memory = 0;
    if (tables.file_count == 0 && db.GetIntProperty(family, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &in_memory) &&
        in_memory > 0) {
      return true;
    }
  }
  return false;
}

/// The caches the entries family was opened with (a secondary's are its
/// own), which a held value may pin.
std::shared_ptr<const EntryCaches> caches_of(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries) {
  const rocksdb::Options options = db.GetOptions(entries);
  const auto* table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  return std::make_shared<const EntryCaches>(
      EntryCaches{table != nullptr ? table->block_cache : nullptr, options.blob_cache});
}

}  // namespace

/// How each column family is configured: the same at every open and repair.
std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors(const std::vector<std::string>& names,
                                                                const DatabaseOptions& options,
                                                                const rocksdb::CompactionFilter* entry_filter,
                                                                const rocksdb::CompactionFilter* meta_filter) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    if (name == k_entries_family) {
      rocksdb::ColumnFamilyOptions family =
          options.caches ? entries_options(*options.caches)
                         : entries_options(options.block_cache_bytes, options.blob_cache_bytes);
      family.compaction_filter = entry_filter;
      descriptors.emplace_back(name, family);
      continue;
    }
    rocksdb::ColumnFamilyOptions family = bookkeeping_options();  // meta, stats and the store's records
    if (name == k_meta_family) {
      family.compaction_filter = meta_filter;
      family.merge_operator = uint64_add_operator();  // per-entry hit counts
    } else if (name == k_stats_family) {
      family.merge_operator = uint64_add_operator();
    }
    descriptors.emplace_back(name, family);
  }
  return descriptors;
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
    const bool unfinished = (failure.code == ErrorCode::format &&
                             failure.message.find(k_other_format) == std::string::npos) ||
                            !fs::exists(dir / "CURRENT", ec);
    const auto creator = unfinished ? lock_holder(dir) : std::nullopt;
    if (!creator) {
      return database;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return being_created(dir, *creator);
    }
    std::this_thread::sleep_for(k_secondary_open_pause);
  }
}

namespace {

/// Whether a primary may open `dir` for reading only: nothing waits to be
/// applied but a few bookkeeping units (`units` of them, or fewer), and no
/// more logs than a close leaves (too many would need a flush).
bool reading_is_enough(const fs::path& dir, std::size_t& units) {
  const auto waiting = pending_units(dir);
  units = waiting.size();
  return waiting.size() < k_bookkeeping_units_before_apply &&
         std::all_of(waiting.begin(), waiting.end(), [](const fs::path& unit) { return is_bookkeeping_unit(unit); }) &&
         !too_much_to_replay(write_ahead_logs(dir));
}

/// Whether a read-only instance shows a store that needs nothing written at
/// its open: its format is current and every family with records has a table.
bool needs_no_write(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  std::string format;
  return db.Get(rocksdb::ReadOptions(), slice(k_format_key), &format).ok() && format == k_format_version &&
         !only_in_memory(db, families);
}

void close_instance(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  for (auto* family : families) {
    db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  families.clear();
  db->Close().PermitUncheckedError();
  delete db;
}

/// Whether `db` holds memostore's format record (any version: the caller
/// checks which); else the error that `dir` is not a memostore store.
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

/// has_format_record() through a read-only instance of the default family,
/// before a read-write open, which changes what it opens.
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

}  // namespace

Result<std::unique_ptr<Database>> Database::open_once(const fs::path& dir, const DatabaseOptions& options,
                                                      std::unique_ptr<DirectoryLock>& lock) {
  if (auto prepared = prepare_directory(dir, options.access, options.directory_permissions); !prepared) {
    return prepared.failure();
  }
  auto handles = std::make_unique<Handles>();
  rocksdb::DBOptions db_options = database_options(dir);
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

  const std::string path = dir.string();
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, k_entries_family};
  const bool existed = fs::exists(dir / "CURRENT");
  if (existed) {
    const rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
    if (!listed.ok()) {
      return failure_from(listed, "open the store", dir);
    }
    if (std::find(names.begin(), names.end(), k_entries_family) == names.end()) {
      return Failure{ErrorCode::format,
                     fmt::format("{} holds a RocksDB database without memostore's \"entries\" column family: "
                                 "either it is not a memostore store (use another directory), or its MANIFEST "
                                 "file is damaged (`memostore --dir {} repair` rebuilds it)",
                                 dir, dir.string())};
    }
  }
  // Stores written before the meta and stats families existed gain them on a
  // read-write open; a read-only open works without them.
  const bool has_every_family = std::find(names.begin(), names.end(), k_meta_family) != names.end() &&
                                std::find(names.begin(), names.end(), k_stats_family) != names.end();
  for (const char* added : {k_meta_family, k_stats_family}) {
    if (options.access == Access::read_write && std::find(names.begin(), names.end(), added) == names.end()) {
      names.emplace_back(added);
    }
  }
  const auto descriptors = family_descriptors(names, options, handles->entry_filter.get(), handles->meta_filter.get());

  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  bool share = false;
  bool format_checked = false;
  if (options.access == Access::read_only) {
    status = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles->families, &raw);
  } else {
    if (!lock) {
      lock = DirectoryLock::try_take(dir);
    }
    share = !lock;  // another process holds the directory (or this one, through another Database)
    if (share && !options.share_when_locked) {
      return store_in_use(dir, "open for writing");
    }
    if (!share && options.read_first && has_every_family && reading_is_enough(dir, handles->units_at_open)) {
      status = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles->families, &raw);
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
    }
    if (!share && !handles->reading && existed && !format_checked && !options.format_seen) {
      // Checked before a read-write open, which would add column families
      // to a database of another program and compact it with memostore's filters.
      if (auto known = has_format_record_read_only(db_options, dir); !known) {
        return known.failure();
      }
    }
    if (!share && !handles->reading) {
      // Replay what earlier processes left in their logs into memory, unless
      // killed processes (whose close never flushed) left too much.
      db_options.avoid_flush_during_recovery = !too_much_to_replay(write_ahead_logs(dir));
      status = rocksdb::DB::Open(db_options, path, descriptors, &handles->families, &raw);
      // A process that takes RocksDB's lock alone (an older memostore) was quicker.
      share = is_lock_failure(status) && options.share_when_locked;
    }
    if (share) {
      lock.reset();
    }
  }
  if (share) {
    handles->families.clear();
    if (auto opened = open_secondary(dir, db_options, options, *handles, names, &raw); !opened) {
      return opened.failure();
    }
    status = rocksdb::Status::OK();
    handles->reader_options = db_options;
    handles->reader_options.create_if_missing = false;
    handles->reader_families =
        family_descriptors({rocksdb::kDefaultColumnFamilyName, k_entries_family}, options, nullptr, nullptr);
  }
  if (!status.ok()) {
    return failure_from(status, "open the store", dir);
  }
  // Only a store this open creates may lack the format record: in any other,
  // it is another program's database or one still being created.
  const bool creating = !existed && options.access == Access::read_write && !share;
  if (auto known = creating || format_checked ? Result<void>() : has_format_record(*raw, dir); !known) {
    close_instance(raw, handles->families);
    if (share) {
      remove_secondary_log_dir(dir, handles->secondary_path);
    }
    return known.failure();
  }
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
  auto database = std::unique_ptr<Database>(new Database(dir, options.access, std::move(handles)));
  auto& h = *database->m_handles;

  std::string format;
  auto* db = h.db.get();
  const rocksdb::Status read = db->Get(rocksdb::ReadOptions(), slice(k_format_key), &format);
  const bool upgrade = read.ok() && upgradable_format(format);
  if (h.secondary && (read.IsNotFound() || upgrade)) {
    // The primary writes the format (or upgrades it) at its open.
  } else if ((read.IsNotFound() || upgrade) && writable) {
    const rocksdb::Status written = db->Put(rocksdb::WriteOptions(), slice(k_format_key), slice(k_format_version));
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
  if (writable) {
    remove_abandoned_files(dir);
    // Markers of units applied just before a crash; their files are gone or about to be reapplied.
    if (auto applied = database->apply_units(); !applied) {
      return applied.failure();
    }
    db->DeleteRange(rocksdb::WriteOptions(), db->DefaultColumnFamily(), slice(k_applied_prefix),
                    prefix_end(k_applied_prefix))
        .PermitUncheckedError();
  }
  if (options.access == Access::read_write) {
    Database* worker_of = database.get();
    h.worker = std::thread([worker_of] { worker_of->run_worker(); });
  }
  return database;
}

Database::Database(fs::path dir, Access access, std::unique_ptr<Handles> handles)
    : m_dir(std::move(dir)), m_access(access), m_handles(std::move(handles)) {}

Database::~Database() {
  auto& h = *m_handles;
  if (h.worker.joinable()) {
    {
      std::lock_guard lock(h.worker_mutex);
      h.stopping = true;
    }
    h.wake.notify_all();
    h.worker.join();
  }
  if (h.secondary) {
    close_secondary();
    return;
  }
  {
    std::lock_guard lock(h.writer_mutex);
    m_writer.store(nullptr);
    h.writer.reset();  // a reading primary's instance for writing: applies, and flushes or syncs its log
  }
  if (m_access == Access::read_write && !h.reading) {
    (void)apply_units();  // what others handed over since the last round
    // What this process wrote stays in the write-ahead log, and the next open
    // replays it into memory without writing a table (avoid_flush_during_recovery):
    // a flush here costs a table file per family and a MANIFEST update, each with
    // an fsync, which was most of a short process's close. RocksDB starts a new
    // log at every open and keeps the old ones until a flush, so once a few have
    // gathered, or a process wrote more than a little, this close flushes. So
    // does the first close of a store: `repair` recovers a log's records only
    // for families that have a table (which records the family's id). A
    // process that did not close (killed) leaves its log; the next open
    // flushes when it finds too many (open_once). An empty store's logs would never
    // go (a flush with nothing to write does nothing): a write that cancels out
    // gives it something to write.
    bool flushed = false;
    if (too_much_to_replay(write_ahead_logs(m_dir)) || only_in_memory(*h.db, h.families)) {
      constexpr std::string_view k_marker = "memostore.log-rotation";
      // After a write failed (a full disk), RocksDB refuses every write with
      // the stored error: the marker's status says whether a flush can work.
      if (h.db->Put(h.write_options, slice(k_marker), rocksdb::Slice()).ok()) {
        h.db->Delete(h.write_options, slice(k_marker)).PermitUncheckedError();
        rocksdb::FlushOptions flush;
        flush.wait = true;
        flushed = h.db->Flush(flush, h.families).ok();
      }
    }
    if (!flushed) {
      // RocksDB 7.8's close does not sync the log; without a flush, this
      // does. Not SyncWAL(): after a failed log write (a full disk), Debian's
      // build fails an assertion in it and aborts the process.
      (void)sync_logs(m_dir);
    }
  }
  for (auto* family : h.families) {
    h.db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  h.db->Close().PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* Database::family(Family family) const noexcept {
  switch (family) {
    case Family::entries: return m_handles->entries;
    case Family::meta: return m_handles->meta;
    case Family::stats: return m_handles->stats;
    case Family::store: return m_handles->db->DefaultColumnFamily();
  }
  return nullptr;
}

Result<bool> Database::read(Family which, std::string_view key, const Snapshot* at, rocksdb::PinnableSlice& value,
                            std::shared_ptr<const EntriesReader>& reader) const {
  auto& h = *m_handles;
  rocksdb::ColumnFamilyHandle* handle = family(which);
  if (handle == nullptr) {
    return false;
  }
  if (h.own_writes.any()) {  // only ever in a secondary
    std::string own;
    switch (h.own_writes.find(handle->GetID(), key, own)) {
      case OwnWrites::Found::removed: return false;
      case OwnWrites::Found::value:
        value.GetSelf()->swap(own);  // no second copy
        value.PinSelf();
        return true;
      case OwnWrites::Found::unknown: break;
    }
  }
  rocksdb::ReadOptions read = h.read_options;
  read.snapshot = at != nullptr ? at->m_snapshot : nullptr;
  rocksdb::DB* db = h.db.get();
  if (auto routed = route_to_reader(which, db, handle, read, reader); !routed) {
    return routed.failure();
  }
  const rocksdb::Status status = db->Get(read, handle, slice(key), &value);
  if (status.IsNotFound()) {
    return false;
  }
  if (!status.ok()) {
    return failure_from(status, "read from", m_dir);
  }
  return true;
}

Result<void> Database::route_to_reader(Family which, rocksdb::DB*& db, rocksdb::ColumnFamilyHandle*& handle,
                                       rocksdb::ReadOptions& read,
                                       std::shared_ptr<const EntriesReader>& reader) const {
  if (!m_handles->secondary || which != Family::entries) {
    return {};
  }
  auto opened = entries_reader();
  if (!opened) {
    return opened.failure();
  }
  reader = std::move(opened).value();
  db = reader->db.get();
  handle = reader->entries;
  read.snapshot = nullptr;  // the reader is a view of one moment already
  return {};
}

Result<std::shared_ptr<const EntriesReader>> Database::entries_reader() const {
  auto& h = *m_handles;
  std::lock_guard lock(h.reader_mutex);
  const std::uint64_t generation = m_entry_changes.load();  // before the open: a later catch-up reopens
  if (!h.reader || h.reader->generation != generation) {
    auto reader = std::make_shared<EntriesReader>();
    reader->generation = generation;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status status =
        rocksdb::DB::OpenForReadOnly(h.reader_options, m_dir.string(), h.reader_families, &reader->families, &raw);
    if (!status.ok()) {
      reader->families.clear();  // none are made by an open that fails
      return failure_from(status, "read entries (shared with another process) from", m_dir);
    }
    reader->db.reset(raw);
    reader->entries = reader->families[1];
    reader->caches = caches_of(*raw, reader->entries);
    h.reader = std::move(reader);
  }
  return h.reader;
}

Result<bool> Database::get(Family which, std::string_view key, FunctionRef<void(std::string_view value)> use,
                           const Snapshot* at) const {
  if (const Database* writer = read_elsewhere(at)) {
    return writer->get(which, key, use, at);
  }
  std::shared_ptr<const EntriesReader> reader;  // outlives `value`, which may pin its caches
  rocksdb::PinnableSlice value;
  auto found = read(which, key, at, value, reader);
  if (found && found.value()) {
    use(std::string_view(value.data(), value.size()));
  }
  return found;
}

Result<bool> Database::get_holdable(Family which, std::string_view key, FunctionRef<void(ReadValue& value)> use) const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->get_holdable(which, key, use);
  }
  std::shared_ptr<const EntriesReader> reader;  // outlives `value`, which may pin its caches
  rocksdb::PinnableSlice value;
  auto found = read(which, key, nullptr, value, reader);
  if (found && found.value()) {
    // copies nothing: the caches are taken by hold() alone
    ReadValue read_value(value, reader ? reader->caches : m_handles->caches);
    use(read_value);
  }
  return found;
}

std::uint64_t Database::blob_cache_bytes() const noexcept { return m_handles->options.blob_cache_bytes; }

/// What a held value owns: the caches first, so that they outlive the value
/// that may pin one of their entries.
struct HeldValue::State {
  std::shared_ptr<const void> caches;
  rocksdb::PinnableSlice value;
};

HeldValue::HeldValue(std::unique_ptr<State> state) noexcept : m_state(std::move(state)) {}
HeldValue::HeldValue(HeldValue&&) noexcept = default;
HeldValue& HeldValue::operator=(HeldValue&&) noexcept = default;
HeldValue::~HeldValue() = default;

std::string_view HeldValue::bytes() const noexcept {
  return m_state ? std::string_view(m_state->value.data(), m_state->value.size()) : std::string_view();
}

ReadValue::ReadValue(rocksdb::PinnableSlice& slice, const std::shared_ptr<const void>& caches)
    : m_slice(&slice), m_bytes(slice.data(), slice.size()), m_caches(&caches) {}

bool ReadValue::blob_sized() const noexcept { return m_bytes.size() >= k_min_blob_size; }

bool ReadValue::pinned() const noexcept { return m_slice->IsPinned(); }

HeldValue ReadValue::hold() {
  auto state = std::make_unique<HeldValue::State>();
  state->caches = *m_caches;
  state->value = std::move(*m_slice);  // a pinned value moves its pin; a value of its own, its buffer
  m_bytes = std::string_view(state->value.data(), state->value.size());
  return HeldValue(std::move(state));
}

Result<void> Database::put(Family which, std::string_view key, std::string_view value) {
  Batch batch(*this);
  batch.put(which, key, value);
  return write(batch);
}

Result<void> Database::remove(Family which, std::string_view key) {
  Batch batch(*this);
  batch.remove(which, key);
  return write(batch);
}

Result<void> Database::write(Batch& batch) {
  if (batch.empty()) {
    return {};
  }
  if (m_handles->reading) {
    auto writer = writing();
    return writer ? writer.value()->write(batch) : writer.failure();
  }
  // Counted after the write, so that a reader that saw the old count before
  // its read cannot keep what it read as current (a failed write counts too).
  struct CountChange {
    std::atomic<std::uint64_t>* changes;
    ~CountChange() {
      if (changes != nullptr) {
        changes->fetch_add(1);
      }
    }
  } count_change{batch.m_changes_entries ? &m_entry_changes : nullptr};
  auto& h = *m_handles;
  if (!h.secondary) {
    return checked(write_batch(*h.db, h.write_options, *batch.m_batch), "write to", m_dir);
  }
  const std::uint64_t unit = h.next_unit.fetch_add(1);
  auto written = write_unit(m_dir, h.unit_names.name(unit), batch.m_batch->Data());
  if (!written) {
    return written.failure();
  }
  h.own_writes.record(unit, std::move(written).value(), *batch.m_batch);
  return {};
}

Result<void> Database::remove_prefix(std::initializer_list<Family> families, std::string_view prefix) {
  auto& h = *m_handles;
  if (h.reading) {
    auto writer = writing();
    return writer ? writer.value()->remove_prefix(families, prefix) : writer.failure();
  }
  Batch batch(*this);  // one batch: no write of another thread or process can land between two families
  for (Family which : families) {
    rocksdb::ColumnFamilyHandle* handle = family(which);
    if (handle == nullptr) {
      continue;
    }
    if (const std::string end = prefix_end(prefix); !end.empty()) {
      batch.remove_range(which, prefix, end);
      continue;
    }
    // No key bounds the prefix: up to the last key.
    std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(h.read_options, handle));
    it->SeekToLast();
    if (!it->status().ok()) {
      return failure_from(it->status(), "read from", m_dir);
    }
    if (it->Valid()) {
      const std::string last = it->key().ToString();
      batch.remove_range(which, prefix, last);
      batch.remove(which, last);
    }
  }
  return write(batch);
}

Result<void> Database::for_each(Family which, std::string_view prefix,
                                FunctionRef<bool(std::string_view key, std::string_view value)> visit,
                                const Snapshot* at) const {
  if (const Database* writer = read_elsewhere(at)) {
    return writer->for_each(which, prefix, visit, at);
  }
  auto& h = *m_handles;
  rocksdb::ColumnFamilyHandle* handle = family(which);
  if (handle == nullptr) {
    return {};
  }
  rocksdb::ReadOptions read = h.read_options;
  read.snapshot = at != nullptr ? at->m_snapshot : nullptr;
  rocksdb::DB* db = h.db.get();
  std::shared_ptr<const EntriesReader> reader;  // outlives the iterator
  if (auto routed = route_to_reader(which, db, handle, read, reader); !routed) {
    return routed.failure();
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, handle));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
    if (!visit(view(it->key()), view(it->value()))) {
      break;
    }
  }
  return checked(it->status(), "read from", m_dir);
}

std::unique_ptr<Snapshot> Database::snapshot() const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->snapshot();
  }
  auto* db = m_handles->db.get();
  return std::unique_ptr<Snapshot>(new Snapshot(db, db->GetSnapshot()));
}

Snapshot::~Snapshot() { m_db->ReleaseSnapshot(m_snapshot); }

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

// --- Batch ---

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

void set_file_system_for_testing(std::shared_ptr<rocksdb::FileSystem> file_system) {
  std::lock_guard lock(g_test_file_system_mutex);
  g_test_file_system = std::move(file_system);
}

}  // namespace memostore::detail
