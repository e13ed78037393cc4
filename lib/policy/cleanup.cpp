// Eviction and garbage collection: one scan of the "meta" family gives every
// entry's size, times and version; expired and superseded entries, and the
// least recently used beyond a budget, are removed in batches. The same scan
// corrects the live counters, which can drift when RocksDB's compaction filter
// drops expired entries on its own.
#include <algorithm>
#include <span>

#include "codec/key.hpp"
#include "policy/eviction.hpp"
#include "policy/expiry.hpp"
#include "policy/meta_scan.hpp"
#include "policy/store_policy.hpp"

namespace memostore::detail {
namespace {

/// One entry as the meta family describes it.
struct Scanned {
  std::string key;  // the entry key
  std::string_view name;  // into key
  std::uint32_t version = 0;
  EntryMeta meta;
  std::int64_t last_used_ms = 0;
  bool has_info = false;
  bool removed = false;
};

/// Reads the meta records under `prefix` at `snapshot`, one Scanned per entry.
Result<std::vector<Scanned>> scan(const Database& database, std::string_view prefix, const Snapshot& snapshot) {
  std::vector<Scanned> entries;
  auto scanned = for_each_entry_records(database, prefix, &snapshot, [&](const EntryRecords& records) {
    entries.push_back(Scanned{std::string(records.key), {}, records.parts.version, records.meta,
                              records.last_used_ms(), records.has_info, false});
    entries.back().name = std::string_view(entries.back().key).substr(0, records.parts.name.size());
    return true;
  });
  if (!scanned) {
    return scanned.failure();
  }
  // Views into the keys must survive the vector growing: fix them up now.
  for (Scanned& entry : entries) {
    entry.name = std::string_view(entry.key).substr(0, entry.name.size());
  }
  return entries;
}

}  // namespace

Result<CleanupReport> StorePolicy::evict(RemovedFn removed) {
  std::lock_guard lock(m_cleanup_mutex);
  auto report = cleanup({}, removed);
  m_recount_pending = false;  // this scan recounted
  return report;
}

Result<CleanupReport> StorePolicy::gc(const CleanupRequest& request, RemovedFn removed) {
  std::lock_guard lock(m_cleanup_mutex);
  auto report = cleanup(request, removed);
  m_recount_pending = false;
  return report;
}

// REQUIRES: m_cleanup_mutex held.
Result<CleanupReport> StorePolicy::cleanup(const CleanupRequest& request, RemovedFn removed) {
  FunctionState* const only = request.only;
  CleanupReport report;
  if (!m_settings.writable) {
    return report;
  }
  std::unique_ptr<Snapshot> snapshot;
  {
    // Counts flushed and snapshot taken with no write in between: the
    // counters then match the snapshot exactly.
    std::unique_lock accounting(m_accounting);
    if (auto flushed = flush(); !flushed) {
      return flushed.failure();
    }
    snapshot = m_database.snapshot();
  }
  const std::string prefix = only != nullptr ? function_prefix(only->name()) : std::string();
  auto scanned = scan(m_database, prefix, *snapshot);
  if (!scanned) {
    return scanned.failure();
  }
  std::vector<Scanned>& entries = scanned.value();
  const std::int64_t now = now_ms();

  std::map<std::string_view, std::uint32_t> newest_version;
  std::map<std::string_view, Totals> exact;
  for (const Scanned& entry : entries) {
    if (entry.has_info) {
      auto& newest = newest_version[entry.name];
      newest = std::max(newest, entry.version);
      exact[entry.name].entries += 1;
      exact[entry.name].bytes += static_cast<std::int64_t>(entry.meta.size);
    }
  }

  Batch batch(m_database);
  std::vector<LiveChange> changes;  // applied when `batch` is committed

  // Correct the live counters to what the scan saw, as of the same snapshot:
  // writes after it carry their own changes and stay counted. The correction
  // is applied like any change (in memory, then flushed).
  {
    std::vector<std::string> names;
    {
      std::lock_guard lock(m_functions_mutex);
      for (const auto& [name, state] : m_functions) {
        if (only == nullptr || state.get() == only) {
          names.push_back(name);
        }
      }
    }
    for (const auto& [name, totals] : exact) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.emplace_back(name);
      }
    }
    for (const std::string& name : names) {
      std::int64_t counted_entries = 0;
      std::int64_t counted_bytes = 0;
      (void)m_database.get(Family::stats, counter_key(name, Counter::entries),
                           [&](std::string_view v) { counted_entries = static_cast<std::int64_t>(decode_counter(v)); },
                           snapshot.get());
      (void)m_database.get(Family::stats, counter_key(name, Counter::bytes),
                           [&](std::string_view v) { counted_bytes = static_cast<std::int64_t>(decode_counter(v)); },
                           snapshot.get());
      const auto found = exact.find(name);
      const Totals actual = found == exact.end() ? Totals{} : found->second;
      LiveChange change;
      change.function = &function(name);
      change.entries = actual.entries - counted_entries;
      change.bytes = actual.bytes - counted_bytes;
      if (change.entries != 0 || change.bytes != 0) {
        changes.push_back(change);
      }
    }
  }

  auto write_batch = [&]() -> Result<void> {
    if (auto written = commit(batch, changes); !written) {
      return written;
    }
    for (const LiveChange& change : changes) {
      if (!change.removed_key.empty()) {
        removed(change.removed_key);
      }
    }
    changes.clear();
    batch = Batch(m_database);
    return {};
  };
  auto remove = [&](Scanned& entry, std::optional<Counter> counter) -> Result<void> {
    entry.removed = true;
    changes.push_back(stage_remove(batch, function(entry.name), entry.key, entry.meta.size, counter));
    if (m_settings.explain && counter == Counter::evictions) {
      remember_evicted(entry.key);
    }
    return changes.size() >= 1000 ? write_batch() : Result<void>();
  };

  auto expired_entry = [&](const Scanned& entry) {
    if (expired(entry.meta.expires_ms, now)) {
      return true;
    }
    const auto ttl = ttl_for(function(entry.name));
    return ttl && expired(deadline_ms(entry.meta.created_ms, ttl), now);
  };

  for (Scanned& entry : entries) {
    if (!entry.has_info) {
      batch.remove(Family::meta, meta_key(entry.key, k_access_tag));  // left by a removed entry
      batch.remove(Family::meta, meta_key(entry.key, k_hits_tag));
      batch.remove(Family::meta, meta_key(entry.key, k_inputs_tag));
      entry.removed = true;
      continue;
    }
    if (request.unused_before_ms && entry.last_used_ms < *request.unused_before_ms) {
      report.unused_entries += 1;
      report.unused_bytes += entry.meta.size;
      // Removed because the caller asked (like clear), not by a size budget:
      // no counter, so `evictions` keeps meaning what stats says it means.
      if (auto removed = remove(entry, std::nullopt); !removed) {
        return removed.failure();
      }
      continue;
    }
    if (!request.collect_garbage) {
      continue;
    }
    if (expired_entry(entry)) {
      report.expired_entries += 1;
      report.expired_bytes += entry.meta.size;
      if (auto removed = remove(entry, Counter::expirations); !removed) {
        return removed.failure();
      }
    } else if (entry.version < newest_version[entry.name]) {
      report.superseded_entries += 1;
      report.superseded_bytes += entry.meta.size;
      if (auto removed = remove(entry, Counter::evictions); !removed) {
        return removed.failure();
      }
    } else if (request.inputs_changed && request.inputs_changed(entry.key)) {
      report.changed_input_entries += 1;
      report.changed_input_bytes += entry.meta.size;
      if (auto removed = remove(entry, Counter::evictions); !removed) {
        return removed.failure();
      }
    }
  }

  // Budgets: each function's own caps, then the store's.
  auto evict_within = [&](std::vector<Scanned*> pool, const Limits& limits) -> Result<void> {
    std::vector<Candidate> candidates;
    candidates.reserve(pool.size());
    for (const Scanned* entry : pool) {
      const bool dead = entry->version < newest_version[entry->name] || expired_entry(*entry);
      candidates.push_back({static_cast<std::uint64_t>(entry->last_used_ms),
                            entry->meta.size, dead});
    }
    for (std::size_t victim : choose_evictions(candidates, limits, k_keep_fraction)) {
      report.evicted_entries += 1;
      report.evicted_bytes += pool[victim]->meta.size;
      if (auto removed = remove(*pool[victim], Counter::evictions); !removed) {
        return removed;
      }
    }
    return {};
  };
  std::map<std::string_view, std::vector<Scanned*>> by_function;
  for (Scanned& entry : entries) {
    if (!entry.removed) {
      by_function[entry.name].push_back(&entry);
    }
  }
  for (auto& [name, pool] : by_function) {
    const FunctionLimits limits = function(name).limits();
    if (limits.max_entries != 0 || limits.max_bytes != 0) {
      if (auto evicted = evict_within(pool, Limits{limits.max_entries, limits.max_bytes}); !evicted) {
        return evicted.failure();
      }
    }
  }
  const std::uint64_t max_bytes = request.max_bytes.value_or(m_settings.max_bytes);
  if (only == nullptr && max_bytes != 0) {
    std::vector<Scanned*> pool;
    for (Scanned& entry : entries) {
      if (!entry.removed) {
        pool.push_back(&entry);
      }
    }
    if (auto evicted = evict_within(std::move(pool), Limits{0, max_bytes}); !evicted) {
      return evicted.failure();
    }
  }
  if (auto written = write_batch(); !written) {
    return written.failure();
  }
  return report;
}

}  // namespace memostore::detail
