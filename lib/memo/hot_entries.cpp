#include "memo/hot_entries.hpp"

#include <functional>

namespace memostore::detail {
namespace {

/// What an entry costs besides its key and envelope: the entry's fields, its
/// list node, index slot and shared_ptr control block (measured with glibc's
/// malloc, rounded up).
constexpr std::uint64_t k_entry_overhead = 256;

std::uint64_t charge(const HotEntry& entry) { return entry.key.size() + entry.envelope.size() + k_entry_overhead; }

}  // namespace

HotEntries::HotEntries(std::uint64_t budget_bytes) : m_shard_budget(budget_bytes / k_shards) {}

HotEntries::Shard& HotEntries::shard_for(std::string_view key) noexcept {
  return m_shards[std::hash<std::string_view>{}(key) % k_shards];
}

void HotEntries::drop(Shard& shard, std::list<std::shared_ptr<const HotEntry>>::iterator it) {
  shard.bytes -= charge(**it);
  shard.index.erase((*it)->key);
  shard.order.erase(it);
}

std::shared_ptr<const HotEntry> HotEntries::find(std::string_view key, std::uint64_t generation) {
  if (m_shard_budget == 0) {
    return nullptr;
  }
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    return nullptr;
  }
  const auto it = found->second;
  if ((*it)->generation != generation) {
    drop(shard, it);
    return nullptr;
  }
  shard.order.splice(shard.order.begin(), shard.order, it);
  ++shard.hits;
  return *it;
}

void HotEntries::insert(std::string_view key, std::string_view envelope, std::uint64_t generation) {
  if (key.size() + envelope.size() > k_max_entry_bytes) {
    return;
  }
  auto entry = std::make_shared<HotEntry>();
  entry->key = key;
  entry->envelope = envelope;
  entry->generation = generation;
  auto view = read_envelope(entry->envelope);  // the views must point into the copy
  if (!view || charge(*entry) > m_shard_budget) {
    return;
  }
  entry->view = view.value();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    if ((*found->second)->generation > generation) {
      return;  // a newer copy is kept already
    }
    drop(shard, found->second);
  }
  shard.bytes += charge(*entry);
  shard.order.push_front(std::move(entry));
  shard.index.emplace(shard.order.front()->key, shard.order.begin());
  while (shard.bytes > m_shard_budget) {
    drop(shard, std::prev(shard.order.end()));
  }
}

void HotEntries::erase(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    drop(shard, found->second);
  }
}

HotTierStats HotEntries::stats() const {
  HotTierStats stats;
  for (const Shard& shard : m_shards) {
    std::lock_guard lock(shard.mutex);
    stats.hits += shard.hits;
    stats.entries += shard.index.size();
    stats.bytes += shard.bytes;
  }
  return stats;
}

}  // namespace memostore::detail
