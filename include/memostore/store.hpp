// memostore::Store: a cache directory (one RocksDB database) that memoized
// functions keep their results in. A Store is a cheap handle: copies share the
// open database, which closes (flushing to disk) when the last handle goes.
// Opening the same directory twice in one process yields the same database.
// Store and every copy of it are safe to use from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/error.hpp>
#include <memostore/policy.hpp>
#include <memostore/stats.hpp>

namespace memostore {

class Store;

namespace detail {
class StoreCore;
/// The open store behind `store`: for memostore's compiled code and its
/// tests, not part of the API (the type is not in the public headers).
const std::shared_ptr<StoreCore>& core_of(const Store& store) noexcept;
}  // namespace detail

/// How a store is used. Precedence: the `MEMOSTORE_MODE` environment variable,
/// when set and non-empty, overrides `StoreOptions::mode`.
enum class Mode {
  readwrite,  ///< use hits, store misses (default)
  readonly,   ///< use hits, never write: for untrusted CI jobs
  refresh,    ///< always recompute and overwrite the stored result
  off,        ///< bypass the store entirely: every call computes
  /// Compute every call and compare the encoded result with the stored one:
  /// a difference (a forgotten `version` bump, a function that is not
  /// deterministic) is logged as an error naming the function, version, key
  /// and first differing byte, counted in FunctionStats::stale, and the
  /// stored entry is replaced. Returns the fresh result; misses are stored as
  /// in readwrite. For a nightly CI job that proves a cache right.
  check,
};

/// The name of `mode`, e.g. "readonly".
std::string_view to_string(Mode mode) noexcept;

/// Parses "readwrite", "readonly", "refresh", "off" or "check". Throws `Error`
/// (`ErrorCode::config`) naming the valid values for anything else.
Mode parse_mode(std::string_view text);

/// How memostore::File and memostore::Dir inputs are checked for changes.
/// Precedence: `MEMOSTORE_FILE_CHECK` (when set and non-empty) overrides
/// `StoreOptions::file_check`.
enum class FileCheck {
  stat,     ///< re-read a file only when its device, inode, size, mtime or ctime changed (default)
  content,  ///< read and hash every input file on every call
};

/// Parses "stat" or "content". Throws `Error` (`ErrorCode::config`) naming the
/// valid values for anything else.
FileCheck parse_file_check(std::string_view text);

/// Whether this process writes to the remote tier. Env: `MEMOSTORE_REMOTE_MODE`.
enum class RemoteMode {
  readwrite,  ///< read remote entries and send new ones (default)
  readonly,   ///< read only: for untrusted jobs that may use the fleet's cache but not fill it
};

/// The remote tier's settings beyond its URL (StoreOptions::remote).
struct RemoteOptions {
  /// See `RemoteMode`. Env: `MEMOSTORE_REMOTE_MODE` (overrides this field).
  RemoteMode mode = RemoteMode::readwrite;
  /// A password for servers whose URL has none. Never logged. Env:
  /// `MEMOSTORE_REMOTE_PASSWORD` (overrides this field).
  std::string password = {};
  /// How long an entry stays in Redis when it has no ttl of its own (an
  /// entry with a ttl stays as long as it is valid). Default: 7 days.
  /// Env: `MEMOSTORE_REMOTE_TTL` (e.g. `7d`, `12h`).
  Duration ttl = std::chrono::hours(24 * 7);
  /// Before every key, so that one Redis serves several projects. Default: "memostore:".
  std::string prefix = "memostore:";
  /// The longest wait to connect to a server. Default: 100 ms.
  std::chrono::milliseconds connect_timeout{100};
  /// The longest wait for one whole command: sending it and receiving all of
  /// its reply (not each read), so a server trickling its reply cannot
  /// stretch a call. On a new connection, AUTH and SELECT count in it too.
  /// Raise it for large values over a slow link. Default: 500 ms.
  std::chrono::milliseconds command_timeout{500};
  /// Entries larger than this stay local, and a reply larger than this (or
  /// of a kind the command never gets) is refused on its header, before it is
  /// read: counted in `RemoteStats::rejected`, the call a miss. Default: 64 MiB.
  std::uint64_t max_value_bytes = std::uint64_t{64} << 20;
  /// How long a server that failed is left alone before it is tried again. Default: 10 s.
  std::chrono::milliseconds backoff{10'000};
};

/// Parses "readwrite" or "readonly". Throws `Error` (`ErrorCode::config`) otherwise.
RemoteMode parse_remote_mode(std::string_view text);

struct StoreOptions {
  /// The cache directory; created (with parents) if missing, except in
  /// readonly mode. Default: ".memostore". Env (default_store only): `MEMOSTORE_DIR`.
  std::filesystem::path dir = ".memostore";

  /// See `Mode`. Default: readwrite. Env: `MEMOSTORE_MODE` (overrides this field).
  Mode mode = Mode::readwrite;

  /// Memory for recently read small entries (RocksDB's block cache). Larger
  /// means more hits are served without a read from the file system.
  /// Default: 64 MiB.
  std::uint64_t block_cache_bytes = std::uint64_t{64} << 20;

