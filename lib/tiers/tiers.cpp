// The facade's life and bookkeeping: the tiers it owns, the thread that
// flushes the local tier's counters (with what the tiers above counted), and
// the cleanups whose removals it drops from the hot tier.
#include "tiers/tiers.hpp"

#include <fmt/std.h>

#include "codec/meta.hpp"
#include "util/log.hpp"

namespace memostore::detail {

Tiers::Tiers(std::unique_ptr<Database> database, StorePolicySettings settings,
             std::unique_ptr<const EntrySigner> signer, std::unique_ptr<RemoteTier> remote,
             std::vector<std::unique_ptr<Database>> fallbacks)
    : m_reports(database->dir()),
      m_signer(std::move(signer)),
      m_database(std::move(database)),
      m_remote(std::move(remote)),
      m_fallbacks(std::move(fallbacks)),
      // Large entries stay pinned in the blob cache, as much as it holds; with
      // the hot tier off, none.
      m_hot(settings.hot_cache_bytes, settings.hot_cache_bytes != 0 ? m_database->blob_cache_bytes() : 0),
      m_policy(std::make_unique<StorePolicy>(*m_database, std::move(settings))) {
  if (writable()) {
    m_bookkeeping = std::thread([this] { run_bookkeeping(); });
  }
}

Tiers::~Tiers() {
  if (m_bookkeeping.joinable()) {
    m_policy->flush_wanted().stop();
    m_bookkeeping.join();
  }
  if (m_remote) {
    m_remote->close();  // within close_flush, whatever the server does; before the last flush counts its writes
  }
  if (writable()) {
    hand_over_counts();
  }
  if (auto closed = m_policy->close(); !closed) {
    m_reports.write_failure("the statistics", closed.failure());
  }
}

void Tiers::hand_over_counts() {
  if (!writable()) {
    return;  // a store that never flushes would only pile them up
  }
  m_hot.take_accesses([this](std::string_view key, const Accesses& accesses) { m_policy->add_accesses(key, accesses); });
  if (m_remote) {
    const RemoteStats unsaved = m_remote->take_unsaved();
    const std::uint64_t counts[] = {unsaved.hits,           unsaved.misses,   unsaved.writes,
                                    unsaved.dropped_writes, unsaved.rejected, unsaved.errors};
    for (std::size_t i = 0; i < std::size(k_all_remote_counters); ++i) {
      if (counts[i] != 0) {
        m_policy->add_counter(remote_counter_key(k_all_remote_counters[i]), static_cast<std::int64_t>(counts[i]));
      }
    }
  }
}

void Tiers::run_bookkeeping() {
  m_policy->recount_if_unclean([this](std::string_view key) { forget_hot(key); });
  bool warned = false;
  while (m_policy->flush_wanted().wait_for(k_flush_interval)) {
    hand_over_counts();
    if (auto flushed = m_policy->flush(); !flushed && !warned) {
      m_reports.write_failure("the statistics", flushed.failure());
      warned = true;
    }
  }
}

Result<void> Tiers::flush() {
  hand_over_counts();
  return m_policy->flush();
}

StoreStats Tiers::stats() {
  m_policy->recount_if_unclean([this](std::string_view key) { forget_hot(key); });
  hand_over_counts();
  return m_policy->stats();
}

Result<CleanupReport> Tiers::evict() {
  hand_over_counts();  // eviction orders entries by their last use, hot hits included
  return m_policy->evict([this](std::string_view key) { forget_hot(key); });
}

Result<CleanupReport> Tiers::gc(const CleanupRequest& request) {
  hand_over_counts();
  return m_policy->gc(request, [this](std::string_view key) { forget_hot(key); });
}

Result<Totals> Tiers::clear(std::string_view function, std::optional<std::uint32_t> version) {
  // The hot copies go with the generation the deletion moves; their hits are
  // written first, so that none brings back a record of a cleared entry later.
  hand_over_counts();
  return m_policy->clear(function, version);
}

void Tiers::enforce_budgets(FunctionState& function) {
  if (m_policy->over_budget(function)) {
    hand_over_counts();
    m_policy->enforce_budgets(function, [this](std::string_view key) { forget_hot(key); });
  }
}

Result<void> Tiers::commit(Batch& batch, std::span<const LiveChange> changes) {
  if (auto written = m_policy->commit(batch, changes); !written) {
    return written;
  }
  for (const LiveChange& change : changes) {
    if (!change.removed_key.empty()) {
      forget_hot(change.removed_key);
    }
  }
  return {};
}

Result<void> Tiers::for_each_entry(std::string_view prefix,
                                   FunctionRef<bool(std::string_view, std::string_view)> visit) {
  return m_database->for_each(Family::entries, prefix, visit);
}

Result<void> Tiers::for_each_record(std::string_view prefix,
                                    FunctionRef<bool(std::string_view, std::string_view)> visit) {
  return m_database->for_each(Family::meta, prefix, visit);
}

}  // namespace memostore::detail
