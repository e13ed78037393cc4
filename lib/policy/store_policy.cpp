#include "policy/store_policy.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <fmt/std.h>

#include "codec/key.hpp"
#include "policy/expiry.hpp"
#include "policy/meta_scan.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// In the stats family, 1 after a clean close, 0 while a process has the store
/// open. (No NUL byte: not a counter key.)
constexpr std::string_view k_clean_close_key = "memostore.clean-close";

}  // namespace

StorePolicy::StorePolicy(Database& database, StorePolicySettings settings)
    : m_database(database), m_settings(std::move(settings)) {
  load_counters();
  // The clean-close record is the primary's: a secondary neither checks nor sets it.
  m_owns_clean_close = m_settings.writable && !m_database.secondary();
  if (m_owns_clean_close) {
    bool clean = false;
    (void)m_database.get(Family::stats, k_clean_close_key,
                         [&](std::string_view value) { clean = decode_counter(value) == 1; });
    bool has_entries = false;
    (void)m_database.for_each(Family::meta, "", [&](std::string_view, std::string_view) {
      has_entries = true;
      return false;
    });
    m_recount_pending = !clean && has_entries;
    // The record says "open" from this process's first commit on (commit):
    // a process that only hits changes no live total, and writing the record
    // here would make every open a write.
  }
}

StorePolicy::~StorePolicy() {
  if (m_settings.exit_summary) {
    print_exit_summary();
  }
}

Result<void> StorePolicy::close() {
  // What a process that only read buffered may wait for the next writer
  // (Database::write_bookkeeping): it is not worth opening the store for writing.
  if (auto flushed = flush(Urgency::may_wait); !flushed) {
    return flushed;
  }
  if (m_owns_clean_close && m_marked_open.load()) {
    (void)m_database.put(Family::stats, k_clean_close_key, encode_counter(1));
  }
  return {};
}

FunctionState& StorePolicy::function(std::string_view name) {
  std::lock_guard lock(m_functions_mutex);
  auto it = m_functions.find(name);
  if (it == m_functions.end()) {
    it = m_functions.emplace(std::string(name), std::make_unique<FunctionState>(std::string(name))).first;
  }
  return *it->second;
}

std::optional<Duration> StorePolicy::ttl_for(const FunctionState& function) const {
  const auto own = function.ttl();
  return own ? own : m_settings.default_ttl;
}

// --- The memo path ---

void StorePolicy::record_hit(FunctionState& function, std::string_view key, std::uint64_t compute_ns,
                             std::int64_t now_ms) {
  function.count_hit(compute_ns);
  if (m_accesses.record(key, now_ms) == AccessBuffer::Recorded::flush_soon && !m_flush_requested.exchange(true)) {
    m_flush_wanted.raise();
  }
}

void StorePolicy::add_accesses(std::string_view key, const Accesses& accesses) { m_accesses.add(key, accesses); }

void StorePolicy::add_counter(std::string key, std::int64_t n) {
  std::lock_guard lock(m_counters_mutex);
  m_counters[std::move(key)] += n;
}

void StorePolicy::record_miss(FunctionState& function) noexcept {
  function.pending_misses.fetch_add(1, std::memory_order_relaxed);
  function.session_misses.fetch_add(1, std::memory_order_relaxed);
}

void StorePolicy::record_expired_read(FunctionState& function) noexcept {
  function.pending_expirations.fetch_add(1, std::memory_order_relaxed);
}

void StorePolicy::record_rejected(FunctionState& function) noexcept {
  function.pending_rejected.fetch_add(1, std::memory_order_relaxed);
}

void StorePolicy::record_fallback_hit(FunctionState& function) noexcept {
  function.pending_fallback_hits.fetch_add(1, std::memory_order_relaxed);
}

void StorePolicy::record_refresh(FunctionState& function, bool failed) noexcept {
  (failed ? function.pending_refresh_failures : function.pending_refreshes).fetch_add(1, std::memory_order_relaxed);
}

void StorePolicy::record_check(FunctionState& function, bool stale) noexcept {
  function.pending_checked.fetch_add(1, std::memory_order_relaxed);
  if (stale) {
    function.pending_stale.fetch_add(1, std::memory_order_relaxed);
  }
}

void StorePolicy::record_changed_layout(FunctionState& function) noexcept {
  function.pending_changed_layout.fetch_add(1, std::memory_order_relaxed);
}

