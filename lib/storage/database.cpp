#include "storage/database.hpp"

#include "storage/rocksdb_options.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <fmt/std.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_entries_family = "entries";
constexpr std::string_view k_format_key = "memostore.format";
constexpr std::string_view k_format_version = "1";

std::mutex g_test_file_system_mutex;
std::shared_ptr<rocksdb::FileSystem> g_test_file_system;  // guarded by g_test_file_system_mutex

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

Failure failure_from(const rocksdb::Status& status, std::string_view doing, const fs::path& dir) {
  const std::string cause = status.ToString();
  if (status.IsIOError() && cause.find("lock") != std::string::npos) {
    return Failure{ErrorCode::locked,
                   fmt::format("cannot {} {}: another process has it open ({}). One process at a time may "
                               "write a store: give this process its own directory (MEMOSTORE_DIR), or "
                               "set MEMOSTORE_MODE=readonly to only read it",
                               doing, dir, cause)};
  }
  if (status.IsCorruption()) {
    return Failure{ErrorCode::corruption, fmt::format("cannot {} {}: the store is damaged ({})", doing, dir, cause)};
  }
  if (status.IsNoSpace()) {
    return Failure{ErrorCode::io, fmt::format("cannot {} {}: the disk is full ({})", doing, dir, cause)};
  }
  return Failure{ErrorCode::io, fmt::format("cannot {} {}: {}", doing, dir, cause)};
}

Result<void> checked(const rocksdb::Status& status, std::string_view doing, const fs::path& dir) {
  if (!status.ok()) {
    return failure_from(status, doing, dir);
  }
  return {};
}

// Refuses directories that memostore must not write into or cannot read.
Result<void> prepare_directory(const fs::path& dir, Access access) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (!fs::exists(status)) {
    if (access == Access::read_only) {
      return Failure{ErrorCode::io, fmt::format("no memostore store at {}: readonly mode does not create one. Run "
                                                "once in readwrite mode first, or point MEMOSTORE_DIR at a store",
                                                dir)};
    }
    fs::create_directories(dir, ec);
    if (ec) {
      return Failure{ErrorCode::io, fmt::format("cannot create cache directory {}: {}. Choose a writable "
                                                "location (StoreOptions::dir or MEMOSTORE_DIR)",
                                                dir, ec.message())};
    }
    return {};
  }
  if (!fs::is_directory(status)) {
    return Failure{ErrorCode::io, fmt::format("cache directory {} exists but is not a directory", dir)};
  }
  if (!fs::exists(dir / "CURRENT", ec) && !fs::is_empty(dir, ec)) {
    return Failure{ErrorCode::format, fmt::format("{} is not a memostore store: it holds other files and no "
                                                  "RocksDB CURRENT file. Use an empty or new directory",
                                                  dir)};
  }
  if (ec) {
    return Failure{ErrorCode::io, fmt::format("cannot read cache directory {}: {}", dir, ec.message())};
  }
  return {};
}

std::size_t count_write_ahead_logs(const fs::path& dir) {
  std::error_code ec;
  std::size_t logs = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    logs += entry.path().extension() == ".log" ? 1 : 0;
  }
  return logs;
}

}  // namespace

struct Database::Handles {
  std::unique_ptr<rocksdb::Env> env;  // only with a test file system; outlives db
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::ColumnFamilyHandle* entries = nullptr;
  rocksdb::ReadOptions read_options;
  rocksdb::WriteOptions write_options;
};

Result<std::unique_ptr<Database>> Database::open(const fs::path& dir, const DatabaseOptions& options) {
  if (auto prepared = prepare_directory(dir, options.access); !prepared) {
    return prepared.failure();
  }
  auto handles = std::make_unique<Handles>();
  rocksdb::DBOptions db_options = database_options();
  {
    std::lock_guard lock(g_test_file_system_mutex);
    if (g_test_file_system) {
      handles->env = rocksdb::NewCompositeEnv(g_test_file_system);
      db_options.env = handles->env.get();
    }
  }

  const std::string path = dir.string();
  std::vector<std::string> names;
  if (fs::exists(dir / "CURRENT")) {
    const rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
    if (!listed.ok()) {
      return failure_from(listed, "open the store", dir);
    }
    if (std::find(names.begin(), names.end(), k_entries_family) == names.end()) {
      return Failure{ErrorCode::format, fmt::format("{} holds a RocksDB database that is not a memostore store "
                                                    "(no \"entries\" column family). Use another directory",
                                                    dir)};
    }
  } else {
    names = {rocksdb::kDefaultColumnFamilyName, k_entries_family};
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, name == k_entries_family ? entries_options(options.block_cache_bytes, options.blob_cache_bytes) : rocksdb::ColumnFamilyOptions());
  }

  rocksdb::DB* raw = nullptr;
  const rocksdb::Status status =
      options.access == Access::read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles->families, &raw)
          : rocksdb::DB::Open(db_options, path, descriptors, &handles->families, &raw);
  if (!status.ok()) {
    return failure_from(status, "open the store", dir);
  }
  handles->db.reset(raw);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == k_entries_family) {
      handles->entries = handles->families[i];
    }
  }
  auto database = std::unique_ptr<Database>(new Database(dir, options.access, std::move(handles)));

  std::string format;
  auto* db = database->m_handles->db.get();
  const rocksdb::Status read = db->Get(rocksdb::ReadOptions(), slice(k_format_key), &format);
  if (read.IsNotFound() && options.access == Access::read_write) {
    const rocksdb::Status written = db->Put(rocksdb::WriteOptions(), slice(k_format_key), slice(k_format_version));
    if (!written.ok()) {
      return failure_from(written, "initialize the store", dir);
    }
  } else if (!read.ok() && !read.IsNotFound()) {
    return failure_from(read, "read the format of the store", dir);
  } else if (read.ok() && format != k_format_version) {
    return Failure{ErrorCode::format,
                   fmt::format("{} uses memostore store format {}, this build reads format {}. Use another "
                               "directory, or the memostore version that wrote it",
                               dir, format, k_format_version)};
  }
  return database;
}

