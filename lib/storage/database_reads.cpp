// Reads: point reads (get, and get_holdable with the held values that keep
// a read value without a copy), prefix scans and snapshots. In a secondary,
// this process's own writes are read first, and the entries family through a
// read-only instance (EntriesReader); a primary that read first and has since
// opened for writing reads through that instance (read_elsewhere, see
// database_reading.cpp).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "storage/database.hpp"
#include "storage/database_handles.hpp"

namespace memostore::detail {

rocksdb::ColumnFamilyHandle* Database::family(Family family) const noexcept {
  switch (family) {
    case Family::entries: return m_handles->entries;
    case Family::meta: return m_handles->meta;
    case Family::stats: return m_handles->stats;
    case Family::store: return m_handles->db->DefaultColumnFamily();
  }
  return nullptr;
}

Result<bool> Database::read(Family which, std::string_view key, const Snapshot* at, rocksdb::PinnableSlice& value,
                            std::shared_ptr<const EntriesReader>& reader) const {
  auto& h = *m_handles;
  rocksdb::ColumnFamilyHandle* handle = family(which);
  if (handle == nullptr) {
    return false;
  }
  if (h.own_writes.any()) {  // only ever in a secondary
    std::string own;
    switch (h.own_writes.find(handle->GetID(), key, own)) {
      case OwnWrites::Found::removed: return false;
      case OwnWrites::Found::value:
        value.GetSelf()->swap(own);  // no second copy
        value.PinSelf();
        return true;
      case OwnWrites::Found::unknown: break;
    }
  }
  rocksdb::ReadOptions read = h.read_options;
  read.snapshot = at != nullptr ? at->m_snapshot : nullptr;
  rocksdb::DB* db = h.db.get();
  if (auto routed = route_to_reader(which, db, handle, read, reader); !routed) {
    return routed.failure();
  }
  const rocksdb::Status status = db->Get(read, handle, slice(key), &value);
  if (status.IsNotFound()) {
    return false;
  }
  if (!status.ok()) {
    return failure_from(status, "read from", m_dir);
  }
  return true;
}

Result<void> Database::route_to_reader(Family which, rocksdb::DB*& db, rocksdb::ColumnFamilyHandle*& handle,
                                       rocksdb::ReadOptions& read,
                                       std::shared_ptr<const EntriesReader>& reader) const {
  if (!m_handles->secondary || which != Family::entries) {
    return {};
  }
  auto opened = entries_reader();
  if (!opened) {
    return opened.failure();
  }
  reader = std::move(opened).value();
  db = reader->db.get();
  handle = reader->entries;
  read.snapshot = nullptr;  // the reader is a view of one moment already
  return {};
}

Result<std::shared_ptr<const EntriesReader>> Database::entries_reader() const {
  auto& h = *m_handles;
  std::lock_guard lock(h.reader_mutex);
  const std::uint64_t generation = m_entry_changes.load();  // before the open: a later catch-up reopens
  if (!h.reader || h.reader->generation != generation) {
    auto reader = std::make_shared<EntriesReader>();
    reader->generation = generation;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status status =
        rocksdb::DB::OpenForReadOnly(h.reader_options, m_dir.string(), h.reader_families, &reader->families, &raw);
    if (!status.ok()) {
      reader->families.clear();  // none are made by an open that fails
      return failure_from(status, "read entries (shared with another process) from", m_dir);
    }
    reader->db.reset(raw);
    reader->entries = reader->families[1];
    reader->caches = caches_of(*raw, reader->entries);
    h.reader = std::move(reader);
  }
  return h.reader;
}

Result<bool> Database::get(Family which, std::string_view key, FunctionRef<void(std::string_view value)> use,
                           const Snapshot* at) const {
  if (const Database* writer = read_elsewhere(at)) {
    return writer->get(which, key, use, at);
  }
  std::shared_ptr<const EntriesReader> reader;  // outlives `value`, which may pin its caches
  rocksdb::PinnableSlice value;
  auto found = read(which, key, at, value, reader);
  if (found && found.value()) {
    use(std::string_view(value.data(), value.size()));
  }
  return found;
}

Result<bool> Database::get_holdable(Family which, std::string_view key, FunctionRef<void(ReadValue& value)> use) const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->get_holdable(which, key, use);
  }
  std::shared_ptr<const EntriesReader> reader;  // outlives `value`, which may pin its caches
  rocksdb::PinnableSlice value;
  auto found = read(which, key, nullptr, value, reader);
  if (found && found.value()) {
    // copies nothing: the caches are taken by hold() alone
    ReadValue read_value(value, reader ? reader->caches : m_handles->caches);
    use(read_value);
  }
  return found;
}

