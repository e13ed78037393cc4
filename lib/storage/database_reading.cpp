// A primary that reads first: it opened the store with a read-only RocksDB
// instance, opens it for writing at its first write, and hands the
// bookkeeping of a process that never wrote over as a unit (see database.hpp
// and docs/design.md).
#include <fmt/format.h>
#include <fmt/std.h>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"

namespace memostore::detail {

bool Database::reading() const noexcept { return m_handles->reading && m_writer.load() == nullptr; }

const Database* Database::read_elsewhere(const Snapshot* at) const noexcept {
  const Database* writer = m_writer.load(std::memory_order_acquire);
  if (writer == nullptr || (at != nullptr && at->m_db == m_handles->db.get())) {
    return nullptr;  // a snapshot of the read-only instance is read there
  }
  return writer;
}

Result<Database*> Database::writing() {
  auto& h = *m_handles;
  if (!h.reading) {
    return this;
  }
  if (Database* writer = m_writer.load(std::memory_order_acquire)) {
    return writer;
  }
  std::lock_guard lock(h.writer_mutex);
  if (Database* writer = m_writer.load()) {
    return writer;
  }
  DatabaseOptions for_writing = h.options;
  for_writing.read_first = false;
  for_writing.format_seen = true;
  for_writing.share_when_locked = false;  // this process holds the lock
  auto opened = open_once(m_dir, for_writing, h.lock);  // applies what waits in the hand-over folder
  if (!opened) {
    // RocksDB unlocks LOCK when an open it began fails, which drops this
    // process's lock too: stop claiming it. The next write tries again (and
    // takes the lock again if no other process has); reads stay on the
    // read-only instance.
    h.lock.reset();
    return opened.failure();
  }
  h.writer = std::move(opened).value();
  m_writer.store(h.writer.get(), std::memory_order_release);
  return h.writer.get();
}

Result<void> Database::write_bookkeeping(Batch& batch) {
  auto& h = *m_handles;
  if (batch.empty() || !reading()) {
    return write(batch);
  }
  // Counted before it exists, so that the worker never takes it for another
  // process's unit and opens for writing.
  h.handed_over.fetch_add(1);
  const std::uint64_t unit = h.next_unit.fetch_add(1);
  auto written = write_unit(m_dir, h.unit_names.name(unit, UnitKind::bookkeeping), batch.m_batch->Data());
  if (!written) {
    return written.failure();
  }
  return {};
}

}  // namespace memostore::detail