Database::Database(fs::path dir, Access access, std::unique_ptr<Handles> handles)
    : m_dir(std::move(dir)), m_access(access), m_handles(std::move(handles)) {}

Database::~Database() {
  auto& h = *m_handles;
  if (m_access == Access::read_write) {
    // RocksDB 7.8 starts a new write-ahead log at every open and keeps the
    // old ones, even empty, until a flush writes something; a store used
    // only for hits would gather one empty log per run. A write that cancels
    // out gives the flush below something to do, and the old logs go.
    if (count_write_ahead_logs(m_dir) > 1) {
      constexpr std::string_view k_marker = "memostore.log-rotation";
      h.db->Put(h.write_options, slice(k_marker), rocksdb::Slice()).PermitUncheckedError();
      h.db->Delete(h.write_options, slice(k_marker)).PermitUncheckedError();
    }
    // Not needed for durability (the log has every write); it makes the next
    // open fast because there is no log to replay.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    h.db->Flush(flush, h.families).PermitUncheckedError();
  }
  for (auto* family : h.families) {
    h.db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  h.db->Close().PermitUncheckedError();
}

Result<bool> Database::get(std::string_view key, FunctionRef<void(std::string_view value)> use) const {
  auto& h = *m_handles;
  rocksdb::PinnableSlice value;
  const rocksdb::Status status = h.db->Get(h.read_options, h.entries, slice(key), &value);
  if (status.IsNotFound()) {
    return false;
  }
  if (!status.ok()) {
    return failure_from(status, "read from", m_dir);
  }
  use(std::string_view(value.data(), value.size()));
  return true;
}

Result<void> Database::put(std::string_view key, std::string_view value) {
  auto& h = *m_handles;
  return checked(h.db->Put(h.write_options, h.entries, slice(key), slice(value)), "write to", m_dir);
}

Result<void> Database::remove(std::string_view key) {
  auto& h = *m_handles;
  return checked(h.db->Delete(h.write_options, h.entries, slice(key)), "delete from", m_dir);
}

Result<void> Database::remove_prefix(std::string_view prefix) {
  // The smallest string greater than every string starting with `prefix`.
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (end.empty()) {
    return remove_all();
  }
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  auto& h = *m_handles;
  return checked(h.db->DeleteRange(h.write_options, h.entries, slice(prefix), rocksdb::Slice(end)), "delete from",
                 m_dir);
}

Result<void> Database::remove_all() {
  auto& h = *m_handles;
  std::string last;
  {
    std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(h.read_options, h.entries));
    it->SeekToLast();
    if (!it->status().ok()) {
      return failure_from(it->status(), "read from", m_dir);
    }
    if (!it->Valid()) {
      return {};
    }
    last = it->key().ToString();
  }
  rocksdb::WriteBatch batch;
  rocksdb::Status status = batch.DeleteRange(h.entries, rocksdb::Slice(), rocksdb::Slice(last));
  if (status.ok()) {
    status = batch.Delete(h.entries, rocksdb::Slice(last));
  }
  if (status.ok()) {
    status = h.db->Write(h.write_options, &batch);
  }
  return checked(status, "delete from", m_dir);
}

Result<void> Database::for_each(std::string_view prefix,
                                FunctionRef<bool(std::string_view key, std::string_view value)> visit) const {
  auto& h = *m_handles;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(h.read_options, h.entries));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return checked(it->status(), "read from", m_dir);
}

Result<void> Database::sync() {
  if (m_access == Access::read_only) {
    return {};
  }
  return checked(m_handles->db->SyncWAL(), "sync", m_dir);
}

void set_file_system_for_testing(std::shared_ptr<rocksdb::FileSystem> file_system) {
  std::lock_guard lock(g_test_file_system_mutex);
  g_test_file_system = std::move(file_system);
}

}  // namespace memostore::detail