std::uint64_t Database::blob_cache_bytes() const noexcept { return m_handles->options.blob_cache_bytes; }

/// What a held value owns: the caches first, so that they outlive the value
/// that may pin one of their entries.
struct HeldValue::State {
  std::shared_ptr<const void> caches;
  rocksdb::PinnableSlice value;
};

HeldValue::HeldValue(std::unique_ptr<State> state) noexcept : m_state(std::move(state)) {}
HeldValue::HeldValue(HeldValue&&) noexcept = default;
HeldValue& HeldValue::operator=(HeldValue&&) noexcept = default;
HeldValue::~HeldValue() = default;

std::string_view HeldValue::bytes() const noexcept {
  return m_state ? std::string_view(m_state->value.data(), m_state->value.size()) : std::string_view();
}

ReadValue::ReadValue(rocksdb::PinnableSlice& slice, const std::shared_ptr<const void>& caches)
    : m_slice(&slice), m_bytes(slice.data(), slice.size()), m_caches(&caches) {}

bool ReadValue::blob_sized() const noexcept { return m_bytes.size() >= k_min_blob_size; }

bool ReadValue::pinned() const noexcept { return m_slice->IsPinned(); }

HeldValue ReadValue::hold() {
  auto state = std::make_unique<HeldValue::State>();
  state->caches = *m_caches;
  state->value = std::move(*m_slice);  // a pinned value moves its pin; a value of its own, its buffer
  m_bytes = std::string_view(state->value.data(), state->value.size());
  return HeldValue(std::move(state));
}

Result<void> Database::for_each(Family which, std::string_view prefix,
                                FunctionRef<bool(std::string_view key, std::string_view value)> visit,
                                const Snapshot* at) const {
  if (const Database* writer = read_elsewhere(at)) {
    return writer->for_each(which, prefix, visit, at);
  }
  auto& h = *m_handles;
  rocksdb::ColumnFamilyHandle* handle = family(which);
  if (handle == nullptr) {
    return {};
  }
  rocksdb::ReadOptions read = h.read_options;
  read.snapshot = at != nullptr ? at->m_snapshot : nullptr;
  rocksdb::DB* db = h.db.get();
  std::shared_ptr<const EntriesReader> reader;  // outlives the iterator
  if (auto routed = route_to_reader(which, db, handle, read, reader); !routed) {
    return routed.failure();
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, handle));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
    if (!visit(view(it->key()), view(it->value()))) {
      break;
    }
  }
  return checked(it->status(), "read from", m_dir);
}

std::unique_ptr<Snapshot> Database::snapshot() const {
  if (const Database* writer = read_elsewhere(nullptr)) {
    return writer->snapshot();
  }
  auto* db = m_handles->db.get();
  if (m_handles->secondary) {
    // RocksDB's secondary instances have no snapshots: their view is one
    // moment already, until the next catch-up (a scan that spans one may see
    // the holder's writes since; the counts it corrects are then off by those).
    return std::unique_ptr<Snapshot>(new Snapshot(db, nullptr));
  }
  return std::unique_ptr<Snapshot>(new Snapshot(db, db->GetSnapshot()));
}

Snapshot::~Snapshot() {
  if (m_snapshot != nullptr) {
    m_db->ReleaseSnapshot(m_snapshot);
  }
}

}  // namespace memostore::detail
