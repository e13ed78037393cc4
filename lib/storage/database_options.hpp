// What a Database is opened with: the access, the column families, and the
// options of an open. Apart from database.hpp (which includes it) so that the
// batch, read and snapshot headers can name a Family without the Database.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace memostore::detail {

enum class Access { read_write, read_only };

/// `store`: RocksDB's "default" family, records about the store as a whole
/// (its format version, input file hashes).
enum class Family { entries, meta, stats, store };

/// Values of at least this many bytes go to blob files (see docs/design.md).
inline constexpr std::uint64_t k_min_blob_size = 16 << 10;

/// How often a primary applies hand-over units and a secondary catches up.
inline constexpr std::chrono::milliseconds k_catch_up_interval{200};

/// Decides during compaction whether a record has expired and may be dropped.
/// Called from RocksDB's background threads.
using ExpiredFn = std::function<bool(std::string_view key, std::string_view value)>;

struct EntryCaches;

struct DatabaseOptions {
  Access access = Access::read_write;
  std::uint64_t block_cache_bytes = std::uint64_t{64} << 20;
  std::uint64_t blob_cache_bytes = std::uint64_t{256} << 20;
  std::filesystem::perms directory_permissions = std::filesystem::perms::owner_all;  // of a directory created
  ExpiredFn entry_expired;  // for Family::entries; none: keep everything
  ExpiredFn meta_expired;   // for Family::meta
  /// A read-write open of a directory another process holds opens it as a
  /// secondary; false: it fails with ErrorCode::locked instead.
  bool share_when_locked = true;
  /// A read-write open as primary of a store that needs nothing written at
  /// its open opens it for reading, and for writing at the first write;
  /// false: for writing at once (to apply hand-over units).
  bool read_first = true;
  /// The caller has seen the store's format record in this open (a reading
  /// primary's instance for writing): no read-only look for it first.
  bool format_seen = false;
  /// The entries family's caches, when another instance of the same store in
  /// this process has them already (a reading primary's instance for
  /// writing); null: new ones of the capacities above.
  std::shared_ptr<const EntryCaches> caches;
};

}  // namespace memostore::detail
