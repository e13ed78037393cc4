// The statistics half of StorePolicy: loading the live totals at open,
// flushing what counters and access times buffered, reading them back for
// stats(), zeroing them, and the exit summary (MEMOSTORE_STATS).
#include <cstdio>

#include <fmt/format.h>
#include <fmt/std.h>

#include "policy/store_policy.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<std::size_t>(i), ",");
  }
  return digits;
}


}  // namespace

void StorePolicy::load_counters() {
  auto loaded = m_database.for_each(Family::stats, "", [this](std::string_view key, std::string_view value) {
    if (auto parsed = parse_counter_key(key)) {
      FunctionState& state = function(parsed->function);
      const auto count = static_cast<std::int64_t>(decode_counter(value));
      if (parsed->counter == Counter::entries) {
        state.entries.store(count, std::memory_order_relaxed);
      } else if (parsed->counter == Counter::bytes) {
        state.bytes.store(count, std::memory_order_relaxed);
      }
    }
    return true;
  });
  if (!loaded) {
    warn("cannot read the statistics of {}: {}; size budgets start from zero", m_database.dir(),
         loaded.failure().message);
  }
}

Result<void> StorePolicy::flush(Urgency urgency) {
  if (!m_settings.writable) {
    return {};  // counted in memory only; stats() adds what is pending
  }
  std::lock_guard flush_lock(m_flush_mutex);
  Batch batch(m_database);
  {
    std::lock_guard lock(m_functions_mutex);
    for (auto& [name, state] : m_functions) {
      auto add_taken = [&](std::uint64_t n, Counter counter) {
        if (n != 0) {
          batch.add(counter_key(name, counter), static_cast<std::int64_t>(n));
        }
      };
      auto add = [&](std::atomic<std::uint64_t>& pending, Counter counter) {
        add_taken(pending.exchange(0, std::memory_order_relaxed), counter);
      };
      auto add_signed = [&](std::atomic<std::int64_t>& pending, Counter counter) {
        if (const std::int64_t n = pending.exchange(0, std::memory_order_relaxed); n != 0) {
          batch.add(counter_key(name, counter), n);
        }
      };
      const FunctionState::HitCount hits = state->take_pending_hits();
      add_taken(hits.hits, Counter::hits);
      add_taken(hits.saved_ns, Counter::saved_ns);
      add(state->pending_misses, Counter::misses);
      add(state->pending_expirations, Counter::expirations);
      add(state->pending_rejected, Counter::rejected);
      add(state->pending_checked, Counter::checked);
      add(state->pending_stale, Counter::stale);
      add(state->pending_changed_layout, Counter::changed_layout);
      add(state->pending_fallback_hits, Counter::fallback_hits);
      add(state->pending_refreshes, Counter::refreshes);
      add(state->pending_refresh_failures, Counter::refresh_failures);
      add(state->pending_evictions, Counter::evictions);
      add(state->pending_stores, Counter::stores);
      add(state->pending_compute_ns, Counter::compute_ns);
      add_signed(state->pending_entries, Counter::entries);
      add_signed(state->pending_bytes, Counter::bytes);
    }
  }
  {
    std::map<std::string, std::int64_t> counters;
    {
      std::lock_guard lock(m_counters_mutex);
      counters.swap(m_counters);
    }
    for (const auto& [key, n] : counters) {
      if (n != 0) {
        batch.add(key, n);
      }
    }
  }
  auto write_accesses = [&batch](std::string_view key, const Accesses& accesses) {
    batch.put(Family::meta, meta_key(key, k_access_tag), encode_access(accesses.last_ms));
    batch.add(Family::meta, meta_key(key, k_hits_tag), static_cast<std::int64_t>(accesses.hits));
  };
  m_accesses.take(write_accesses);
  m_flush_requested = false;
  return urgency == Urgency::may_wait ? m_database.write_bookkeeping(batch) : m_database.write(batch);
}

Result<void> StorePolicy::note_refresh_after(std::string_view function, std::optional<Duration> refresh_after) {
  const std::string key = refresh_after_key(function);
  std::optional<std::uint64_t> stored;
  auto read = m_database.get(Family::stats, key, [&stored](std::string_view bytes) { stored = decode_counter(bytes); });
  if (!read) {
    return read.failure();
  }
  const std::optional<std::uint64_t> wanted =
      refresh_after ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(refresh_after->count())) : std::nullopt;
  if (stored == wanted) {
    return {};
  }
  Batch batch(m_database);
  if (wanted) {
    batch.put(Family::stats, key, encode_counter(*wanted));
  } else {
    batch.remove(Family::stats, key);
  }
  return m_database.write(batch);
}

Result<void> StorePolicy::zero_counters() {
  std::lock_guard flush_lock(m_flush_mutex);
  std::lock_guard lock(m_functions_mutex);
  Batch batch(m_database);
  auto zeroed = m_database.for_each(Family::stats, "", [&](std::string_view key, std::string_view) {
    const auto parsed = parse_counter_key(key);
    if ((parsed && parsed->counter != Counter::entries && parsed->counter != Counter::bytes) ||
        parse_remote_counter_key(key)) {
      batch.put(Family::stats, key, encode_counter(0));
    }
    return true;
  });
  if (!zeroed) {
    return zeroed;
  }
  for (auto& [name, state] : m_functions) {
    (void)state->take_pending_hits();
    for (auto* pending : {&state->pending_misses,
                          &state->pending_expirations, &state->pending_rejected, &state->pending_evictions, &state->pending_stores,
                          &state->pending_compute_ns, &state->pending_checked, &state->pending_stale,
                          &state->pending_changed_layout, &state->pending_fallback_hits,
                          &state->pending_refreshes, &state->pending_refresh_failures}) {
      pending->store(0, std::memory_order_relaxed);
    }
  }
  return m_database.write(batch);
}

