// Status translation: RocksDB's Status becomes a Failure with an ErrorCode
// and a message that names the store directory, what was being done, the
// cause and what to do (a damaged store: verify and repair; a full disk:
// ENOSPC; a held store: which process holds it). Every RocksDB call of
// lib/storage reports through here, so that the advice is given once.
#include "storage/database_status.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

bool is_lock_failure(const rocksdb::Status& status) {
  return status.IsIOError() && status.ToString().find("lock") != std::string::npos;
}

Failure being_created(const fs::path& dir, const LockHolder& creator) {
  return Failure{ErrorCode::locked,
                 fmt::format("{} is being created by {}, which holds it and has not finished within {} s: try "
                             "again in a moment. (If that process is not a memostore program, the directory "
                             "belongs to another program: use another one)",
                             dir, describe(creator),
                             std::chrono::duration_cast<std::chrono::seconds>(k_creation_wait).count())};
}

Failure store_in_use(const fs::path& dir, std::string_view doing) {
  const std::string who = describe(lock_holder(dir));
  return Failure{ErrorCode::locked, fmt::format("cannot {} {}: {} has it open, and this needs the store to itself: "
                                                "wait for it to finish. Reading works meanwhile (the memostore "
                                                "tool's read commands)",
                                                doing, dir, who)};
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

}  // namespace memostore::detail
