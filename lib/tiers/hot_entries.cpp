#include "tiers/hot_entries.hpp"

#include <algorithm>
#include <functional>
#include <shared_mutex>

#include "util/thread_stripe.hpp"

namespace memostore::detail {
namespace {

/// What an entry costs besides its key and envelope: the entry's fields, its
/// list node, index slot and shared_ptr control block (measured with glibc's
/// malloc, rounded up).
constexpr std::uint64_t k_entry_overhead = 256;

/// Requires: the entry's shard locked (its decoded result is read).
std::uint64_t charge(const HotEntry& entry) {
  return entry.key.size() + entry.envelope.size() + k_entry_overhead + entry.decoded.bytes;
}

}  // namespace

HotEntries::HotEntries(std::uint64_t copied_budget, std::uint64_t held_budget)
    : m_admission(copied_budget != 0 || held_budget != 0 ? std::make_unique<HotAdmission>() : nullptr),
      m_shard_budget(copied_budget / k_shards),
      m_held_budget(held_budget) {}

HotEntries::Shard& HotEntries::shard_for(std::string_view key) noexcept {
  return m_shards[std::hash<std::string_view>{}(key) % k_shards];
}

bool HotEntries::holds(std::size_t bytes) const noexcept {
  return bytes > k_max_copied_bytes && bytes + k_entry_overhead <= m_held_budget;
}

void HotEntries::drop(Shard& shard, Order::iterator it, Order& released) {
  shard.bytes -= charge(*it->entry);
  shard.index.erase(it->entry->key);
  released.splice(released.end(), shard.order, it);
  shard.entries.store(shard.index.size(), std::memory_order_relaxed);
}

HotEntries::Shard& HotEntries::shard_of(const HotEntry& entry) noexcept {
  return entry.held ? m_held : shard_for(entry.key);
}

HotEntries::Found HotEntries::find_in(Shard& shard, std::string_view key, std::uint64_t generation,
                                      DecodedResult* decoded) {
  std::shared_lock lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    return {};
  }
  Slot& slot = *found->second;
  if (slot.entry->generation != generation) {
    if (decoded != nullptr && slot.entry->decoded.object != nullptr) {
      *decoded = slot.entry->decoded;
      decoded->stale = true;
    }
    return {.entry = nullptr, .stale = true};
  }
  if (!slot.used.load(std::memory_order_relaxed)) {  // read first: a repeated hit writes nothing
    slot.used.store(true, std::memory_order_relaxed);
  }
  m_hits[this_thread_stripe(k_hit_stripes)].hits.fetch_add(1, std::memory_order_relaxed);
  if (decoded != nullptr) {
    *decoded = slot.entry->decoded;
  }
  return {.entry = slot.entry};
}

