// How RocksDB's Status becomes a Failure that names the store directory, what
// was being done, the cause and what to do; and the errors for a store that
// another process holds. Internal to lib/storage.
#pragma once

#include <filesystem>
#include <string_view>

#include <rocksdb/status.h>

#include "storage/lock_holder.hpp"
#include "util/result.hpp"

namespace memostore::detail {

/// Whether `status` is RocksDB's failure to take the directory's LOCK file.
bool is_lock_failure(const rocksdb::Status& status);

/// A failure naming `dir`, what was being done, the cause and what to do.
Failure failure_from(const rocksdb::Status& status, std::string_view doing, const std::filesystem::path& dir);

/// Nothing when `status` is ok, else failure_from().
Result<void> checked(const rocksdb::Status& status, std::string_view doing, const std::filesystem::path& dir);

/// The error for a store that `creator` holds but has not finished making
/// within k_creation_wait.
Failure being_created(const std::filesystem::path& dir, const LockHolder& creator);

}  // namespace memostore::detail
