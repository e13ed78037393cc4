// Moving entries between stores: export to a single file (its bytes:
// codec/export_format.hpp), import from one, and merge another store's
// directory. Whatever comes in is checked entry by
// entry (it may come from anywhere); on a key both sides hold, the newer
// entry wins.
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/std.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/access.hpp"
#include "admin/readable_entries.hpp"
#include "admin/transfer.hpp"
#include "codec/entry_check.hpp"
#include "codec/export_format.hpp"
#include "codec/input_records.hpp"
#include "codec/meta.hpp"
#include "util/hex.hpp"

namespace memostore {

namespace {

namespace fs = std::filesystem;

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

/// The read and write bits of `dir`'s mode, for a file holding its contents
/// (0700 gives 0600); owner read-write when `dir` cannot be read.
mode_t file_mode_of(const fs::path& dir) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) {
    return S_IRUSR | S_IWUSR;
  }
  return (info.st_mode & 0666) | S_IRUSR | S_IWUSR;
}

}  // namespace

TransferReport export_to(const Store& store, const fs::path& file, const Progress& progress) {
  const detail::Database& database = detail::database_of(store, "export");
  TransferReport report;
  fs::path temporary = file;
  temporary += fmt::format(".tmp-{}", ::getpid());
  // A new file of this process's: O_EXCL refuses anything already under the
  // name, and O_NOFOLLOW a link planted there, so nothing is written through
  // either; only a file this made is removed or renamed below.
  // The file holds what the store holds: readable by whom the store's
  // directory is (owner only by default), created so, never widened later.
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        file_mode_of(store.dir()));
  if (fd < 0) {
    throw Error(ErrorCode::io, fmt::format("cannot write export file {}: cannot create its temporary file {} ({}). "
                                           "If it is left from an earlier export, or a link, remove it",
                                           file, temporary, std::strerror(errno)));
  }
  detail::ExportWriter writer(fd);
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

TransferReport import_from(Store& store, const fs::path& file, const Progress& progress) {
  detail::StoreCore& core = detail::writable_core(store, "import into");
  TransferReport report;
  EntryFolder folder(core, report);
  detail::ExportReader reader(file);
  detail::ExportRecord record;
  std::uint64_t records = 0;
  try {
    while (reader.next(record)) {
      folder.add(record.key, record.envelope, record.last_used_ms, record.inputs);
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

std::uint64_t check_export(const fs::path& file) {
  detail::ExportReader reader(file);
  detail::ExportRecord record;
  std::uint64_t entries = 0;
  while (reader.next(record)) {
    ++entries;
  }
  return entries;
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

TransferReport merge_from(Store& store, const fs::path& dir, const Progress& progress) {
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
