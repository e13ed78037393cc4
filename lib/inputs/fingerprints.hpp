// Fingerprints: the content hashes of input files, remembered in the store
// (the "default" family, keyed by absolute path) with the file's identity
// (device, inode, size, modification and change times), so that a file whose
// identity has not changed is not read again. Like ccache's direct mode.
//
// A file changed within k_racy_window of the moment it is hashed is hashed
// again on every call until it is older: a same-size write inside the file
// system's timestamp granularity would otherwise leave its identity unchanged
// (git calls these "racily clean" files).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <memostore/policy.hpp>
#include <memostore/stats.hpp>

#include "codec/entry_signer.hpp"
#include "codec/input_records.hpp"
#include "storage/database.hpp"
#include "util/result.hpp"

namespace memostore::detail {

inline constexpr std::chrono::seconds k_racy_window{2};

/// File hash records learnt during one call, written together afterwards.
using LearntFiles = std::vector<std::pair<std::string, std::string>>;

class Fingerprints {
 public:
  /// `database` null (Mode::off): nothing is remembered; read-only: what is
  /// remembered is used, nothing new is. `signer` (the store's, or null):
  /// remembered hashes are signed with it and used only if they verify, so
  /// a planted record cannot make a changed file pass for another content.
  /// `always_hash`: MEMOSTORE_FILE_CHECK=content, never trust the identity.
  Fingerprints(Database* database, const EntrySigner* signer, std::shared_ptr<const Clock> clock, bool always_hash);

  /// The XXH3-128 hash of the content of the regular file at `path`
  /// (absolute); an io failure naming it if it cannot be read.
  Result<Hash128> file(const std::filesystem::path& path, LearntFiles& learnt);

  /// The fingerprint of the files of `path` (absolute) matching `pattern`:
  /// XXH3-128 over each file's relative path and content hash, in order.
  Result<Hash128> dir(const std::filesystem::path& path, const std::string& pattern, LearntFiles& learnt);

  /// Writes the learnt records in one batch. A failure is not an error: the
  /// files are hashed again next time.
  void remember(LearntFiles& learnt);

  /// Removes the remembered hashes of files that are gone or changed since
  /// (they would never be used again); returns how many. Part of gc.
  Result<std::uint64_t> forget_stale();

  /// What fingerprinting cost this process so far.
  InputStats stats() const noexcept;

 private:
  /// Whether a remembered hash may stand for a file whose identity matches.
  bool trusts_identity() const noexcept;
  /// The hash of the file at `path`: `known` if its identity still matches, else read.
  Result<Hash128> file(const std::filesystem::path& path, const std::optional<FileRecord>& known,
                       LearntFiles& learnt);

  /// The record under `key` if it is well formed (and signed, with a signer).
  std::optional<FileRecord> read_record(std::string_view key, std::string_view bytes) const;
  /// What to store under `key` for `record`; empty if it cannot be signed.
  std::string record_bytes(std::string_view key, const FileRecord& record) const;

  Database* m_database;
  bool m_writable;
  const EntrySigner* m_signer;
  std::shared_ptr<const Clock> m_clock;
  bool m_always_hash;
  std::atomic<std::uint64_t> m_files_checked{0};
  std::atomic<std::uint64_t> m_files_hashed{0};
  std::atomic<std::uint64_t> m_bytes_hashed{0};
};

}  // namespace memostore::detail
