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

HotEntries::HotEntries(std::uint64_t copied_budget, std::uint64_t held_budget)
    : m_shard_budget(copied_budget / k_shards), m_held_budget(held_budget) {}

HotEntries::Shard& HotEntries::shard_for(std::string_view key) noexcept {
  return m_shards[std::hash<std::string_view>{}(key) % k_shards];
}

bool HotEntries::holds(std::size_t bytes) const noexcept {
  return bytes > k_max_copied_bytes && bytes + k_entry_overhead <= m_held_budget;
}

void HotEntries::drop(Shard& shard, Order::iterator it, Order* released) {
  shard.bytes -= charge(**it);
  shard.index.erase((*it)->key);
  if (released != nullptr) {
    released->splice(released->end(), shard.order, it);
  } else {
    shard.order.erase(it);
  }
  shard.entries.store(shard.index.size(), std::memory_order_relaxed);
}

std::shared_ptr<const HotEntry> HotEntries::find_in(Shard& shard, std::string_view key, std::uint64_t generation) {
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

std::shared_ptr<const HotEntry> HotEntries::find(std::string_view key, std::uint64_t generation) {
  std::shared_ptr<const HotEntry> entry;
  if (m_shard_budget != 0) {
    entry = find_in(shard_for(key), key, generation);
  }
  if (!entry && m_held.entries.load(std::memory_order_relaxed) != 0) {
    entry = find_in(m_held, key, generation);
  }
  return entry;
}

void HotEntries::insert_into(Shard& shard, std::uint64_t budget, std::shared_ptr<HotEntry> entry, Order& released) {
  if (const auto found = shard.index.find(entry->key); found != shard.index.end()) {
    if ((*found->second)->generation > entry->generation) {
      return;  // a newer copy is kept already
    }
    drop(shard, found->second, &released);
  }
  shard.bytes += charge(*entry);
  shard.order.push_front(std::move(entry));
  shard.index.emplace(shard.order.front()->key, shard.order.begin());
  shard.entries.store(shard.index.size(), std::memory_order_relaxed);
  while (shard.bytes > budget) {
    drop(shard, std::prev(shard.order.end()), &released);
  }
}

void HotEntries::insert(std::string_view key, std::string_view envelope, std::uint64_t generation) {
  if (key.size() + envelope.size() > k_max_copied_bytes) {
    return;
  }
  auto entry = std::make_shared<HotEntry>();
  entry->key = key;
  entry->copy = envelope;
  entry->envelope = entry->copy;
  entry->generation = generation;
  auto view = read_envelope(entry->envelope);  // the views must point into the copy
  if (!view || charge(*entry) > m_shard_budget) {
    return;
  }
  entry->view = view.value();
  Order released;  // declared before the lock: freed after it
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  insert_into(shard, m_shard_budget, std::move(entry), released);
}

void HotEntries::insert_held(std::string_view key, HeldValue value, const EntryView& view,
                             std::uint64_t generation) {
  if (!holds(key.size() + value.bytes().size())) {
    return;
  }
  auto entry = std::make_shared<HotEntry>();
  entry->key = key;
  entry->envelope = value.bytes();
  entry->held = std::move(value);  // the bytes stay where they are: `view` still points into them
  entry->view = view;
  entry->generation = generation;
  Order released;  // declared before the lock: freed after it
  std::lock_guard lock(m_held.mutex);
  if (generation > m_held_current) {  // the store changed since: older entries are never used again
    for (auto it = m_held.order.begin(); it != m_held.order.end();) {
      const auto next = std::next(it);
      if ((*it)->generation < generation) {
        drop(m_held, it, &released);
      }
      it = next;
    }
    m_held_current = generation;
  }
  insert_into(m_held, m_held_budget, std::move(entry), released);
}

void HotEntries::erase_from(Shard& shard, std::string_view key) {
  std::lock_guard lock(shard.mutex);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    drop(shard, found->second);
  }
}

void HotEntries::erase(std::string_view key) {
  erase_from(shard_for(key), key);
  if (m_held.entries.load(std::memory_order_relaxed) != 0) {
    erase_from(m_held, key);
  }
}

HotTierStats HotEntries::stats() const {
  HotTierStats stats;
  auto add = [&stats](const Shard& shard) {
    std::lock_guard lock(shard.mutex);
    stats.hits += shard.hits;
    stats.entries += shard.index.size();
    stats.bytes += shard.bytes;
  };
  for (const Shard& shard : m_shards) {
    add(shard);
  }
  add(m_held);
  return stats;
}

}  // namespace memostore::detail
