// Rebuilding a damaged store without losing what can still be read.
//
// A store that opens is opened first, as any process would open it: that
// applies the results other processes handed over (the hand-over folder).
// If it then verifies cleanly, nothing is changed. If it opens but has
// damage, every entry that can be read is copied, checked, into a new store
// that takes the directory's place: read through its own MANIFEST, which
// knows the blob files, so large values are kept. Only a store that does
// not open at all goes through RocksDB's RepairDB, which in 7.8 does not
// carry blob files over (it moves them to lost/): entries whose values were
// in them then point nowhere, and background work on such a database can
// hang at close, so it is only ever opened read-only and copied from.
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/std.h>

#include "admin/access.hpp"
#include "admin/transfer.hpp"
#include "storage/handover.hpp"
#include "storage/safe_files.hpp"

namespace memostore {

namespace {

namespace fs = std::filesystem;

/// Moves the hand-over units still waiting in `from` into `to`'s hand-over
/// folder, for `to`'s next read-write open to apply: results other processes
/// handed over that the copy of entries did not see.
void carry_units(const fs::path& from, const fs::path& to) {
  const std::vector<fs::path> units = detail::pending_units(from);
  if (units.empty()) {
    return;
  }
  // Both folders by descriptor, neither through a link; renameat moves each
  // unit's own directory entry, never what a link there points to.
  const std::string_view handover = "handover";
  auto source = detail::value_or_throw(detail::open_store_folder(from, handover, detail::Create::no));
  auto target = detail::value_or_throw(detail::open_store_folder(to, handover, detail::Create::yes));
  for (const fs::path& unit : units) {
    const std::string name = unit.filename().string();
    if (::renameat(source.get(), name.c_str(), target.get(), name.c_str()) != 0) {
      throw Error(ErrorCode::io, fmt::format("cannot move the hand-over unit {} into the repaired copy {}: {}",
                                             unit, to, std::strerror(errno)));
    }
  }
}

/// Copies every readable entry of the store in `dir` (opened read-only) into
/// a new store that then takes its place, with the units still waiting.
TransferReport rebuild(const fs::path& dir) {
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
    copied = detail::salvage_entries(detail::database_of(source, "repair"), *detail::core_of(target));
  }
  carry_units(dir, rebuilt);
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
  return copied;
}

/// The store in `dir` opened as its only writer (applying the waiting
/// units) and verified; none if it does not open.
std::optional<VerifyReport> open_and_verify(const fs::path& dir) {
  try {
    Store store = Store::open(StoreOptions{.dir = dir, .mode = Mode::readwrite});
    (void)detail::writable_core(store, "repair");  // throws `locked` if another process has it
    return verify(store);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::locked || e.code() == ErrorCode::usage) {
      throw;
    }
    return std::nullopt;
  }
}

}  // namespace

VerifyReport repair(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / "CURRENT", ec)) {
    throw Error(ErrorCode::format,
                fmt::format("{} is not a memostore store (no RocksDB CURRENT file): nothing to repair", dir));
  }
  std::optional<VerifyReport> before = open_and_verify(dir);
  if (before && before->clean()) {
    before->nothing_to_repair = true;
    return *before;
  }
  if (!before) {
    detail::value_or_throw(detail::repair_database(dir));
  }
  const TransferReport copied = rebuild(dir);
  Store store = Store::open(StoreOptions{.dir = dir, .mode = Mode::readwrite});
  VerifyReport report = verify(store, VerifyOptions{.damaged = DamagedEntries::remove});
  report.problems.insert(report.problems.begin(), copied.rejected.begin(), copied.rejected.end());
  for (const Problem& problem : copied.rejected) {
    if (!problem.hash.empty()) {  // an entry left behind; the rest name damage, not entries
      report.entries_checked += 1;
      report.removed += 1;
    }
  }
  return report;
}

}  // namespace memostore
