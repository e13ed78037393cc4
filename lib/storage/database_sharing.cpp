// Several processes on one directory: the secondary's open and close, the
// primary's applying of hand-over units, and the worker that keeps both going
// (see database.hpp and docs/design.md).
#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"
#include "storage/lock_holder.hpp"
#include "util/log.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

Result<void> Database::open_secondary(const fs::path& dir, const rocksdb::DBOptions& db_options,
                                      const DatabaseOptions& options, Handles& handles, std::vector<std::string>& names,
                                      rocksdb::DB** raw) {
  handles.secondary = true;
  auto folder = make_secondary_log_dir(dir);
  if (!folder) {
    return folder.failure();
  }
  handles.secondary_path = std::move(folder).value();
  rocksdb::DBOptions secondary_options = db_options;
  secondary_options.max_open_files = -1;  // files the primary deletes stay readable until the next catch-up
  rocksdb::Status status;
  for (int attempt = 0; attempt < k_secondary_open_attempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(k_secondary_open_pause);  // the primary is still creating the store
    }
    std::vector<std::string> current;
    status = rocksdb::DB::ListColumnFamilies(secondary_options, dir.string(), &current);
    const auto has = [&](const char* name) { return std::find(current.begin(), current.end(), name) != current.end(); };
    if (!status.ok() || !has(k_entries_family) || !has(k_meta_family) || !has(k_stats_family)) {
      continue;
    }
    const auto descriptors = family_descriptors(current, options, nullptr, nullptr);
    handles.families.clear();
    status = rocksdb::DB::OpenAsSecondary(secondary_options, dir.string(), handles.secondary_path.string(), descriptors,
                                          &handles.families, raw);
    if (status.ok()) {
      names = std::move(current);
      return {};
    }
  }
  remove_secondary_log_dir(dir, handles.secondary_path);
  if (!status.ok()) {
    return failure_from(status, "open the store (shared with another process)", dir);
  }
  return Failure{ErrorCode::locked,
                 fmt::format("cannot open {}: another process holds it and has not finished creating it. Try "
                             "again",
                             dir)};
}

