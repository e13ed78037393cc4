// Moving entries between stores: export to a single file, import from one,
// and merge another store's directory. Whatever comes in is checked entry by
// entry (it may come from anywhere); on a key both sides hold, the newer
// entry wins.
#include <fstream>
#include <set>

#include <fcntl.h>
#include <fmt/std.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <xxhash.h>

#include "admin/access.hpp"
#include "admin/readable_entries.hpp"
#include "admin/transfer.hpp"
#include "codec/entry_check.hpp"
#include "codec/input_records.hpp"
#include "codec/meta.hpp"
#include "util/endian.hpp"
#include "util/hex.hpp"
#include "util/stream_hash.hpp"

namespace memostore {

namespace {

namespace fs = std::filesystem;
using detail::HashState;
using detail::new_hash_state;

// The export file (docs/format.md), integers little-endian:
//   file    = magic version record* trailer
//   magic   = "MEMOSTORE-EXPORT" (16 bytes), version = u32 (2; 1 is read too)
//   record  = 'E' | key_size u32 | key | envelope_size u64 | envelope | last_used_ms i64
//             | inputs_size u32 | inputs (the meta family's inputs record; version 2 only)
//   trailer = 'Z' | records u64 | checksum u64: XXH3-64 of every byte before it
constexpr std::string_view k_export_magic = "MEMOSTORE-EXPORT";
constexpr std::uint32_t k_export_version = 2;
constexpr std::uint32_t k_first_export_version = 1;  // without input records
constexpr char k_record_tag = 'E';
constexpr char k_trailer_tag = 'Z';
constexpr std::size_t k_max_key_size = 1024;  // far above any valid key; refuses lying sizes early

/// Calls `visit(key, envelope, last_used_ms, inputs)` for each entry of
/// `database` at one snapshot (`inputs`: its input files record, or empty).
void for_each_stored(
    const detail::Database& database,
    const std::function<void(std::string_view, std::string_view, std::int64_t, std::string_view)>& visit) {
  const auto snapshot = database.snapshot();
  std::string inputs;
  detail::value_or_throw(database.for_each(
      detail::Family::entries, "",
      [&](std::string_view key, std::string_view bytes) {
        std::int64_t last_access_ms = 0;
        (void)database.get(
            detail::Family::meta, detail::meta_key(key, detail::k_access_tag),
            [&](std::string_view value) { last_access_ms = detail::decode_access(value).value_or(0); }, snapshot.get());
        inputs.clear();
        (void)database.get(
            detail::Family::meta, detail::meta_key(key, detail::k_inputs_tag),
            [&](std::string_view value) { inputs.assign(value); }, snapshot.get());
        visit(key, bytes, last_access_ms, inputs);
        return true;
      },
      snapshot.get()));
}

/// Stores checked entries into a store in batches, keeping the newer entry
/// where both sides have one.
class EntryFolder {
 public:
  EntryFolder(detail::StoreCore& core, TransferReport& report)
      : m_tiers(*core.tiers()),
        m_policy(*core.policy()),
        m_database(*core.database()),
        m_signer(core.signer()),
        m_batch(m_database),
        m_report(report) {}

  /// `inputs`: the entry's input files record, or empty.
  void add(std::string_view key, std::string_view bytes, std::int64_t last_used_ms, std::string_view inputs) {
    auto checked = detail::check_entry(key, bytes, m_signer);
    if (!checked) {
      m_report.rejected.push_back(detail::problem_at(key, checked.failure().message));
      return;
    }
    if (!inputs.empty() && !detail::decode_inputs(inputs)) {
      m_report.rejected.push_back(detail::problem_at(key, "its input files record is damaged"));
      return;
    }
    if (m_keys_in_batch.count(key) > 0) {
      commit();  // a repeated key: the lookup below must see the first copy
    }
    std::optional<detail::EntryMeta> existing;
    detail::value_or_throw(m_database.get(detail::Family::meta, detail::meta_key(key, detail::k_info_tag),
                                          [&](std::string_view value) { existing = detail::decode_meta(value); }));
    const detail::EntryInfo& info = checked->envelope.info;
    if (existing && existing->created_ms >= info.created_ms) {
      m_report.kept += 1;
      return;
    }
    const detail::EntryMeta meta{key.size() + bytes.size(), info.created_ms, info.expires_ms};
    detail::FunctionState& function = m_policy.function(checked->key.name);
    m_batch.put(detail::Family::entries, key, bytes);
    detail::LiveChange change =
        m_policy.stage_store(m_batch, function, key, meta, existing ? std::optional(existing->size) : std::nullopt, 0,
                             inputs);
    change.stores = 0;  // moved, not computed
    m_changes.push_back(change);
    if (last_used_ms > info.created_ms) {
      m_batch.put(detail::Family::meta, detail::meta_key(key, detail::k_access_tag),
                  detail::encode_access(last_used_ms));
    }
    m_keys_in_batch.emplace(key);
    m_touched.insert(&function);
    m_batch_bytes += meta.size;
    m_report.entries += 1;
    m_report.bytes += meta.size;
    constexpr std::uint64_t k_batch_bytes = 32 << 20;
    if (m_changes.size() >= 1000 || m_batch_bytes >= k_batch_bytes) {
      commit();
    }
  }

