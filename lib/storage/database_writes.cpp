// Writes: single puts and removes, batches applied atomically (a primary
// writes to RocksDB; a secondary writes a hand-over unit and keeps it in
// memory until the primary has applied it), and prefix removal by range
// tombstones. Each write that may replace or removes an entry moves
// entry_changes(), which the hot tier checks its copies against.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"

namespace memostore::detail {

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

}  // namespace memostore::detail