  /// Memory for recently read large values (16 KiB and up, kept in RocksDB blob
  /// files), so that a hit on a 10 MB result does not read it from disk again.
  /// Filled only by large values that are read. With the hot tier on, the
  /// large values it keeps (checked, ready to decode) stay pinned here, as
  /// many as fit; one read before RocksDB wrote it to a blob file is kept as
  /// RocksDB's copy instead, within the same bound. Default: 256 MiB.
  std::uint64_t blob_cache_bytes = std::uint64_t{256} << 20;

  /// Memory for the hot tier: small entries (up to 16 KiB) read recently,
  /// copied, checked and ready to decode in this process, so that a repeated
  /// hit skips RocksDB (about 4 times faster on a 100-byte result). Large
  /// entries are kept without a copy, in blob_cache_bytes. 0 turns it off
  /// for both. A process sees removals and replacements by other processes in its
  /// hot tier when it sees them in the store (within about 200 ms).
  /// Default: 32 MiB. Env: `MEMOSTORE_HOT_CACHE` (e.g. `0`, `64M`; overrides this field).
  std::uint64_t hot_cache_bytes = std::uint64_t{32} << 20;

  /// Upper bound on the live bytes of all entries (keys and stored results).
  /// Above it, the least recently used entries (older versions first) are
  /// evicted until about 90 % remains; 0 means no bound. Files on disk shrink
  /// later, as RocksDB compacts. Default: 5 GiB. Env: `MEMOSTORE_MAX_SIZE`
  /// (e.g. `500M`, `2G`; overrides this field).
  std::uint64_t max_bytes = std::uint64_t{5} << 30;

  /// Time to live of entries whose function sets none (MemoOptions::ttl).
  /// Default: none (entries never expire).
  std::optional<Duration> default_ttl = std::nullopt;

  /// Permissions of a cache directory this creates (an existing one is left
  /// as it is). Default: owner only (0700), so other users can neither read
  /// results nor plant entries. A store shared by a group wants e.g.
  /// `owner_all | group_all`.
  std::filesystem::perms directory_permissions = std::filesystem::perms::owner_all;

  /// A secret that signs every entry this store writes (HMAC-SHA256). When
  /// set, an entry without a valid signature for it (written without a
  /// secret, with another one, or planted) is never returned: it is a miss,
  /// counted in `FunctionStats::rejected`, and the result is computed again.
  /// Use it for a cache directory that others can write to or that travels
  /// (CI artifacts). Each hit then also hashes its entry: on the development
  /// machine (SHA extensions) about 0.4 us for a small entry and 1.6 GB/s for
  /// large ones (docs/reliability.md). Never logged. Empty: entries are neither
  /// signed nor checked. Env: `MEMOSTORE_SECRET` (overrides this field).
  std::string secret = {};

  /// The fraction of hits (0 to 1) that are also computed and compared with
  /// the stored result, as `Mode::check` does for every call: a sampled hit
  /// costs a computation, and a difference is logged as an error, counted in
  /// FunctionStats::stale and replaced. Readwrite mode only. Default: 0 (never).
  /// Env: `MEMOSTORE_CHECK_RATE` (e.g. `0.01`; overrides this field).
  double check_rate = 0;

  /// See `FileCheck`. Default: stat. Env: `MEMOSTORE_FILE_CHECK` (overrides this field).
  FileCheck file_check = FileCheck::stat;

  /// A shared remote tier on Redis beneath the local directory, for a fleet
  /// of machines: `redis://[:password@]host[:port][/db]` or
  /// `redis+unix://[:password@]/path/to/socket[?db=N]`; several URLs separated
  /// by spaces spread the keys over several servers. A local hit never
  /// touches the network; a local miss asks Redis, and a remote entry passes
  /// every check a local one does before it is stored locally and returned.
  /// New results are sent by a background writer, so no call waits on it; an
  /// unavailable server costs one warning and is tried again later.
  /// Empty: no remote tier (default). Env: `MEMOSTORE_REMOTE` (overrides this field).
  std::string remote = {};

  /// The remote tier's other settings.
  RemoteOptions remote_options = {};

  /// Read-only fallback caches: other stores' directories, asked in order
  /// after this store misses and before the remote tier. A pull-request job
  /// can start warm from the main branch's cache without writing to it. A
  /// fallback is opened read-only: never written, locked or cleaned up, so it
  /// may be held by another process, on a read-only file system, or written
  /// by another memostore version whose format this one reads. An entry found
  /// there passes every check a local one does (checksum, types, arguments,
  /// this store's `secret`), counts as a hit (and in
  /// FunctionStats::fallback_hits) and is copied into this store. A fallback
  /// that cannot be opened (missing, not a store, unsafe) costs one warning
  /// and is left out; a missing one is never created. Default: none.
  /// Env: `MEMOSTORE_FALLBACK` (directories separated by `:`; overrides this field).
  std::vector<std::filesystem::path> fallback = {};