  /// Writes what is pending and applies the size budgets.
  void finish() {
    commit();
    for (detail::FunctionState* function : m_touched) {
      m_tiers.enforce_budgets(*function);
    }
  }

 private:
  void commit() {
    detail::value_or_throw(m_tiers.commit(m_batch, m_changes));
    m_batch = detail::Batch(m_database);
    m_changes.clear();
    m_keys_in_batch.clear();
    m_batch_bytes = 0;
  }

  detail::Tiers& m_tiers;
  detail::StorePolicy& m_policy;
  detail::Database& m_database;
  const detail::EntrySigner* m_signer;  // the store's: what it takes in must be signed for it
  detail::Batch m_batch;
  std::vector<detail::LiveChange> m_changes;
  std::set<std::string, std::less<>> m_keys_in_batch;
  std::set<detail::FunctionState*> m_touched;
  std::uint64_t m_batch_bytes = 0;
  TransferReport& m_report;
};

/// Writes the export format, hashing as it goes.
class ExportWriter {
 public:
  /// Writes to `fd` (a new file), which it owns.
  explicit ExportWriter(int fd) : m_out(::fdopen(fd, "wb")) {
    if (m_out == nullptr) {
      ::close(fd);
    }
    write(k_export_magic);
    write_u32(k_export_version);
  }

  void record(std::string_view key, std::string_view envelope, std::int64_t last_used_ms, std::string_view inputs) {
    write(std::string_view(&k_record_tag, 1));
    write_u32(static_cast<std::uint32_t>(key.size()));
    write(key);
    write_u64(envelope.size());
    write(envelope);
    write_u64(static_cast<std::uint64_t>(last_used_ms));
    write_u32(static_cast<std::uint32_t>(inputs.size()));
    write(inputs);
    ++m_records;
  }

  /// Writes the trailer; false if anything failed to write.
  bool finish() {
    write(std::string_view(&k_trailer_tag, 1));
    write_u64(m_records);
    char checksum[8];
    detail::put_u64le(checksum, XXH3_64bits_digest(m_hash.get()));
    return m_out != nullptr && std::fwrite(checksum, 1, sizeof checksum, m_out.get()) == sizeof checksum &&
           std::fflush(m_out.get()) == 0 && std::ferror(m_out.get()) == 0;
  }

 private:
  void write(std::string_view bytes) {
    XXH3_64bits_update(m_hash.get(), bytes.data(), bytes.size());
    if (m_out != nullptr) {
      std::fwrite(bytes.data(), 1, bytes.size(), m_out.get());  // an error stays set: finish() reports it
    }
  }
  void write_u32(std::uint32_t v) {
    char bytes[4];
    detail::put_u32le(bytes, v);
    write(std::string_view(bytes, 4));
  }
  void write_u64(std::uint64_t v) {
    char bytes[8];
    detail::put_u64le(bytes, v);
    write(std::string_view(bytes, 8));
  }

  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, Closer> m_out;
  HashState m_hash = new_hash_state();
  std::uint64_t m_records = 0;
};

/// Reads the export format, refusing sizes larger than what the file holds.
class ExportReader {
 public:
  explicit ExportReader(const fs::path& path) : m_path(path), m_in(path, std::ios::binary) {
    if (!m_in) {
      throw Error(ErrorCode::io, fmt::format("cannot open export file {}: it does not exist or cannot be read", path));
    }
    std::error_code ec;
    m_size = fs::file_size(path, ec);
    std::string magic;
    if (!read(magic, k_export_magic.size()) || magic != k_export_magic) {
      throw Error(ErrorCode::format,
                  fmt::format("{} is not a memostore export file (made by `memostore export`)", path));
    }
    m_version = read_u32();
    if (m_version < k_first_export_version || m_version > k_export_version) {
      throw Error(ErrorCode::format,
                  fmt::format("{} is a memostore export of version {}, this build reads versions {} to {}. "
                              "Import it with the memostore version that wrote it",
                              path, m_version, k_first_export_version, k_export_version));
    }
  }