LiveChange StorePolicy::stage_store(Batch& batch, FunctionState& function, std::string_view key,
                                    const EntryMeta& meta, std::optional<std::uint64_t> replaced_size,
                                    std::uint64_t compute_ns, std::string_view inputs) {
  // No access record is written: last access is the later of the two, and a
  // stale one from an entry this replaces is older than `created`.
  batch.put(Family::meta, meta_key(key, k_info_tag), encode_meta(meta));
  if (replaced_size) {
    batch.remove(Family::meta, meta_key(key, k_hits_tag));  // the hits were the replaced result's
  }
  if (!inputs.empty()) {
    batch.put(Family::meta, meta_key(key, k_inputs_tag), inputs);
  } else if (replaced_size) {
    batch.remove(Family::meta, meta_key(key, k_inputs_tag));
  }
  return LiveChange{&function,
                    replaced_size ? 0 : 1,
                    static_cast<std::int64_t>(meta.size) - static_cast<std::int64_t>(replaced_size.value_or(0)),
                    1,
                    compute_ns,
                    std::nullopt,
                    {}};
}

LiveChange StorePolicy::stage_remove(Batch& batch, FunctionState& function, std::string_view key, std::uint64_t size,
                                     std::optional<Counter> removal) {
  batch.remove(Family::entries, key);
  batch.remove(Family::meta, meta_key(key, k_info_tag));
  batch.remove(Family::meta, meta_key(key, k_access_tag));
  batch.remove(Family::meta, meta_key(key, k_hits_tag));
  batch.remove(Family::meta, meta_key(key, k_inputs_tag));
  m_accesses.forget(key);  // a buffered access must not bring back records for a removed entry
  return LiveChange{&function, -1, -static_cast<std::int64_t>(size), 0, 0, removal, std::string(key)};
}

void StorePolicy::apply(const LiveChange& change) noexcept {
  FunctionState* f = change.function;
  if (f == nullptr) {
    return;
  }
  constexpr auto relaxed = std::memory_order_relaxed;
  f->entries.fetch_add(change.entries, relaxed);
  f->bytes.fetch_add(change.bytes, relaxed);
  f->pending_entries.fetch_add(change.entries, relaxed);
  f->pending_bytes.fetch_add(change.bytes, relaxed);
  f->pending_stores.fetch_add(change.stores, relaxed);
  f->pending_compute_ns.fetch_add(change.compute_ns, relaxed);
  if (change.removal == Counter::evictions) {
    f->pending_evictions.fetch_add(1, relaxed);
  } else if (change.removal == Counter::expirations) {
    f->pending_expirations.fetch_add(1, relaxed);
  }
}

bool StorePolicy::mark_open(Batch& batch) {
  if (!m_owns_clean_close || m_marked_open.load(std::memory_order_relaxed)) {
    return false;
  }
  // Until the clean close, live totals changed from here on may be lost to a
  // crash: the next open recounts. (Threads committing their first writes at
  // once each mark it; the record is the same.)
  batch.put(Family::stats, k_clean_close_key, encode_counter(0));
  return true;
}

Result<void> StorePolicy::commit(Batch& batch, std::span<const LiveChange> changes) {
  std::shared_lock accounting(m_accounting);
  const bool marks = mark_open(batch);
  if (auto written = m_database.write(batch); !written) {
    return written;
  }
  if (marks) {
    m_marked_open = true;  // only once written: a failed write leaves the next one to mark it
  }
  for (const LiveChange& change : changes) {
    apply(change);
  }
  return {};
}

Result<Totals> StorePolicy::clear(std::string_view name, std::optional<std::uint32_t> version) {
  // An eviction running meanwhile could remove (and count) entries this
  // deletes; no write may slip in between the deletion and the counting.
  std::lock_guard cleanup_lock(m_cleanup_mutex);
  std::unique_lock accounting(m_accounting);
  if (auto flushed = flush(); !flushed) {
    return flushed.failure();
  }
  const std::string prefix = name.empty() ? std::string()
                             : version    ? version_prefix(name, *version)
                                          : function_prefix(name);
  std::map<std::string, Totals, std::less<>> removed;
  auto scanned = for_each_entry_records(m_database, prefix, nullptr, [&](const EntryRecords& entry) {
    if (entry.has_info) {
      Totals& totals = removed[std::string(entry.parts.name)];
      totals.entries += 1;
      totals.bytes += static_cast<std::int64_t>(entry.meta.size);
    }
    return true;
  });
  if (!scanned) {
    return scanned.failure();
  }
  // The live totals are corrected after the removals (in memory until the
  // next flush, for one version): a crash in between must leave a recount.
  if (Batch mark(m_database); mark_open(mark)) {
    if (auto marked = m_database.write(mark); !marked) {
      return marked.failure();
    }
    m_marked_open = true;
  }
  // In one batch: removing the entries and then their records in two let
  // another process's store land between them, leaving an entry without its
  // record (the soak test found it).
  if (auto deleted = m_database.remove_prefix({Family::entries, Family::meta}, prefix); !deleted) {
    return deleted.failure();
  }
  Totals freed;
  for (const auto& [function_name, totals] : removed) {
    freed.entries += totals.entries;
    freed.bytes += totals.bytes;
  }
  if (version || m_database.secondary()) {
    // Other versions remain, or the process that holds the store has live
    // totals of its own: they go down by what was removed (merged counts
    // add up across processes; a "zero" written here would erase the
    // holder's changes since this process's scan).
    for (const auto& [function_name, totals] : removed) {
      apply(LiveChange{&function(function_name), -totals.entries, -totals.bytes, 0, 0, std::nullopt, {}});
    }
    return freed;
  }
  // Nothing of these functions remains: their totals are zero, whatever they said.
  Batch batch(m_database);
  std::vector<FunctionState*> cleared;
  {
    std::lock_guard lock(m_functions_mutex);
    for (auto& [function_name, state] : m_functions) {
      if (name.empty() || function_name == name) {
        batch.put(Family::stats, counter_key(function_name, Counter::entries), encode_counter(0));
        batch.put(Family::stats, counter_key(function_name, Counter::bytes), encode_counter(0));
        cleared.push_back(state.get());
      }
    }
  }
  if (auto written = m_database.write(batch); !written) {
    return written.failure();
  }
  for (FunctionState* state : cleared) {
    state->entries.store(0, std::memory_order_relaxed);
    state->bytes.store(0, std::memory_order_relaxed);
    state->pending_entries.store(0, std::memory_order_relaxed);
    state->pending_bytes.store(0, std::memory_order_relaxed);
  }
  return freed;
}

