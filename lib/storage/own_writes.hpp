// What a secondary process wrote and cannot read back yet: its hand-over
// units reach its RocksDB secondary instance only after the primary applied
// them and the instance caught up. Until then reads consult this record, so a
// process always reads its own writes. Point writes and range deletions are
// recorded; counter additions (merges) are not: statistics from other
// processes arrive with the units.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class WriteBatch;
}

namespace memostore::detail {

class OwnWrites {
 public:
  enum class Found { unknown, removed, value };

  /// Records the writes of `batch`, written as hand-over unit number `unit` in file `path`.
  void record(std::uint64_t unit, std::filesystem::path path, const rocksdb::WriteBatch& batch);

  /// What this process last wrote under `key` of column family `family_id`
  /// that is not yet readable from the database; the value is copied to `value`.
  Found find(std::uint32_t family_id, std::string_view key, std::string& value) const;

  /// The newest own unit that, with every unit before it, the primary has
  /// applied (deleted its file), if any; call before catching up, then pass
  /// it to `forget_through` after.
  std::optional<std::uint64_t> applied_units();

  /// True while a unit this process wrote is still waiting for the primary
  /// (its file exists).
  bool waiting() const;

  /// Forgets the writes of units up to `unit`: the database shows them now.
  void forget_through(std::uint64_t unit);

  /// False when nothing is recorded: the read path's only cost when nothing
  /// is waiting (always, in a process that holds the store).
  bool any() const noexcept { return m_any.load(std::memory_order_acquire); }

 private:
  struct Write {
    std::optional<std::string> value;  // none: removed
    std::uint64_t unit = 0;
  };
  struct Range {
    std::uint32_t family_id = 0;
    std::string begin;
    std::string end;
    std::uint64_t unit = 0;
  };

  mutable std::mutex m_mutex;
  std::atomic<bool> m_any{false};  // !m_units.empty(), written under m_mutex
  std::map<std::pair<std::uint32_t, std::string>, Write, std::less<>> m_writes;  // guarded by m_mutex
  std::vector<Range> m_ranges;                                                   // guarded by m_mutex
  std::map<std::uint64_t, std::filesystem::path> m_units;                        // guarded by m_mutex
};

}  // namespace memostore::detail
