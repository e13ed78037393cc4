// Tiers: the storage facade of one open store. It owns the tiers and their
// order, and the promotion between them:
//
//   hot tier (this process's memory)  ->  this directory (RocksDB, with what
//   processes sharing it handed over)  ->  fallback directories (other stores,
//   read-only: tiers/fallbacks.hpp)  ->  remote tier (Redis, shared by machines)
//
// A read goes down until a tier has the entry; an entry found in a lower tier
// is checked there once (structure, checksum, signature, then the caller's
// judge) and copied up. A new entry goes down: into this directory now, to
// the remote tier in the background (at once while others wait for it).
// Computing a call once across processes and machines is one mechanism with
// two backends (tiers/shared_flight.hpp). The memo layer talks to this class
// only; the store and admin layers also reach the layers beneath through it.
//
// The tiers below never call up: the local tier's bookkeeping (StorePolicy)
// is flushed by this class's thread, which hands it the counts the tiers
// above kept, and what a cleanup removes is dropped from the hot tier here.
// Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <memostore/detail/function_ref.hpp>
#include <memostore/stats.hpp>

#include "codec/entry_signer.hpp"
#include "codec/envelope.hpp"
#include "policy/store_policy.hpp"
#include "remote/remote_tier.hpp"
#include "storage/database.hpp"
#include "tiers/decoded_result.hpp"
#include "tiers/hot_entries.hpp"
#include "tiers/outcome.hpp"
#include "tiers/reports.hpp"

namespace memostore::detail {

class ClaimBackend;
class Claims;

/// A computed result as a finished envelope, ready to store and send.
struct NewEntry {
  std::shared_ptr<const std::string> envelope;
  EntryInfo info;
  bool finished = false;  // false: it could not be signed, so it is returned but not kept
};

/// What the writer of a new entry knows of the one it replaces.
struct Replacing {
  bool looked = false;                 // a lookup just read the key (else its size is read now)
  std::optional<std::uint64_t> size;   // key + entry bytes of what is stored, if anything
};

class Tiers {
 public:
  /// `signer` is null without a secret, `remote` without a remote tier;
  /// `fallbacks` are read-only stores asked in order before it (open_fallbacks).
  /// Starts the bookkeeping thread of a writable store.
  Tiers(std::unique_ptr<Database> database, StorePolicySettings settings, std::unique_ptr<const EntrySigner> signer,
        std::unique_ptr<RemoteTier> remote, std::vector<std::unique_ptr<Database>> fallbacks = {});
  /// Sends what the remote tier has queued (bounded), stops the thread and
  /// writes the bookkeeping (a failure is warned about, never thrown).
  ~Tiers();
  Tiers(const Tiers&) = delete;
  Tiers& operator=(const Tiers&) = delete;

  // --- Reading a call's entry ---

  /// Reads `key` from the hot tier, else from this directory, judging what
  /// is found with `judge` (which decodes a hit). Counts the outcome; a
  /// damaged entry, or one of a changed layout, is removed (when writable)
  /// and warned about; an expired or rejected one is left for the new
  /// result to replace.
  ///
  /// With `shared` (Memo::shared): before judging an entry the hot tier
  /// keeps decoded, sets `shared` to its decoded result (the judge then
  /// checks the entry without decoding it again), or to that of an older
  /// copy, marked stale (the judge reuses it if the digest did not change);
  /// on a hit the judge decoded into `shared` otherwise, that result is kept
  /// with the entry, which the hot tier takes at its first read.
  Lookup find(const Caller& caller, const std::string& key, Judge judge, DecodedResult* shared = nullptr);

  /// After `find` missed (`last`): asks the tiers below this directory, the
  /// fallback directories in order, then the remote tier. A hit there is
  /// checked and judged like a local one, counted as a hit and copied into
  /// this directory (with `inputs_record`, the call's encoded input files).
  bool find_lower(const Caller& caller, const std::string& key, Judge judge, const Lookup& last,
                  std::string_view inputs_record);

  /// Calls `use` with the entry this directory holds for `key` and its size
  /// (key plus envelope bytes) if it is authentic and `judge` finds it a
  /// hit; bypasses the hot tier, counts, logs and removes nothing. False if
  /// the read failed.
  bool read_stored(const std::string& key, Judge judge,
                   FunctionRef<void(const EntryView& entry, std::uint64_t size)> use);

  /// How far a claim reaches (MemoOptions::inflight).
  enum class ClaimReach {
    processes,               // those sharing this directory: a file claim
    processes_and_machines,  // also those sharing the remote tier: a lease in Redis too
  };

  /// While another process (or machine, per `reach`) computes `key`, waits
  /// for its result (found through `judge`, as find and find_lower do) or
  /// takes the claims, which the caller holds until it kept its result.
  /// True if the result was found.
  bool found_elsewhere_or_claim(const Caller& caller, const std::string& key, ClaimReach reach, Duration lease_bound,
                                Judge judge, const Lookup& last, std::string_view inputs_record, Claims& claims);

  /// For a background refresh of `key` (MemoOptions::refresh_after): takes
  /// the claims a miss takes (the file claim, then with `reach` the remote
  /// lease), but never waits. False if another process or
  /// machine holds one: it is computing the same call, so this one need not.
  /// True (claims taken, or none to be had) otherwise.
  bool claim_for_refresh(const Caller& caller, const std::string& key, ClaimReach reach, Claims& claims);

  // --- Writing ---

