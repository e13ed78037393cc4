#include "storage/own_writes.hpp"

#include <algorithm>

#include <rocksdb/write_batch.h>

namespace memostore::detail {
namespace {

/// Collects the point writes and range deletions of a batch.
class Collector final : public rocksdb::WriteBatch::Handler {
 public:
  struct Point {
    std::uint32_t family_id;
    std::string key;
    std::optional<std::string> value;
  };
  struct Range {
    std::uint32_t family_id;
    std::string begin;
    std::string end;
  };

  rocksdb::Status PutCF(std::uint32_t family_id, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    points.push_back({family_id, key.ToString(), value.ToString()});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(std::uint32_t family_id, const rocksdb::Slice& key) override {
    points.push_back({family_id, key.ToString(), std::nullopt});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(std::uint32_t family_id, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    ranges.push_back({family_id, begin.ToString(), end.ToString()});
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();  // counters: not read back
  }

  std::vector<Point> points;
  std::vector<Range> ranges;
};

}  // namespace

void OwnWrites::record(std::uint64_t unit, std::filesystem::path path, const rocksdb::WriteBatch& batch) {
  Collector collected;
  batch.Iterate(&collected).PermitUncheckedError();  // our own batch: well formed
  std::lock_guard lock(m_mutex);
  for (auto& range : collected.ranges) {
    // A range deletion removes what was written before it in this process too.
    for (auto it = m_writes.lower_bound(std::pair(range.family_id, range.begin));
         it != m_writes.end() && it->first.first == range.family_id && it->first.second < range.end;) {
      it = m_writes.erase(it);
    }
    m_ranges.push_back({range.family_id, std::move(range.begin), std::move(range.end), unit});
  }
  for (auto& point : collected.points) {
    m_writes[std::pair(point.family_id, std::move(point.key))] = Write{std::move(point.value), unit};
  }
  m_units.emplace(unit, std::move(path));
  m_any.store(true, std::memory_order_release);
}

OwnWrites::Found OwnWrites::find(std::uint32_t family_id, std::string_view key, std::string& value) const {
  std::lock_guard lock(m_mutex);
  std::uint64_t newest_range = 0;
  bool in_range = false;
  for (const Range& range : m_ranges) {
    if (range.family_id == family_id && key >= range.begin && key < range.end) {
      in_range = true;
      newest_range = std::max(newest_range, range.unit);
    }
  }
  const auto it = m_writes.find(std::pair(family_id, std::string(key)));
  if (it != m_writes.end() && (!in_range || it->second.unit >= newest_range)) {
    if (!it->second.value) {
      return Found::removed;
    }
    value = *it->second.value;
    return Found::value;
  }
  return in_range ? Found::removed : Found::unknown;
}

bool OwnWrites::waiting() const {
  std::lock_guard lock(m_mutex);
  std::error_code ec;
  for (const auto& [unit, path] : m_units) {
    if (std::filesystem::exists(path, ec)) {
      return true;
    }
  }
  return false;
}

std::optional<std::uint64_t> OwnWrites::applied_units() {
  std::lock_guard lock(m_mutex);
  std::optional<std::uint64_t> applied;
  std::error_code ec;
  for (const auto& [unit, path] : m_units) {
    if (std::filesystem::exists(path, ec)) {
      break;  // threads may finish units out of order: only a prefix counts
    }
    applied = unit;
  }
  return applied;
}

void OwnWrites::forget_through(std::uint64_t unit) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_writes, [&](const auto& write) { return write.second.unit <= unit; });
  std::erase_if(m_ranges, [&](const Range& range) { return range.unit <= unit; });
  m_units.erase(m_units.begin(), m_units.upper_bound(unit));
  m_any.store(!m_units.empty(), std::memory_order_release);
}

}  // namespace memostore::detail
