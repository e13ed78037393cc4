// Directory and log checks: whether a directory may become a store or holds
// one (prepare_directory refuses another program's files and unsafe
// directories before RocksDB touches them), and the write-ahead logs a close
// leaves for the next open to replay: how much they hold, and syncing them
// by path (see ~Database in database_close.cpp for why).
#include "storage/database_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/file_sync.hpp"
#include "storage/handover.hpp"
#include "storage/store_directory.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

namespace {

/// A close leaves at most this much in write-ahead logs for the next open to
/// replay: a process that only hit leaves a few hundred bytes of bookkeeping.
constexpr std::size_t k_logs_before_flush = 8;
constexpr std::uintmax_t k_log_bytes_before_flush = 1 << 20;

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

}  // namespace

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

bool reading_is_enough(const fs::path& dir, std::size_t& units) {
  const auto waiting = pending_units(dir);
  units = waiting.size();
  return waiting.size() < k_bookkeeping_units_before_apply &&
         std::all_of(waiting.begin(), waiting.end(), [](const fs::path& unit) { return is_bookkeeping_unit(unit); }) &&
         !too_much_to_replay(write_ahead_logs(dir));
}

}  // namespace memostore::detail