  /// Reads the next record; false after the trailer (checked).
  bool next(std::string& key, std::string& envelope, std::int64_t& last_used_ms, std::string& inputs) {
    std::string tag;
    if (!read(tag, 1)) {
      damaged("it ends before its trailer (truncated?)");
    }
    if (tag[0] == k_trailer_tag) {
      const std::uint64_t records = read_u64();
      const std::uint64_t expected = XXH3_64bits_digest(m_hash.get());
      const std::uint64_t checksum = read_u64();
      if (checksum != expected || records != m_records || m_in.peek() != std::char_traits<char>::eof()) {
        damaged("its trailer does not match its contents");
      }
      return false;
    }
    if (tag[0] != k_record_tag) {
      damaged("a record has an unknown tag");
    }
    const std::uint32_t key_size = read_u32();
    if (key_size > k_max_key_size || !read(key, key_size)) {
      damaged("a key size is out of range");
    }
    const std::uint64_t envelope_size = read_u64();
    if (envelope_size > remaining() || !read(envelope, envelope_size)) {
      damaged(fmt::format("a record claims {} bytes, more than the file holds", envelope_size));
    }
    last_used_ms = static_cast<std::int64_t>(read_u64());
    inputs.clear();
    if (m_version >= 2) {
      const std::uint32_t inputs_size = read_u32();
      if (inputs_size > remaining() || !read(inputs, inputs_size)) {
        damaged(fmt::format("an input files record claims {} bytes, more than the file holds", inputs_size));
      }
    }
    ++m_records;
    return true;
  }

  std::uint64_t position() const { return m_position; }
  std::uint64_t size() const { return m_size; }

 private:
  std::uint64_t remaining() const { return m_size > m_position ? m_size - m_position : 0; }

  bool read(std::string& out, std::uint64_t size) {
    if (size > remaining()) {
      return false;
    }
    out.resize(size);
    m_in.read(out.data(), static_cast<std::streamsize>(size));
    if (static_cast<std::uint64_t>(m_in.gcount()) != size) {
      return false;
    }
    m_position += size;
    XXH3_64bits_update(m_hash.get(), out.data(), out.size());
    return true;
  }
  std::uint64_t read_u64() {
    std::string bytes;
    if (!read(bytes, 8)) {
      damaged("it ends inside a record (truncated?)");
    }
    return detail::get_u64le(bytes.data());
  }
  std::uint32_t read_u32() {
    std::string bytes;
    if (!read(bytes, 4)) {
      damaged("it ends inside a record (truncated?)");
    }
    return detail::get_u32le(bytes.data());
  }

  [[noreturn]] void damaged(const std::string& why) const {
    throw Error(ErrorCode::corruption, fmt::format("export file {} is damaged at byte {}: {}. The {} entries before "
                                                   "the damage were checked one by one and kept",
                                                   m_path, m_position, why, m_records));
  }

