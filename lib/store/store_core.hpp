// StoreCore: one opened cache directory, shared by every Store handle and
// memoized function on it: the database, the compute-once table, and the
// state behind "warn once". Thread-safe.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "codec/entry_signer.hpp"
#include "inputs/fingerprints.hpp"
#include "memo/hot_entries.hpp"
#include "memo/inflight.hpp"
#include "policy/store_policy.hpp"
#include "remote/remote_tier.hpp"
#include "storage/database.hpp"

namespace memostore::detail {

class StoreCore {
 public:
  /// `database` is null for a store in Mode::off; `signer` is null without a secret.
  StoreCore(std::filesystem::path dir, std::unique_ptr<Database> database, StorePolicySettings settings,
            std::unique_ptr<const EntrySigner> signer = nullptr, std::unique_ptr<RemoteTier> remote = nullptr);
  /// Sends what the remote tier has queued (bounded), then closes.
  ~StoreCore();

  /// Null when the store is off.
  Database* database() const noexcept { return m_database.get(); }
  /// Null when the store is off.
  StorePolicy* policy() const noexcept { return m_policy.get(); }
  /// Signs what this store writes and checks what it reads; null without a secret.
  const EntrySigner* signer() const noexcept { return m_signer.get(); }
  InflightTable& inflight() noexcept { return m_inflight; }
  /// Recently read small entries, in memory.
  HotEntries& hot() noexcept { return m_hot; }
  /// The shared remote tier beneath this store; null without one.
  RemoteTier* remote() const noexcept { return m_remote.get(); }
  /// The content hashes of input files, remembered in this store.
  Fingerprints& fingerprints() noexcept { return m_fingerprints; }
  const std::filesystem::path& dir() const noexcept { return m_dir; }

  /// Logs a failed write of `what` ("a result of f", "the statistics") the
  /// first time only: a full disk would otherwise produce one line per call.
  void report_write_failure(std::string_view what, const Failure& failure);

  /// True the first time it is called for `key`: a damaged entry that cannot
  /// be removed (readonly mode) or cannot be read is warned about once, not
  /// on every call. The damage paths call it with entry keys; the changed
  /// layout warning with a text of its own per function (no entry key has a newline).
  bool first_report_for(std::string_view key);

  /// Logs, once per store, that entries of `function` were ignored for lacking
  /// a valid signature (a store that just got a secret has many).
  void report_rejected(std::string_view function);

 private:
  /// `settings` with this store's failure reports and remote counters.
  StorePolicySettings with_store_hooks(StorePolicySettings settings);

  std::filesystem::path m_dir;
  std::unique_ptr<const EntrySigner> m_signer;
  std::atomic<bool> m_write_failure_reported{false};
  std::atomic<bool> m_rejected_reported{false};  // before m_policy, which reports through it
  std::unique_ptr<Database> m_database;
  std::unique_ptr<RemoteTier> m_remote;  // before m_policy, whose last flush writes its counters
  HotEntries m_hot;  // before m_policy, whose flushes take its hits; after m_database, whose pins it holds
  std::unique_ptr<StorePolicy> m_policy;  // after m_database: flushes into it when destroyed
  InflightTable m_inflight;
  Fingerprints m_fingerprints;
  std::mutex m_reported_mutex;
  std::unordered_set<std::string> m_reported_keys;  // guarded by m_reported_mutex
};

/// Opens `dir` with `options`, or returns the StoreCore already open for the
/// same directory in this process (RocksDB allows one opener per directory;
/// the first opener's settings apply, except that the secret must match).
/// `remote`: the remote tier's settings, none without one.
Result<std::shared_ptr<StoreCore>> open_store_core(const std::filesystem::path& dir, DatabaseOptions options,
                                                   StorePolicySettings settings,
                                                   std::unique_ptr<const EntrySigner> signer,
                                                   std::optional<RemoteSettings> remote = std::nullopt);

}  // namespace memostore::detail