  /// Threads that recompute stale results in the background
  /// (MemoOptions::refresh_after), started on the first refresh and owned by
  /// the store. A refresh never runs in a caller's thread: a hit returns its
  /// stored result at once. 0 turns background refreshes off for this store
  /// (stale results are served until their ttl, and Memo::refresh still
  /// recomputes on demand): running them in the caller's thread instead would
  /// make the hit wait for the computation, which refresh_after exists to
  /// avoid. Closing the store (the last handle dropped, or process exit for
  /// default_store()) takes no more refreshes, waits up to
  /// 2 s for those running, and abandons the rest: an abandoned refresh
  /// writes nothing and the stored result stays. Default: 1.
  unsigned refresh_threads = 1;

  /// The wall clock that ttls and access times use. Default (null): the
  /// system clock. Tests pass a ManualClock.
  std::shared_ptr<const Clock> clock = nullptr;
};

class Store {
 public:
  /// Opens (creating if missing) the store in `dir` with default options.
  ///
  /// **Example**
  /// ```cpp
  /// memostore::Store store = memostore::Store::open("cache-dir");
  /// ```
  /// Throws `Error`: `io` if the directory cannot be created or read,
  /// `format` if it holds something other than a memostore store,
  /// `locked` if another process has it open,
  /// `config` for a bad value of a `MEMOSTORE_*` variable (naming it, the
  /// value and the valid forms) or of a field, or a secret other than the
  /// one this process opened the directory with.
  static Store open(const std::filesystem::path& dir);

  /// Opens the store described by `options`; throws like `open(dir)`.
  /// In `Mode::off` nothing on disk is touched.
  static Store open(StoreOptions options);

  /// The directory as given when it was opened.
  const std::filesystem::path& dir() const noexcept;

  /// The effective mode (after `MEMOSTORE_MODE`).
  Mode mode() const noexcept { return m_mode; }

  /// Deletes every memoized entry in the store. Does nothing in off mode.
  /// Throws `Error`: `usage` in readonly mode (naming the directory and saying
  /// it is open readonly; memostore::clear does the same), `io` if the
  /// deletion cannot be written.
  void clear();

  /// Makes every stored result durable against power loss (fsync of the
  /// write-ahead log). Results already survive a killed process without it.
  /// Also writes out buffered statistics and access times. Throws `Error`
  /// (`io`) if they cannot be written.
  void flush();

  /// Makes what other processes sharing this directory stored visible now,
  /// rather than within about half a second (the holder of the store applies
  /// what others handed over; a process sharing it catches up with the files).
  /// No-op in off mode. Throws `Error` (io) if the store cannot be read.
  void catch_up();

  /// Blocks until no background refresh (MemoOptions::refresh_after) is
  /// queued or running in this process: for warm-up jobs that want every
  /// refresh they started written before they go on, and for tests. Returns
  /// at once when none is. Throws nothing.
  void wait_for_refreshes() const;

  /// Counters per function and totals, including this process's calls so
  /// far. Reads one small column family; empty in Mode::off.
  StoreStats stats() const;

  /// Applies the size budgets now (the store's `max_bytes` and the caps of
  /// the functions opened in this process), evicting least recently used
  /// entries. Writes normally do this themselves; returns what was removed.
  /// No-op in readonly and off modes. Throws `Error` (io) if it cannot write.
  CleanupReport evict();

  /// Like `evict`, and first removes every expired entry and every entry of a
  /// function version older than the newest one stored. Scans the store.
  /// Also drops the remembered hashes of input files that are gone or changed.
  /// Does nothing in off mode. Throws `Error`: `usage` in readonly mode (as
  /// memostore::gc does), `io` if the store cannot be read or written.
  CleanupReport gc();

  /// Internal; memostore reaches the open store through detail::core_of.
  [[deprecated("internal: no public use; it leaves the next release")]]
  const std::shared_ptr<detail::StoreCore>& core() const noexcept { return m_core; }

 private:
  friend Store& default_store();
  friend const std::shared_ptr<detail::StoreCore>& detail::core_of(const Store& store) noexcept;
  Store(std::shared_ptr<detail::StoreCore> core, Mode mode);
  static Store open_default();

  std::shared_ptr<detail::StoreCore> m_core;
  Mode m_mode;
};

/// The directory `default_store()` opens (and the `memostore` tool's
/// default): `$MEMOSTORE_DIR` when set and non-empty, else ".memostore" (the
/// default of `StoreOptions::dir`), relative to the working directory.
std::filesystem::path default_store_dir();

inline const std::shared_ptr<detail::StoreCore>& detail::core_of(const Store& store) noexcept { return store.m_core; }

/// The process-wide store: `$MEMOSTORE_DIR`, else ".memostore" in the working
/// directory, in `$MEMOSTORE_MODE` (default readwrite). Opened on first use and
/// closed at exit. It never throws: if the directory cannot be used it logs one
/// warning and returns a store in `Mode::off`, so memoized functions still work.
Store& default_store();

}  // namespace memostore
