// The administration API: list, inspect, clear, collect garbage, compact,
// verify, export, import and merge stores. The `memostore` command-line tool
// is a thin layer over these functions, so a program can do all it does.
// Read functions work on a store opened in Mode::readonly while another
// process writes it (they see the store as it was when it was opened).
// Functions that change a store need it open for writing and throw
// `Error` (usage) on a readonly one, as Store::clear and Store::gc do. Safe
// to call from several threads.
//
// Names (docs/design.md, "Admin names"): a function is named by its verb;
// the store it takes is never named again, and a suffix names any other
// thing it acts on (`zero_stats`, `ping_remote`) or the other side of a
// transfer (`export_to`, `import_from`, `merge_from`). Each operation's
// result is `<Operation>Report` (ClearReport, CleanupReport for gc and
// evict, CompactReport, VerifyReport, TransferReport for the three transfers).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/error.hpp>
#include <memostore/policy.hpp>
#include <memostore/stats.hpp>
#include <memostore/store.hpp>

namespace memostore {

using TimePoint = std::chrono::system_clock::time_point;

/// Told how far a long operation has come: `done` of `total` steps (`total`
/// is an estimate and may be 0 when unknown). Called from the calling thread.
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// Which entries an operation applies to. Empty: all of them.
struct EntryFilter {
  std::string function = {};                  ///< "" for every function
  std::optional<std::uint32_t> version = {};  ///< only with `function`
  /// Only entries computed from this input file or directory (a File or Dir
  /// argument or a depends_on path), or from a directory containing it.
  /// Relative paths are taken against the working directory. Only
  /// for_each_entry (and `memostore ls`) filter by it.
  std::filesystem::path input = {};
};

/// An input file or directory an entry was computed from, as recorded when
/// it was stored.
struct EntryInput {
  bool directory = false;  ///< a Dir (or a depends_on directory); else a file
  std::string path;        ///< absolute, as the computing process saw it
  std::string pattern;     ///< a Dir's filter; empty for all files
  std::string hash;        ///< the content fingerprint (XXH3-128) as 32 hex digits
};

/// One stored entry, from its bookkeeping records (its value is not read).
struct EntrySummary {
  std::string key;  ///< the entry's key as stored (binary; see docs/format.md)
  std::string function;
  std::uint32_t version = 0;
  std::string hash;        ///< the argument hash as 32 hex digits; its first 12 are the short key
  std::uint64_t size = 0;  ///< key and stored bytes
  TimePoint created;
  std::optional<TimePoint> expires;  ///< none: never
  TimePoint last_used;               ///< the later of creation and the last hit written to the store
  std::uint64_t hits = 0;            ///< hits written to the store (a running process writes them every 2 s)
  std::vector<EntryInput> inputs;    ///< the input files its key holds; empty for plain arguments
  /// Its function's MemoOptions::refresh_after, as the latest memo handle made
  /// on a writable store recorded it; none: not refreshed in the background.
  std::optional<std::chrono::milliseconds> refresh_after;

