// The close policy: what ~Database does with what this process wrote. It
// stops the worker, applies what other processes handed over, and then
// leaves this process's writes in the synced write-ahead log for the next
// open to replay, flushing only when logs have gathered or a family has no
// table yet (a flush costs a table per family and a MANIFEST update, each
// synced: most of a short process's close).
#include <filesystem>
#include <mutex>
#include <string_view>
#include <vector>

#include "storage/database.hpp"
#include "storage/database_files.hpp"
#include "storage/database_handles.hpp"

namespace memostore::detail {

namespace {

/// What this process wrote stays in the write-ahead log, and the next open
/// replays it into memory without writing a table (avoid_flush_during_recovery):
/// a flush here costs a table file per family and a MANIFEST update, each with
/// an fsync, which was most of a short process's close. RocksDB starts a new
/// log at every open and keeps the old ones until a flush, so once a few have
/// gathered, or a process wrote more than a little, this close flushes. So
/// does the first close of a store: `repair` recovers a log's records only
/// for families that have a table (which records the family's id). A
/// process that did not close (killed) leaves its log; the next open
/// flushes when it finds too many (open_once). An empty store's logs would never
/// go (a flush with nothing to write does nothing): a write that cancels out
/// gives it something to write.
void flush_or_sync_logs(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                        const rocksdb::WriteOptions& write_options, const std::filesystem::path& dir) {
  bool flushed = false;
  if (too_much_to_replay(write_ahead_logs(dir)) || only_in_memory(db, families)) {
    constexpr std::string_view k_marker = "memostore.log-rotation";
    // After a write failed (a full disk), RocksDB refuses every write with
    // the stored error: the marker's status says whether a flush can work.
    if (db.Put(write_options, slice(k_marker), rocksdb::Slice()).ok()) {
      db.Delete(write_options, slice(k_marker)).PermitUncheckedError();
      rocksdb::FlushOptions flush;
      flush.wait = true;
      flushed = db.Flush(flush, families).ok();
    }
  }
  if (!flushed) {
    // RocksDB 7.8's close does not sync the log; without a flush, this
    // does. Not SyncWAL(): after a failed log write (a full disk), Debian's
    // build fails an assertion in it and aborts the process.
    (void)sync_logs(dir);
  }
}

}  // namespace

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
    flush_or_sync_logs(*h.db, h.families, h.write_options, m_dir);
  }
  for (auto* family : h.families) {
    h.db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  h.db->Close().PermitUncheckedError();
}

}  // namespace memostore::detail