std::optional<std::uint64_t> StorePolicy::stored_size(std::string_view key) const {
  std::optional<std::uint64_t> size;
  (void)m_database.get(Family::meta, meta_key(key, k_info_tag), [&](std::string_view value) {
    if (auto meta = decode_meta(value)) {
      size = meta->size;
    }
  });
  return size;
}

std::uint64_t StorePolicy::total_bytes() const noexcept {
  std::lock_guard lock(m_functions_mutex);
  std::int64_t total = 0;
  for (const auto& [name, state] : m_functions) {
    total += state->bytes.load(std::memory_order_relaxed);
  }
  return total > 0 ? static_cast<std::uint64_t>(total) : 0;
}

namespace {

bool function_over_budget(const FunctionState& function) {
  const FunctionLimits limits = function.limits();
  const auto entries = function.entries.load(std::memory_order_relaxed);
  const auto bytes = function.bytes.load(std::memory_order_relaxed);
  return (limits.max_entries != 0 && entries > static_cast<std::int64_t>(limits.max_entries)) ||
         (limits.max_bytes != 0 && bytes > static_cast<std::int64_t>(limits.max_bytes));
}

}  // namespace

bool StorePolicy::over_budget(const FunctionState& function) const {
  return function_over_budget(function) || (m_settings.max_bytes != 0 && total_bytes() > m_settings.max_bytes);
}

void StorePolicy::enforce_budgets(FunctionState& function, RemovedFn removed) {
  const bool store_over = m_settings.max_bytes != 0 && total_bytes() > m_settings.max_bytes;
  if (!store_over && !function_over_budget(function)) {
    return;
  }
  std::unique_lock lock(m_cleanup_mutex, std::try_to_lock);
  if (!lock.owns_lock()) {
    return;  // another thread is evicting; it leaves room for this write too
  }
  auto evicted = cleanup({.only = store_over ? nullptr : &function}, removed);
  if (!evicted) {
    warn("cannot evict from {} to keep it within its size budget: {}", m_database.dir(), evicted.failure().message);
  }
}

void StorePolicy::remember_evicted(std::string_view key) {
  constexpr std::size_t k_max_remembered = 100'000;
  std::lock_guard lock(m_evicted_mutex);
  if (m_evicted.size() < k_max_remembered) {
    m_evicted.emplace(key);
  }
}

bool StorePolicy::was_evicted(std::string_view key) const {
  std::lock_guard lock(m_evicted_mutex);
  return m_evicted.count(std::string(key)) > 0;
}

// --- Maintenance ---

void StorePolicy::recount_if_unclean(RemovedFn removed) {
  if (!m_recount_pending.load()) {
    return;
  }
  // The last process did not close the store: counts it had buffered are
  // lost. Recount the live totals (and apply the budgets) from the info
  // records. The flag clears only when the recount is done, so a caller that
  // finds it set waits on the mutex for the thread already recounting.
  std::lock_guard cleanup_lock(m_cleanup_mutex);
  if (!m_recount_pending.load()) {
    return;
  }
  if (auto recounted = cleanup({}, removed); !recounted) {
    warn("cannot recount {} after an unclean close: {}", m_database.dir(), recounted.failure().message);
  } else {
    m_marked_open = true;  // the totals are right again: a clean close may say so
  }
  m_recount_pending = false;
}

}  // namespace memostore::detail
