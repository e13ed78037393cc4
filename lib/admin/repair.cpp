// Rebuilding a store that will not open.
//
// RocksDB's RepairDB rebuilds the MANIFEST from the table files, but in 7.8
// it does not carry blob files over (it moves them to lost/): entries whose
// values were in them then point nowhere, one of them stops any scan, and
// background work on such a database can hang at close. So the repaired
// database is only ever opened read-only, and what can be read from it is
// copied, entry by entry and checked, into a new store that replaces it.
#include <unistd.h>

#include <fmt/std.h>

#include "admin/access.hpp"
#include "admin/transfer.hpp"
#include "storage/safe_files.hpp"

namespace memostore {

VerifyReport repair(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  detail::value_or_throw(detail::repair_database(dir));
  const fs::path rebuilt = fs::path(dir).concat(fmt::format(".repairing-{}", ::getpid()));
  const fs::path damaged = fs::path(dir).concat(fmt::format(".damaged-{}", ::getpid()));
  std::error_code ec;
  if (fs::exists(fs::symlink_status(rebuilt, ec))) {  // never removed: it is not this repair's
    throw Error(ErrorCode::io, fmt::format("cannot repair {}: {} exists already (left by an earlier repair?). "
                                           "Remove it yourself and run repair again",
                                           dir, rebuilt));
  }
  TransferReport copied;
  {
    const Store source = Store::open(StoreOptions{.dir = dir, .mode = Mode::readonly});
    Store target = Store::open(
        StoreOptions{.dir = rebuilt, .mode = Mode::readwrite, .directory_permissions = fs::status(dir).permissions()});
    copied = detail::salvage_entries(detail::database_of(source, "repair"), *target.core());
  }
  fs::rename(dir, damaged, ec);
  if (!ec) {
    fs::rename(rebuilt, dir, ec);
  }
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot put the repaired copy {} in place of {}: {}. Move it there "
                                           "yourself",
                                           rebuilt, dir, ec.message()));
  }
  (void)detail::remove_tree(damaged);  // the store this renamed: by its name, never through a link
  Store store = Store::open(StoreOptions{.dir = dir, .mode = Mode::readwrite});
  VerifyReport report = verify(store, VerifyOptions{.fix = true});
  report.problems.insert(report.problems.begin(), copied.rejected.begin(), copied.rejected.end());
  report.entries_checked += copied.rejected.size();
  report.removed += copied.rejected.size();
  return report;
}

}  // namespace memostore
