// What a store has done and holds: counters per function that survive
// restarts (Store::stats), and what a cleanup removed (Store::evict, Store::gc).
// Plain values; safe to copy between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace memostore {

/// Counters of one memoized function (all versions), or of a whole store.
struct FunctionStats {
  std::string name;  ///< empty for store totals
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t stores = 0;       ///< results written
  std::uint64_t evictions = 0;    ///< entries removed by a size budget
  std::uint64_t expirations = 0;  ///< entries found or removed past their ttl
  std::uint64_t rejected = 0;     ///< entries ignored for a missing or wrong signature (StoreOptions::secret)
  /// Stored results compared with a fresh computation (Mode::check, StoreOptions::check_rate).
  std::uint64_t checked = 0;
  /// Checked results that differed from the fresh one: a forgotten `version`
  /// bump or a function that is not deterministic. Each was replaced.
  std::uint64_t stale = 0;
  /// Entries whose bytes no longer decode as the result type (fields added,
  /// removed or retyped without a `version` bump): misses, recomputed.
  std::uint64_t changed_layout = 0;
  /// Hits found in a fallback directory (StoreOptions::fallback) and copied
  /// into this store; also counted in `hits`.
  std::uint64_t fallback_hits = 0;
  /// Results recomputed and stored by a refresh: in the background after a
  /// hit on an entry older than MemoOptions::refresh_after, or by Memo::refresh.
  std::uint64_t refreshes = 0;
  /// Background refreshes whose function threw: the stored result was kept
  /// (served until its ttl) and the refresh is retried on later hits.
  std::uint64_t refresh_failures = 0;
  std::uint64_t entries = 0;      ///< live entries now
  std::uint64_t bytes = 0;        ///< live bytes now (keys and stored envelopes)
  std::chrono::nanoseconds compute_time{0};  ///< time the function spent on misses
  std::chrono::nanoseconds saved_time{0};    ///< recorded compute time of each hit's entry, added up

  /// hits / (hits + misses); 0 when there were no calls.
  double hit_rate() const noexcept {
    const std::uint64_t calls = hits + misses;
    return calls == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(calls);
  }
};

/// What fingerprinting File and Dir inputs (memostore/inputs.hpp) cost this
/// process since it opened the store; not kept across restarts.
struct InputStats {
  std::uint64_t files_checked = 0;  ///< files found unchanged by their identity (stat), not read
  std::uint64_t files_hashed = 0;   ///< files read and hashed
  std::uint64_t bytes_hashed = 0;   ///< bytes of the files hashed
};

/// What the remote tier (StoreOptions::remote) did for this store: counted by
/// every process using it and kept across restarts (written with the other
/// counters every 2 s; a readonly store shows this process's alone).
struct RemoteStats {
  std::uint64_t hits = 0;            ///< local misses found remotely (before their checks)
  std::uint64_t misses = 0;          ///< local misses not found remotely, or asked while it was unavailable
  std::uint64_t writes = 0;          ///< entries sent to the remote tier
  std::uint64_t dropped_writes = 0;  ///< entries not sent: the queue was full or the server unavailable
  std::uint64_t rejected = 0;        ///< remote entries that failed a check (never returned)
  std::uint64_t errors = 0;          ///< failed commands (connect, timeout, error reply)
};

/// The in-process hot tier (StoreOptions::hot_cache_bytes) of this process;
/// not kept across restarts.
struct HotTierStats {
  std::uint64_t hits = 0;     ///< hits served from memory (also counted in FunctionStats::hits)
  std::uint64_t entries = 0;  ///< entries kept now
  std::uint64_t bytes = 0;    ///< memory they are charged, bookkeeping included (large entries: in the blob cache)
};

struct StoreStats {
  FunctionStats total;
  std::vector<FunctionStats> functions;  ///< sorted by name
  InputStats inputs;                     ///< this process's input fingerprinting
  RemoteStats remote;                    ///< the remote tier's counters
  HotTierStats hot;                      ///< this process's hot tier
};

/// What Store::evict / Store::gc (and memostore::gc) removed.
struct CleanupReport {
  std::uint64_t expired_entries = 0;
  std::uint64_t expired_bytes = 0;
  std::uint64_t superseded_entries = 0;  ///< entries of a version older than the function's newest
  std::uint64_t superseded_bytes = 0;
  std::uint64_t unused_entries = 0;      ///< not used for longer than GcOptions::older_than
  std::uint64_t unused_bytes = 0;
  std::uint64_t evicted_entries = 0;     ///< removed to meet a size budget
  std::uint64_t evicted_bytes = 0;
  /// Removed because a recorded input file or directory is gone or changed
  /// (GcOptions::changed_inputs).
  std::uint64_t changed_input_entries = 0;
  std::uint64_t changed_input_bytes = 0;
  /// Remembered input file hashes dropped by gc because the file is gone or
  /// changed since (about 100 bytes each; not entries).
  std::uint64_t stale_file_records = 0;

  std::uint64_t entries() const noexcept {
    return expired_entries + superseded_entries + unused_entries + evicted_entries + changed_input_entries;
  }
  std::uint64_t bytes() const noexcept {
    return expired_bytes + superseded_bytes + unused_bytes + evicted_bytes + changed_input_bytes;
  }
};

}  // namespace memostore