  /// Keeps a computed entry: into this directory (with its bookkeeping and
  /// `inputs_record`, then the budgets), then to the remote tier (at once
  /// when `claims` hold a remote lease: other machines wait for it). Nothing
  /// in a store that does not write; a failure is warned about once.
  void keep(const Caller& caller, const std::string& key, const NewEntry& entry, const Replacing& replacing,
            std::string_view inputs_record, const Claims& claims);

  /// Deletes the entry under `key` and its bookkeeping. Throws Error (io).
  void forget(const Caller& caller, const std::string& key);

  /// Writes `batch` (entries and their bookkeeping, staged through policy())
  /// and drops the hot copies of the entries it removed.
  Result<void> commit(Batch& batch, std::span<const LiveChange> changes);
  Result<void> commit(Batch& batch, const LiveChange& change) { return commit(batch, std::span(&change, 1)); }
  /// After a write: evicts if `function` or the store is over budget.
  void enforce_budgets(FunctionState& function);

  // --- Bookkeeping ---

  Result<void> flush();
  StoreStats stats();
  Result<CleanupReport> evict();
  Result<CleanupReport> gc(const CleanupRequest& request);
  /// Deletes every entry of `function` (all versions, or only `version`), or
  /// of every function when it is empty (StorePolicy::clear).
  Result<Totals> clear(std::string_view function, std::optional<std::uint32_t> version = std::nullopt);

  // --- For the memo layer ---

  /// True unless the store was opened readonly.
  bool writable() const noexcept { return m_policy->settings().writable; }
  const StorePolicySettings& settings() const noexcept { return m_policy->settings(); }
  FunctionState& function(std::string_view name) { return m_policy->function(name); }
  std::int64_t now_ms() const { return m_policy->now_ms(); }
  std::optional<Duration> ttl_for(const FunctionState& function) const { return m_policy->ttl_for(function); }
  void count_miss(const Caller& caller) noexcept { m_policy->record_miss(*caller.state); }
  /// A hit on a result another thread of this process computed (nothing was read).
  void count_hit(const Caller& caller, std::string_view key) {
    m_policy->record_hit(*caller.state, key, 0, now_ms());
  }
  void count_check(const Caller& caller, bool stale) noexcept { m_policy->record_check(*caller.state, stale); }
  bool was_evicted(std::string_view key) const { return m_policy->was_evicted(key); }
  /// Signs what this store writes and checks what it reads; null without a secret.
  const EntrySigner* signer() const noexcept { return m_signer.get(); }
  const std::filesystem::path& dir() const noexcept { return m_database->dir(); }
  /// Scans this directory's entries, or their records, under `prefix`.
  Result<void> for_each_entry(std::string_view prefix, FunctionRef<bool(std::string_view, std::string_view)> visit);
  Result<void> for_each_record(std::string_view prefix, FunctionRef<bool(std::string_view, std::string_view)> visit);

  // --- The layers beneath, for the store and admin layers ---

  Database& database() const noexcept { return *m_database; }
  StorePolicy& policy() const noexcept { return *m_policy; }
  /// Null without a remote tier.
  RemoteTier* remote() const noexcept { return m_remote.get(); }
  const HotEntries& hot() const noexcept { return m_hot; }
  Reports& reports() noexcept { return m_reports; }

 private:
  /// Where an entry stored in this directory comes from.
  enum class Origin { computed, lower_tier };
  /// Stores `bytes` (a whole envelope with `info`) in this directory with its bookkeeping.
  void store_locally(const Caller& caller, const std::string& key, std::string_view bytes, const EntryInfo& info,
                     Replacing replacing, std::string_view inputs_record, Origin origin);
  /// Checks an entry a lower tier returned for `key` as find checks a local
  /// one: structure and checksum, this store's signature, then `judge`.
  Outcome check_lower(const std::string& key, std::string_view bytes, Judge judge, std::int64_t now,
                      EntryInfo& info) const;
  /// Counts a lower tier's hit and copies it into this directory (when writable).
  void take_lower_hit(const Caller& caller, const std::string& key, std::string_view bytes, const EntryInfo& info,
                      std::int64_t now, const Lookup& last, std::string_view inputs_record);
  /// The fallback directories' part of find_lower: true on a hit.
  bool find_in_fallbacks(const Caller& caller, const std::string& key, Judge judge, const Lookup& last,
                         std::string_view inputs_record);
  /// Removes a damaged entry with its bookkeeping; best effort.
  void remove_damaged(const Caller& caller, const std::string& key, std::uint64_t size);
  /// Counts and reports what a read of this directory found other than a
  /// hit, and removes what can never be a hit (when writable).
  void settle_miss(const Caller& caller, const std::string& key, Lookup& result, const std::string& detail);
  enum class Waited { found, compute };
  /// The one polling loop over a backend: see found_elsewhere_or_claim.
  Waited wait_or_take(ClaimBackend& backend, const Caller& caller, Duration lease_bound, FunctionRef<bool()> look);
  /// Hands the local tier the counts kept above it (the hot tier's hits,
  /// the remote tier's counters), for its next flush.
  void hand_over_counts();
  void run_bookkeeping();
  void forget_hot(std::string_view key) { m_hot.forget(key); }

  Reports m_reports;
  std::unique_ptr<const EntrySigner> m_signer;
  std::unique_ptr<Database> m_database;
  std::unique_ptr<RemoteTier> m_remote;
  std::vector<std::unique_ptr<Database>> m_fallbacks;  // read-only; never written, flushed or cleaned up
  HotEntries m_hot;  // after m_database, whose pins it holds
  std::unique_ptr<StorePolicy> m_policy;  // after m_database: its last flush writes into it
  std::thread m_bookkeeping;
};

}  // namespace memostore::detail