  /// The first 12 hex digits of `hash`: what `ls` prints and `show` accepts.
  std::string short_key() const { return hash.substr(0, 12); }
};

/// Calls `visit` for each entry matching `filter`, ordered by function,
/// version and hash, until it returns false. Reads only the small
/// bookkeeping records, never the stored values. Throws `Error`: usage for a
/// store in Mode::off, io if the store cannot be read.
void for_each_entry(const Store& store, const EntryFilter& filter,
                    const std::function<bool(const EntrySummary& entry)>& visit);

/// The entries whose hash starts with `hex_prefix` (any case), of `function`
/// or of all functions when it is empty (calls of two functions with the same
/// types and arguments share a hash). Scans the bookkeeping records. Throws
/// `Error`: usage if `hex_prefix` is not 1 to 32 hex digits or the store is in
/// Mode::off, io if the store cannot be read.
std::vector<EntrySummary> find_entries(const Store& store, std::string_view hex_prefix,
                                       const std::string& function = {});

/// Everything about one entry, its stored bytes included.
struct EntryDetail {
  EntrySummary summary;
  std::string arguments;                     ///< the encoded arguments (cereal portable binary); empty when digested
  std::uint64_t arguments_size = 0;          ///< bytes of the encoded arguments, stored or digested
  /// Arguments larger than 4 KiB are keyed, not stored: the entry keeps their
  /// SHA-256 (64 hex digits here), which every hit compares. Empty otherwise.
  std::string arguments_sha256;
  std::uint64_t value_size = 0;              ///< bytes of the encoded result
  /// The result's Digest as 32 hex digits (Digest::hex): what keys the calls
  /// that take it as a memostore::Shared argument.
  std::string digest;
  std::string value_preview;                 ///< the first (up to) 256 bytes of the encoded result
  std::string type;                          ///< the result and argument type fingerprint, 32 hex digits
  std::chrono::nanoseconds compute_time{0};  ///< how long the function ran for this result
  std::string problem;                       ///< empty when the entry is sound; else what is wrong with it
};

/// Reads the entry `entry` describes; none if it is gone. Throws `Error`:
/// usage for a store in Mode::off, io if the store cannot be read.
std::optional<EntryDetail> read_entry(const Store& store, const EntrySummary& entry);

/// What one function holds, from a scan of the bookkeeping records.
struct FunctionContents {
  std::string name;
  std::vector<std::uint32_t> versions;  ///< ascending
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;          ///< keys and stored bytes
  std::optional<TimePoint> oldest;  ///< creation time of the oldest entry
  std::optional<TimePoint> newest;
};

struct StoreContents {
  std::vector<FunctionContents> functions;  ///< sorted by name
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t disk_bytes = 0;  ///< every file in the directory: what the store occupies now
};

/// Counts what the store holds, exactly (Store::stats() keeps running totals
/// instead). Reads every bookkeeping record (about 40 bytes per entry), never
/// the stored values. Throws `Error`: usage for a store in Mode::off, io if
/// the store cannot be read.
StoreContents contents(const Store& store);

/// The bytes of the files in `dir` (not recursive: a store has no
/// subdirectories). A directory or file that cannot be read counts 0; throws
/// std::filesystem::filesystem_error only if the listing fails midway.
std::uint64_t disk_usage(const std::filesystem::path& dir);

/// Applies the access times and hit counts that processes which only hit
/// left waiting in the store in `dir` for the next process that writes (see
/// the README, "Several processes"), so that a reader that never writes (a
/// `readonly` store, the tool's read commands) counts them. Costs a
/// read-write open when something waits; does nothing when nothing does, or
/// when another process holds the store (it applies them when it writes, or
/// when it closes after writing). Never throws: returns whether it applied
/// anything.
bool apply_waiting_bookkeeping(const std::filesystem::path& dir) noexcept;

/// Resets the counters Store::stats() reports (hits, misses, stores,
/// evictions, expirations, compute and saved time) to zero for every
/// function. Entry and byte totals are kept: they describe what is stored.
/// Throws `Error`: usage for a store that is readonly or in Mode::off,
/// locked if another process holds the store, io if it cannot be written.
void zero_stats(Store& store);

/// What `clear` removed.
struct ClearReport {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};

/// The old name of ClearReport; removed in the next release.
using Freed [[deprecated("use memostore::ClearReport")]] = ClearReport;

/// How long `clear` and `gc` wait, on a store another process holds, for
/// that process to carry out what they handed over to it. Default: 10 s.
inline constexpr std::chrono::milliseconds k_default_holder_wait{10'000};

/// Deletes the entries matching `filter` (all of them when it is empty).
/// Files on disk shrink as RocksDB compacts (or after `compact`). Works while
/// another process holds the store: the deletion is handed over to that
/// process, which carries it out (its next calls miss the deleted entries),
/// and this waits for it, at most `holder_wait`. Does nothing in Mode::off
/// (as Store::clear). Throws `Error`: usage for a version without a function,
/// an invalid function name, or a store opened readonly (naming its
/// directory, as Store::clear does); locked if the holder has not carried it
/// out within `holder_wait` (it will later); io if the deletion cannot be written.
ClearReport clear(Store& store, const EntryFilter& filter,
                  std::chrono::milliseconds holder_wait = k_default_holder_wait);

/// What gc does with entries whose input files changed since they were stored.
enum class ChangedInputs {
  keep,    ///< leave them: a call with the new content has another key, so they are never hit, only evicted
  remove,  ///< remove them (`memostore gc --changed-inputs`)
};

struct GcOptions {
  /// The budget to apply instead of the store's max_bytes. Default: the store's.
  std::optional<std::uint64_t> max_bytes = std::nullopt;
  /// Also removes entries not used (created or hit) for longer than this.
  std::optional<Duration> older_than = std::nullopt;
  /// With `remove`, also removes entries whose recorded File or Dir inputs
  /// (and depends_on paths) are gone or hold other content now: each input is
  /// fingerprinted as a call would (a file whose size, times and inode are
  /// unchanged is not read again; a directory is listed with its recorded
  /// pattern). Costs reading every changed input file once. Default: keep.
  ChangedInputs changed_inputs = ChangedInputs::keep;
  /// On a store another process holds, how long to wait for that process to
  /// carry out the removals handed over to it (as `clear`). Default: 10 s.
  std::chrono::milliseconds holder_wait = k_default_holder_wait;
};

/// Store::gc() with these options: removes expired and superseded entries,
/// those unused for longer than `older_than`, those whose inputs changed
/// (with ChangedInputs::remove), then evicts to the budget. Does nothing in
/// Mode::off. Works while another process holds the store, as `clear` does
/// (the holder carries out the removals; this waits `holder_wait`). Throws
/// `Error`: usage for a store opened readonly (as Store::gc), locked if the
/// holder has not carried them out within `holder_wait`, io if the store
/// cannot be read or written.
CleanupReport gc(Store& store, const GcOptions& options);

struct CompactReport {
  std::uint64_t disk_bytes_before = 0;
  std::uint64_t disk_bytes_after = 0;
};

/// Rewrites every file of the store, dropping deleted and expired records,
/// and reports the directory's size before and after. Slow (reads and writes
/// the whole store); `progress` counts key ranges done. Throws `Error`: usage
/// for a store that is readonly or in Mode::off, locked if another process
/// holds the store, io or corruption if RocksDB cannot rewrite it.
CompactReport compact(Store& store, const Progress& progress = {});

/// A damaged entry or file that `verify` found.
struct Problem {
  std::string function;  ///< empty when the key itself is unreadable or for file damage
  std::string hash;      ///< the entry's hash in hex, or the key's bytes in hex if it does not parse
  std::string what;      ///< the cause, e.g. "entry checksum mismatch"
};

/// What `verify` does with the damaged entries it finds.
enum class DamagedEntries {
  keep,    ///< only report them (default)
  remove,  ///< remove them; they are recomputed on their next call (`memostore verify --fix`)
};

// The deprecated `fix` below is read only through `removes_damaged`; the
// pragmas keep the implicit copies of VerifyOptions quiet (clang warns there).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct VerifyOptions {
  /// See `DamagedEntries`. Default: keep.
  DamagedEntries damaged = DamagedEntries::keep;
  /// The old spelling of `damaged = DamagedEntries::remove` (either removes);
  /// removed in the next release.
  [[deprecated("use VerifyOptions::damaged = DamagedEntries::remove")]] bool fix = false;
  Progress progress = {};

  /// True when damaged entries are to be removed (by either field).
  bool removes_damaged() const noexcept { return damaged == DamagedEntries::remove || fix; }
};
#pragma GCC diagnostic pop

struct VerifyReport {
  std::uint64_t entries_checked = 0;
  std::vector<Problem> problems;
  std::uint64_t removed = 0;  ///< damaged entries removed (with DamagedEntries::remove)
  /// Damage that removing entries cannot clear: a table or blob file that
  /// fails its checksums (RocksDB keeps reading it until it is rewritten, and
  /// a compaction that reads it fails). `repair` rebuilds the store without
  /// it, from every entry that can still be read.
  bool needs_repair = false;
  /// Set by `repair` on a store that opened and verified cleanly: it changed nothing.
  bool nothing_to_repair = false;
  bool clean() const noexcept { return problems.empty(); }
};

/// Reads every entry and checks it: RocksDB's block checksums, the envelope
/// and its checksum, that the key is the hash of the stored arguments, and
/// that its bookkeeping record agrees. Reads past damage: where a damaged
/// table block or blob file stops the ordered scan, the remaining entries are
/// read one by one through their info records, so every readable entry is
/// checked and every unreadable one is listed. With DamagedEntries::remove,
/// removes every damaged entry it names; damage that no entry removal clears
/// (a damaged file) sets `needs_repair`. Throws `Error`: usage for a store in
/// Mode::off, or for DamagedEntries::remove on a readonly store; locked for
/// DamagedEntries::remove while another process holds the store; io if the
/// removals cannot be written. Damage it finds is reported, not thrown.
VerifyReport verify(Store& store, const VerifyOptions& options = {});

/// Rebuilds a damaged store in `dir`, keeping every entry that can be read.
/// First opens it as any process would (which applies the results other
/// processes handed over) and verifies it: a store that verifies cleanly is
/// left as it is (`nothing_to_repair`). A store that opens but is damaged is
/// copied entry by entry (read past the damage, each entry checked, large
/// values included) into a new store that takes the directory's place. Only a
/// store that does not open (e.g. a damaged MANIFEST) is first rebuilt from
/// its intact files by RocksDB's RepairDB, which in 7.8 loses the blob files:
/// its values of 16 KiB and more are dropped (recomputed on their next call).
/// Returns the verification of the result; `removed` and `problems` include
/// the entries that were dropped. Throws `Error`: `locked` if a process has
/// the store open, `format` if `dir` holds no store, `corruption`/`io` if it
/// cannot be rebuilt.
VerifyReport repair(const std::filesystem::path& dir);

/// One remote server's answer to `ping_remote`.
struct RemotePing {
  std::string server = {};  ///< its URL without the password
  bool ok = false;
  std::string version = {};  ///< the Redis version, when ok
  std::string error = {};    ///< why not, otherwise
  std::chrono::microseconds round_trip{0};
};

/// Connects to every server of the store's remote tier (StoreOptions::remote
/// or MEMOSTORE_REMOTE) and asks for its version, timing the round trip.
/// Throws `Error` (usage) if the store has no remote tier.
std::vector<RemotePing> ping_remote(const Store& store);

/// Like `ping_remote(store)` without opening a store: the servers
/// `options.remote` or MEMOSTORE_REMOTE name, with `options.remote_options`
/// and the MEMOSTORE_REMOTE_* variables (`options.dir` is not used). Throws
/// `Error`: usage if no remote tier is configured, config for a bad URL.
std::vector<RemotePing> ping_remote(const StoreOptions& options);

/// Deletes every key under the remote tier's prefix on each of its servers
/// (SCAN, never KEYS, so a large Redis is not blocked); other keys are left.
/// Returns how many were deleted. The local store is not touched. Throws
/// `Error`: usage without a remote tier, io if a server fails.
std::uint64_t clear_remote(const Store& store);

/// What an export, import or merge moved.
struct TransferReport {
  std::uint64_t entries = 0;  ///< entries written (exported, or stored by import / merge)
  std::uint64_t bytes = 0;
  std::uint64_t kept = 0;         ///< entries not taken because the target's were as new or newer
  std::vector<Problem> rejected;  ///< entries refused because they failed a check
};

/// Writes every entry (with its last-use time) to `file`, a single portable
/// file (docs/format.md) that `import_from` reads on any machine of the same
/// byte order. Consistent: it shows the store at one moment even while others
/// write. Written to a temporary name and renamed, so `file` is never half
/// written. Throws `Error`: usage for a store in Mode::off, io if `file`
/// cannot be written (or its temporary file exists already).
TransferReport export_to(const Store& store, const std::filesystem::path& file, const Progress& progress = {});

/// Folds the entries of an export file into `store`. Every entry is checked
/// (envelope checksum, key against arguments) before it is stored; on a key
/// present in both, the newer entry (by creation time) is kept. Throws
/// `Error`: usage for a store that is readonly or in Mode::off; locked if
/// another process holds it; io if `file` cannot be read or the store cannot
/// be written; format if `file` is not an export (or of a newer version);
/// corruption if it is damaged or truncated (entries before the damage that
/// passed their checks are kept).
TransferReport import_from(Store& store, const std::filesystem::path& file, const Progress& progress = {});

/// Reads the export file `file` through without opening a store: its
/// header, every record's framing and its trailer. Returns how many entries
/// it holds. Throws `Error` as `import_from` does for such a file (io,
/// format, corruption), so a caller can refuse a file before it creates a
/// store for it. Entries are checked one by one only by `import_from`.
std::uint64_t check_export(const std::filesystem::path& file);

/// Folds the entries of the store in `dir` (opened readonly, so another
/// process may be using it) into `store`, like `import_from`. Throws `Error`:
/// usage for a `store` that is readonly or in Mode::off, or for `dir` being
/// the store itself; locked if another process holds `store`; anything
/// `Store::open` throws for `dir`; io if `store` cannot be written.
TransferReport merge_from(Store& store, const std::filesystem::path& dir, const Progress& progress = {});

// --- Old names, removed in the next release ---

[[deprecated("use memostore::export_to")]] inline TransferReport export_store(const Store& store,
                                                                             const std::filesystem::path& file,
                                                                             const Progress& progress = {}) {
  return export_to(store, file, progress);
}

[[deprecated("use memostore::import_from")]] inline TransferReport import_store(Store& store,
                                                                               const std::filesystem::path& file,
                                                                               const Progress& progress = {}) {
  return import_from(store, file, progress);
}

[[deprecated("use memostore::merge_from")]] inline TransferReport merge_store(Store& store,
                                                                             const std::filesystem::path& dir,
                                                                             const Progress& progress = {}) {
  return merge_from(store, dir, progress);
}

}  // namespace memostore