void Database::close_secondary() {
  auto& h = *m_handles;
  h.applier.reset();  // applies what is left as it closes
  for (auto* family : h.families) {
    h.db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  h.db->Close().PermitUncheckedError();
  h.db.reset();
  remove_secondary_log_dir(m_dir, h.secondary_path);
  // If the primary has gone, nobody would apply what this process handed
  // over until the next process opens the store: apply it now, as primary.
  if (!pending_units(m_dir).empty() && !lock_holder(m_dir)) {
    (void)open_as_primary();  // applies at open, closes at once; locked: someone else will
  }
}

Result<std::unique_ptr<Database>> Database::open_as_primary() const {
  DatabaseOptions as_primary = m_handles->options;
  as_primary.share_when_locked = false;
  as_primary.read_first = false;
  return Database::open(m_dir, as_primary);  // applies the waiting units
}

bool Database::secondary() const noexcept { return m_handles->secondary; }

void Database::take_over_applying() {
  if (auto opened = open_as_primary()) {  // then applies every interval
    m_handles->applier = std::move(opened).value();
  }  // else another process was quicker: it applies
}

Result<void> Database::apply_units() {
  auto& h = *m_handles;
  std::lock_guard lock(h.apply_mutex);
  auto* defaults = h.db->DefaultColumnFamily();
  for (const fs::path& unit : pending_units(m_dir)) {
    const std::string marker = fmt::format("{}{}", k_applied_prefix, unit.filename().string());
    std::string ignored;
    const rocksdb::Status seen = h.db->Get(h.read_options, defaults, marker, &ignored);
    if (!seen.ok() && !seen.IsNotFound()) {
      return failure_from(seen, "read from", m_dir);
    }
    if (seen.IsNotFound()) {  // not applied before a crash
      auto bytes = read_unit(unit);
      rocksdb::Status status;
      if (bytes && bytes.value().size() >= k_write_batch_header_size) {
        rocksdb::WriteBatch batch(std::move(bytes).value());
        status = batch.Put(defaults, marker, rocksdb::Slice());
        if (status.ok()) {
          status = write_batch(*h.db, h.write_options, batch);
          m_entry_changes.fetch_add(1);  // another process's unit may remove or replace entries
        }
        if (!status.ok() && !status.IsCorruption() && !status.IsInvalidArgument()) {
          return failure_from(status, "apply what another process handed over to", m_dir);
        }
      }
      if (!bytes || !status.ok()) {
        warn("discarding damaged hand-over unit {} of {} ({}); {}", unit, m_dir,
             bytes ? status.ToString() : bytes.failure().message,
             is_bookkeeping_unit(unit) ? "the hit counts and access times it held are lost"
                                       : "the results it held will be computed again");
      }
    }
    if (auto removed = remove_unit(m_dir, unit); !removed) {
      return removed;
    }
    rocksdb::WriteBatch unmark;
    if (unmark.Delete(defaults, marker).ok()) {
      write_batch(*h.db, h.write_options, unmark).PermitUncheckedError();  // a leftover marker is harmless
    }
  }
  return {};
}

Result<void> Database::catch_up() {
  auto& h = *m_handles;
  if (m_access == Access::read_only) {
    return {};
  }
  if (h.reading) {
    if (pending_units(m_dir).empty() && m_writer.load() == nullptr) {
      return {};  // nothing to apply: no reason to open for writing
    }
    auto writer = writing();  // applies what waits at its open
    return writer ? writer.value()->catch_up() : writer.failure();
  }
  if (!h.secondary) {
    return apply_units();
  }
  {
    std::lock_guard lock(h.apply_mutex);  // guards the applier
    if (!h.applier && !lock_holder(m_dir)) {
      take_over_applying();
    }
    if (h.applier) {
      if (auto applied = h.applier->apply_units(); !applied) {
        return applied;
      }
    }
  }
  const auto applied = h.own_writes.applied_units();
  const rocksdb::SequenceNumber before = h.db->GetLatestSequenceNumber();
  if (auto status = h.db->TryCatchUpWithPrimary(); !status.ok()) {
    return failure_from(status, "catch up with the process that holds", m_dir);
  }
  if (h.db->GetLatestSequenceNumber() != before) {
    m_entry_changes.fetch_add(1);  // the primary's writes may remove or replace entries
  }
  if (applied) {
    h.own_writes.forget_through(*applied);
  }
  return {};
}

Result<bool> Database::wait_until_applied(std::chrono::milliseconds limit) {
  auto& h = *m_handles;
  if (!h.secondary) {
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (h.own_writes.waiting()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(k_catch_up_interval / 10);
  }
  if (auto caught_up = catch_up(); !caught_up) {
    return caught_up.failure();
  }
  return true;
}

void Database::run_worker() {
  auto& h = *m_handles;
  bool warned = false;
  std::unique_lock lock(h.worker_mutex);
  while (!h.stopping) {
    h.wake.wait_for(lock, k_catch_up_interval, [&] { return h.stopping; });
    if (h.stopping) {
      break;
    }
    lock.unlock();
    if (h.reading) {
      // Opens for writing when another process hands something over (it is
      // a secondary: this process holds the lock); the instance for writing
      // then applies units on a worker of its own.
      if (m_writer.load() != nullptr) {
        return;
      }
      if (pending_units(m_dir).size() <= h.units_at_open + h.handed_over.load()) {
        lock.lock();
        continue;
      }
    }
    if (auto done = catch_up(); !done && !warned) {
      warn("{}; retrying every {} ms, later failures are not reported", done.failure().message,
           k_catch_up_interval.count());
      warned = true;
    }
    lock.lock();
  }
}

}  // namespace memostore::detail