std::shared_ptr<const HotEntry> HotEntries::find(std::string_view key, std::uint64_t generation,
                                                 DecodedResult* decoded) {
  if (m_shard_budget != 0) {
    if (Found found = find_in(shard_for(key), key, generation, decoded); found.entry) {
      return std::move(found.entry);
    }
  }
  if (m_held.entries.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  Found found = find_in(m_held, key, generation, decoded);
  if (found.stale) {
    // Its pin would keep the value in the blob cache until the entry is read
    // and kept again, which may never happen (removed, expired, replaced).
    erase_from(m_held, key, Hits::keep);
  }
  return std::move(found.entry);
}

void HotEntries::insert_into(Shard& shard, std::uint64_t budget, std::shared_ptr<HotEntry> entry, Order& released) {
  if (const auto found = shard.index.find(entry->key); found != shard.index.end()) {
    if (found->second->entry->generation > entry->generation) {
      return;  // a newer copy is kept already
    }
    drop(shard, found->second, released);
  }
  // The CLOCK sweep, before the new entry goes in (else it could be the one
  // dropped): an entry used since the sweep last passed it gets another round
  // at the front, one that was not goes. Hits cannot set the flags while this
  // holds the lock exclusively, so each entry is moved at most once: this ends.
  const std::uint64_t needed = charge(*entry);
  while (!shard.order.empty() && shard.bytes + needed > budget) {
    const auto oldest = std::prev(shard.order.end());
    if (oldest->used.exchange(false, std::memory_order_relaxed)) {
      shard.order.splice(shard.order.begin(), shard.order, oldest);
    } else {
      drop(shard, oldest, released);
    }
  }
  shard.bytes += needed;
  shard.order.emplace_front(std::move(entry));
  shard.index.emplace(shard.order.front().entry->key, shard.order.begin());
  shard.entries.store(shard.index.size(), std::memory_order_relaxed);
}

void HotEntries::count_hit(const HotEntry& entry, std::int64_t now_ms) noexcept {
  entry.unflushed_hits.fetch_add(1, std::memory_order_relaxed);
  if (entry.last_hit_ms.load(std::memory_order_relaxed) < now_ms) {  // a race keeps either: both are recent
    entry.last_hit_ms.store(now_ms, std::memory_order_relaxed);
  }
}

void HotEntries::keep_hits_of(const Order& released) {
  if (released.empty()) {
    return;
  }
  std::lock_guard lock(m_dropped_mutex);
  for (const Slot& slot : released) {
    const HotEntry& entry = *slot.entry;
    const std::uint64_t hits = entry.unflushed_hits.exchange(0, std::memory_order_relaxed);
    if (hits == 0 || (m_dropped.size() >= k_max_dropped_keys && !m_dropped.contains(entry.key))) {
      continue;
    }
    m_dropped[entry.key].add(Accesses{entry.last_hit_ms.load(std::memory_order_relaxed), hits});
  }
}

void HotEntries::take_accesses(AccessVisitor add) {
  std::unordered_map<std::string, Accesses> dropped;
  {
    std::lock_guard lock(m_dropped_mutex);
    dropped.swap(m_dropped);
  }
  for (const auto& [key, accesses] : dropped) {
    add(key, accesses);
  }
  auto take_from = [&add](const Shard& shard) {
    std::shared_lock lock(shard.mutex);
    for (const Slot& slot : shard.order) {
      const HotEntry& entry = *slot.entry;
      if (entry.unflushed_hits.load(std::memory_order_relaxed) != 0) {
        add(entry.key, Accesses{entry.last_hit_ms.load(std::memory_order_relaxed),
                                entry.unflushed_hits.exchange(0, std::memory_order_relaxed)});
      }
    }
  };
  for (const Shard& shard : m_shards) {
    take_from(shard);
  }
  take_from(m_held);
}

void HotEntries::keep_decoded(const HotEntry& entry, const DecodedResult& decoded) {
  Shard& shard = shard_of(entry);
  const std::uint64_t budget = entry.held ? m_held_budget : m_shard_budget;
  Order released;  // declared before the lock: freed after it
  std::unique_lock lock(shard.mutex);
  const auto found = shard.index.find(entry.key);
  if (found == shard.index.end() || found->second->entry.get() != &entry || entry.decoded.object != nullptr ||
      charge(entry) + decoded.bytes > budget) {
    return;  // dropped or replaced since it was found, decoded by another thread, or too large
  }
  entry.decoded = decoded;
  shard.bytes += decoded.bytes;
  // Within the budget again, sparing this entry (just used): the sweep's
  // oldest-first order reaches it last.
  found->second->used.store(true, std::memory_order_relaxed);
  while (shard.bytes > budget && shard.order.size() > 1) {
    const auto oldest = std::prev(shard.order.end());
    if (oldest->used.exchange(false, std::memory_order_relaxed) || oldest->entry.get() == &entry) {
      shard.order.splice(shard.order.begin(), shard.order, oldest);
    } else {
      drop(shard, oldest, released);
    }
  }
  lock.unlock();
  keep_hits_of(released);
}

void HotEntries::insert(std::string_view key, std::string_view envelope, std::uint64_t generation,
                        const DecodedResult* decoded) {
  if (key.size() + envelope.size() > k_max_copied_bytes) {
    return;
  }
  auto entry = std::make_shared<HotEntry>();
  entry->key = key;
  entry->copy = envelope;
  entry->envelope = entry->copy;
  entry->generation = generation;
  if (decoded != nullptr) {
    entry->decoded = *decoded;
  }
  auto view = read_envelope(entry->envelope);  // the views must point into the copy
  if (!view || charge(*entry) > m_shard_budget) {
    return;
  }
  entry->view = view.value();
  Order released;  // declared before the lock: freed after it
  Shard& shard = shard_for(key);
  std::unique_lock lock(shard.mutex);
  insert_into(shard, m_shard_budget, std::move(entry), released);
  lock.unlock();
  keep_hits_of(released);
}

void HotEntries::insert_held(std::string_view key, HeldValue value, const EntryView& view,
                             std::uint64_t generation, const DecodedResult* decoded) {
  const std::uint64_t decoded_bytes = decoded != nullptr ? decoded->bytes : 0;
  if (!holds(key.size() + value.bytes().size() + decoded_bytes)) {
    return;
  }
  auto entry = std::make_shared<HotEntry>();
  entry->key = key;
  entry->envelope = value.bytes();
  entry->held = std::move(value);  // the bytes stay where they are: `view` still points into them
  entry->view = view;
  entry->generation = generation;
  if (decoded != nullptr) {
    entry->decoded = *decoded;
  }
  Order released;  // declared before the lock: freed after it
  std::unique_lock lock(m_held.mutex);
  if (generation > m_held_current) {  // the store changed since: older entries are never used again
    for (auto it = m_held.order.begin(); it != m_held.order.end();) {
      const auto next = std::next(it);
      if (it->entry->generation < generation) {
        drop(m_held, it, released);
      }
      it = next;
    }
    m_held_current = generation;
  }
  insert_into(m_held, m_held_budget, std::move(entry), released);
  lock.unlock();
  keep_hits_of(released);
}

void HotEntries::erase_from(Shard& shard, std::string_view key, Hits hits) {
  Order released;  // declared before the lock: freed after it
  std::unique_lock lock(shard.mutex);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    drop(shard, found->second, released);
  }
  lock.unlock();
  if (hits == Hits::keep) {
    keep_hits_of(released);
  }
}

void HotEntries::drop_copies(std::string_view key, Hits hits) {
  erase_from(shard_for(key), key, hits);
  if (m_held.entries.load(std::memory_order_relaxed) != 0) {
    erase_from(m_held, key, hits);
  }
}

void HotEntries::forget(std::string_view key) {
  drop_copies(key, Hits::discard);
  std::lock_guard lock(m_dropped_mutex);  // and those of copies dropped before
  m_dropped.erase(std::string(key));
}

HotTierStats HotEntries::stats() const {
  HotTierStats stats;
  auto add = [&stats](const Shard& shard) {
    std::shared_lock lock(shard.mutex);
    stats.entries += shard.index.size();
    stats.bytes += shard.bytes;
  };
  for (const Shard& shard : m_shards) {
    add(shard);
  }
  add(m_held);
  for (const HitStripe& stripe : m_hits) {
    stats.hits += stripe.hits.load(std::memory_order_relaxed);
  }
  return stats;
}

}  // namespace memostore::detail
