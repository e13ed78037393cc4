// StoreCore: one opened cache directory, shared by every Store handle and
// memoized function on it: its tiers (the storage facade), the in-process
// compute-once table and the remembered input hashes. Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "codec/entry_signer.hpp"
#include "inputs/fingerprints.hpp"
#include "policy/store_policy.hpp"
#include "remote/remote_tier.hpp"
#include "storage/database.hpp"
#include "tiers/inflight.hpp"
#include "store/refresh_pool.hpp"
#include "tiers/tiers.hpp"

namespace memostore::detail {

class StoreCore {
 public:
  /// `tiers` is null for a store in Mode::off.
  StoreCore(std::filesystem::path dir, std::unique_ptr<Tiers> tiers, std::shared_ptr<const Clock> clock,
            bool always_hash_inputs, unsigned refresh_threads = 0);

  /// The storage facade; null when the store is off.
  Tiers* tiers() const noexcept { return m_tiers.get(); }
  /// Null when the store is off.
  Database* database() const noexcept { return m_tiers ? &m_tiers->database() : nullptr; }
  /// Null when the store is off.
  StorePolicy* policy() const noexcept { return m_tiers ? &m_tiers->policy() : nullptr; }
  /// Signs what this store writes and checks what it reads; null without a secret.
  const EntrySigner* signer() const noexcept { return m_tiers ? m_tiers->signer() : nullptr; }
  /// The shared remote tier beneath this store; null without one.
  RemoteTier* remote() const noexcept { return m_tiers ? m_tiers->remote() : nullptr; }
  InflightTable& inflight() noexcept { return m_inflight; }
  /// The content hashes of input files, remembered in this store.
  Fingerprints& fingerprints() noexcept { return m_fingerprints; }
  const std::filesystem::path& dir() const noexcept { return m_dir; }
  /// The background refreshes of stale results (MemoOptions::refresh_after).
  RefreshPool& refreshes() noexcept { return m_refreshes; }

 private:
  std::filesystem::path m_dir;
  std::unique_ptr<Tiers> m_tiers;
  InflightTable m_inflight;
  Fingerprints m_fingerprints;  // after m_tiers, whose database it reads
  RefreshPool m_refreshes;  // last: closed (bounded) before the tiers its jobs write to go
};

/// Opens `dir` with `options`, or returns the StoreCore already open for the
/// same directory in this process (RocksDB allows one opener per directory;
/// the first opener's settings apply, except that the secret must match).
/// `remote`: the remote tier's settings, none without one; `fallback`: the
/// read-only fallback directories (tiers/fallbacks.hpp).
Result<std::shared_ptr<StoreCore>> open_store_core(const std::filesystem::path& dir, DatabaseOptions options,
                                                   StorePolicySettings settings,
                                                   std::unique_ptr<const EntrySigner> signer,
                                                   std::optional<RemoteSettings> remote = std::nullopt,
                                                   const std::vector<std::filesystem::path>& fallback = {});

}  // namespace memostore::detail
