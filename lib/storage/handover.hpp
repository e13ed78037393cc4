// Hand-over units: how a process that shares a cache directory without
// holding RocksDB's lock (a secondary) writes. Each write batch becomes one
// file in <dir>/handover/, made durable (written to a temporary name,
// fsynced, renamed, directory fsynced) before the write returns; the process
// holding the lock (the primary) applies units in name order and deletes
// them. A unit is RocksDB's own write-batch encoding followed by an XXH3-64
// checksum, so a torn or damaged file is recognised and never applied.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace memostore::detail {

/// The hand-over folder of the store in `dir`.
std::filesystem::path handover_dir(const std::filesystem::path& dir);

/// What a unit holds. `bookkeeping`: only access times and counters, handed
/// over by a primary that read and never wrote (see Database); the next open
/// may leave a few of them waiting, since nothing read depends on them.
enum class UnitKind { writes, bookkeeping };

/// A primary that would only read opens for writing at once when this many
/// bookkeeping units wait, so that they are applied every few processes.
inline constexpr std::size_t k_bookkeeping_units_before_apply = 8;

/// Names this process's units: unique across processes (PID and a random
/// number), increasing within the process, so applying units in name order
/// keeps each process's writes in order.
class UnitNamer {
 public:
  UnitNamer();
  std::string name(std::uint64_t sequence, UnitKind kind = UnitKind::writes) const;

 private:
  std::string m_prefix;
};

/// Writes `batch` (a RocksDB write-batch encoding) as the unit `name`;
/// returns its path once it is durable (fsynced, and its folder). A
/// bookkeeping unit (named so by UnitNamer) is not fsynced: it survives the
/// process being killed, and a power loss at worst loses its hit counts (a
/// torn unit is recognised and discarded).
Result<std::filesystem::path> write_unit(const std::filesystem::path& dir, std::string_view name,
                                         std::string_view batch);

/// The units waiting in `dir`'s hand-over folder, in the order to apply them.
std::vector<std::filesystem::path> pending_units(const std::filesystem::path& dir);

/// Whether `unit` (a path pending_units returned) holds only bookkeeping.
bool is_bookkeeping_unit(const std::filesystem::path& unit);

/// The write batch a unit holds; a corruption failure if the file is torn or
/// damaged, an io failure if it is a link (never followed) or unreadable.
Result<std::string> read_unit(const std::filesystem::path& unit);

/// Removes `unit` (a path pending_units returned) by its name in the
/// hand-over folder of `dir`; a link there is removed itself, never its target.
Result<void> remove_unit(const std::filesystem::path& dir, const std::filesystem::path& unit);

/// Makes a new folder for this process's RocksDB secondary instance to keep
/// its own log in, under `dir`/secondaries, and returns its path.
Result<std::filesystem::path> make_secondary_log_dir(const std::filesystem::path& dir);

/// Removes a folder make_secondary_log_dir() returned, and what is in it,
/// without following links.
void remove_secondary_log_dir(const std::filesystem::path& dir, const std::filesystem::path& folder);

/// Removes what processes that died left behind: half-written units and
/// their secondary instances' log folders, found by the names memostore
/// gives them; never through a link.
void remove_abandoned_files(const std::filesystem::path& dir);

}  // namespace memostore::detail
