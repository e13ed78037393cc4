// RocksDB's info log for a store, kept to what is worth reading: RocksDB's
// warnings and errors, appended to DIR/LOG when the first one comes.
// RocksDB's own logger renames LOG to LOG.old.<time> at every open and writes
// every option into the new one: about a millisecond of a short process's
// 10 ms open, a rename and an unlink that processes opening one directory at
// once raced on, and a copy of what the OPTIONS file already holds.
// Includes RocksDB: lib/storage only. Safe to use from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

namespace rocksdb {
class Logger;
}

namespace memostore::detail {

/// LOG grows to about this size, then the next first warning of a process
/// renames it to LOG.old (replacing the one before) and starts a new LOG.
inline constexpr std::uintmax_t k_warning_log_bytes = 1 << 20;

/// A logger for DatabaseOptions::info_log that appends WARN and above to
/// `file`, opened (and created) at the first message.
std::shared_ptr<rocksdb::Logger> warning_log(std::filesystem::path file);

/// A logger for a read-only open, which must write nothing in the store's
/// directory (a fallback cache may sit on a read-only file system or be
/// another job's): RocksDB's warnings about `dir` go to memostore's log
/// (LogLevel::info) instead of DIR/LOG.
std::shared_ptr<rocksdb::Logger> forwarding_log(std::filesystem::path dir);

}  // namespace memostore::detail