  fs::path m_path;
  std::ifstream m_in;
  std::uint64_t m_size = 0;
  std::uint64_t m_position = 0;
  std::uint64_t m_records = 0;
  std::uint32_t m_version = 0;
  HashState m_hash = new_hash_state();
};

}  // namespace

TransferReport export_store(const Store& store, const fs::path& file, const Progress& progress) {
  const detail::Database& database = detail::database_of(store, "export");
  TransferReport report;
  fs::path temporary = file;
  temporary += fmt::format(".tmp-{}", ::getpid());
  // A new file of this process's: O_EXCL refuses anything already under the
  // name, and O_NOFOLLOW a link planted there, so nothing is written through
  // either; only a file this made is removed or renamed below.
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw Error(ErrorCode::io, fmt::format("cannot write export file {}: cannot create its temporary file {} ({}). "
                                           "If it is left from an earlier export, or a link, remove it",
                                           file, temporary, std::strerror(errno)));
  }
  ExportWriter writer(fd);
  const std::uint64_t estimate = database.estimate_keys(detail::Family::entries);
  std::uint64_t seen = 0;
  for_each_stored(database, [&](std::string_view key, std::string_view bytes, std::int64_t last_access_ms,
                                std::string_view inputs) {
    if (progress && ++seen % 1024 == 0) {
      progress(seen, std::max(estimate, seen));
    }
    auto checked = detail::check_entry(key, bytes, detail::core_of(store)->signer());
    if (!checked) {  // not worth carrying elsewhere; `verify` reports it here
      report.rejected.push_back(detail::problem_at(key, checked.failure().message));
      return;
    }
    writer.record(key, bytes, std::max(last_access_ms, checked->envelope.info.created_ms), inputs);
    report.entries += 1;
    report.bytes += key.size() + bytes.size();
  });
  std::error_code ec;
  const bool written = writer.finish();
  if (written) {
    fs::rename(temporary, file, ec);
  }
  if (!written || ec) {
    fs::remove(temporary, ec);
    throw Error(ErrorCode::io, fmt::format("cannot write export file {}: the disk may be full or the directory not "
                                           "writable",
                                           file));
  }
  if (progress) {
    progress(seen, seen);
  }
  return report;
}

TransferReport import_store(Store& store, const fs::path& file, const Progress& progress) {
  detail::StoreCore& core = detail::writable_core(store, "import into");
  TransferReport report;
  EntryFolder folder(core, report);
  ExportReader reader(file);
  std::string key;
  std::string envelope;
  std::string inputs;
  std::int64_t last_used_ms = 0;
  std::uint64_t records = 0;
  try {
    while (reader.next(key, envelope, last_used_ms, inputs)) {
      folder.add(key, envelope, last_used_ms, inputs);
      if (progress && ++records % 1024 == 0) {
        progress(reader.position(), reader.size());
      }
    }
  } catch (const Error&) {
    folder.finish();  // what passed its checks is kept
    throw;
  }
  folder.finish();
  if (progress) {
    progress(reader.size(), reader.size());
  }
  return report;
}

namespace detail {

TransferReport salvage_entries(const Database& from, StoreCore& into) {
  TransferReport report;
  EntryFolder folder(into, report);
  std::string inputs;
  const ReadableScan scan = for_each_readable_entry(from, [&](std::string_view key, std::string_view bytes) {
    std::int64_t last_access_ms = 0;
    (void)from.get(Family::meta, meta_key(key, k_access_tag),
                   [&](std::string_view value) { last_access_ms = decode_access(value).value_or(0); });
    inputs.clear();
    (void)from.get(Family::meta, meta_key(key, k_inputs_tag), [&](std::string_view value) { inputs.assign(value); });
    folder.add(key, bytes, last_access_ms, inputs);
  });
  for (const UnreadableEntry& entry : scan.unreadable) {
    report.rejected.push_back(problem_at(entry.key, fmt::format("its value cannot be read ({})", entry.what)));
  }
  for (const std::string& stop : scan.stops) {
    report.rejected.push_back(Problem{"", "", stop});
  }
  folder.finish();
  return report;
}

}  // namespace detail

TransferReport merge_store(Store& store, const fs::path& dir, const Progress& progress) {
  detail::StoreCore& core = detail::writable_core(store, "merge into");
  std::error_code ec;
  if (fs::equivalent(dir, store.dir(), ec)) {
    throw Error(ErrorCode::usage, fmt::format("cannot merge {} into itself", dir));
  }
  const Store source = Store::open(StoreOptions{.dir = dir, .mode = Mode::readonly});
  const detail::Database& database = detail::database_of(source, "merge from");
  TransferReport report;
  EntryFolder folder(core, report);
  const std::uint64_t estimate = database.estimate_keys(detail::Family::entries);
  std::uint64_t seen = 0;
  for_each_stored(database, [&](std::string_view key, std::string_view bytes, std::int64_t last_access_ms,
                                std::string_view inputs) {
    folder.add(key, bytes, last_access_ms, inputs);
    if (progress && ++seen % 1024 == 0) {
      progress(seen, std::max(estimate, seen));
    }
  });
  folder.finish();
  if (progress) {
    progress(seen, seen);
  }
  return report;
}

}  // namespace memostore