StoreStats StorePolicy::stats() {
  if (m_database.reading()) {
    (void)m_database.catch_up();  // applies the hits that processes which only read handed over
  }
  (void)flush();  // best effort: what stays pending is added below
  std::map<std::string, FunctionStats, std::less<>> by_name;
  auto read = m_database.for_each(Family::stats, "", [&](std::string_view key, std::string_view value) {
    if (auto parsed = parse_counter_key(key)) {
      FunctionStats& s = by_name[std::string(parsed->function)];
      const std::uint64_t n = decode_counter(value);
      switch (parsed->counter) {
        case Counter::hits: s.hits = n; break;
        case Counter::misses: s.misses = n; break;
        case Counter::stores: s.stores = n; break;
        case Counter::evictions: s.evictions = n; break;
        case Counter::expirations: s.expirations = n; break;
        case Counter::rejected: s.rejected = n; break;
        case Counter::entries: s.entries = n; break;
        case Counter::bytes: s.bytes = n; break;
        case Counter::compute_ns: s.compute_time = std::chrono::nanoseconds(n); break;
        case Counter::saved_ns: s.saved_time = std::chrono::nanoseconds(n); break;
        case Counter::checked: s.checked = n; break;
        case Counter::stale: s.stale = n; break;
        case Counter::changed_layout: s.changed_layout = n; break;
        case Counter::fallback_hits: s.fallback_hits = n; break;
        case Counter::refreshes: s.refreshes = n; break;
        case Counter::refresh_failures: s.refresh_failures = n; break;
      }
    }
    return true;
  });
  if (!read) {
    warn("cannot read the statistics of {}: {}", m_database.dir(), read.failure().message);
  }
  {
    std::lock_guard lock(m_functions_mutex);
    for (auto& [name, state] : m_functions) {
      FunctionStats& s = by_name[name];
      const FunctionState::HitCount hits = state->pending_hits();
      s.hits += hits.hits;
      s.misses += state->pending_misses.load(std::memory_order_relaxed);
      s.expirations += state->pending_expirations.load(std::memory_order_relaxed);
      s.rejected += state->pending_rejected.load(std::memory_order_relaxed);
      s.checked += state->pending_checked.load(std::memory_order_relaxed);
      s.stale += state->pending_stale.load(std::memory_order_relaxed);
      s.changed_layout += state->pending_changed_layout.load(std::memory_order_relaxed);
      s.fallback_hits += state->pending_fallback_hits.load(std::memory_order_relaxed);
      s.refreshes += state->pending_refreshes.load(std::memory_order_relaxed);
      s.refresh_failures += state->pending_refresh_failures.load(std::memory_order_relaxed);
      s.saved_time += std::chrono::nanoseconds(hits.saved_ns);
      if (!m_settings.writable) {  // nothing is written: the in-memory view is the current one
        s.entries = static_cast<std::uint64_t>(std::max<std::int64_t>(0, state->entries.load()));
        s.bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(0, state->bytes.load()));
      }
    }
  }
  StoreStats result;
  for (auto& [name, s] : by_name) {
    s.name = name;
    FunctionStats& t = result.total;
    t.hits += s.hits;
    t.misses += s.misses;
    t.stores += s.stores;
    t.evictions += s.evictions;
    t.expirations += s.expirations;
    t.rejected += s.rejected;
    t.checked += s.checked;
    t.stale += s.stale;
    t.changed_layout += s.changed_layout;
    t.fallback_hits += s.fallback_hits;
    t.refreshes += s.refreshes;
    t.refresh_failures += s.refresh_failures;
    t.entries += s.entries;
    t.bytes += s.bytes;
    t.compute_time += s.compute_time;
    t.saved_time += s.saved_time;
    result.functions.push_back(std::move(s));
  }
  return result;
}

void StorePolicy::print_exit_summary() {
  std::uint64_t hits = 0, misses = 0, saved_ns = 0;
  std::int64_t entries = 0, bytes = 0;
  {
    std::lock_guard lock(m_functions_mutex);
    for (const auto& [name, state] : m_functions) {
      const FunctionState::HitCount session = state->session_hits();
      hits += session.hits;
      misses += state->session_misses.load();
      saved_ns += session.saved_ns;
      entries += state->entries.load();
      bytes += state->bytes.load();
    }
  }
  const double rate = hits + misses == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses);
  const std::string line = fmt::format(
      "memostore: {} {}, {} {} ({:.1f}%), saved {}, {} in {} {} ({})\n", with_thousands(hits),
      hits == 1 ? "hit" : "hits", with_thousands(misses), misses == 1 ? "miss" : "misses", rate, format_duration(std::chrono::nanoseconds(saved_ns)),
      format_size(static_cast<std::uint64_t>(std::max<std::int64_t>(bytes, 0))),
      with_thousands(static_cast<std::uint64_t>(std::max<std::int64_t>(entries, 0))), entries == 1 ? "entry" : "entries",
      m_database.dir());
  std::fputs(line.c_str(), stderr);
}

}  // namespace memostore::detail
