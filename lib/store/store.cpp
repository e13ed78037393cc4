#include <memostore/store.hpp>

#include <fmt/std.h>

#include "codec/meta.hpp"
#include "store/config.hpp"
#include "store/mode_rules.hpp"
#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore {

void detail::require_writable(Mode mode, const std::filesystem::path& dir, std::string_view operation) {
  if (mode == Mode::readonly) {
    throw Error(ErrorCode::usage, fmt::format("cannot {} {}: the store is open readonly. Open it in mode "
                                              "readwrite to change it",
                                              operation, dir));
  }
}

namespace {

/// The remote tier's counters of `core`'s store: what every process wrote
/// (policy flushes write them; Store::stats() flushed just before), plus this
/// process's own counts where it writes nothing (readonly mode).
RemoteStats remote_counters(detail::StoreCore& core) {
  RemoteStats stats;
  if (core.database() == nullptr) {
    return stats;
  }
  (void)core.database()->for_each(detail::Family::stats, detail::k_remote_counter_prefix,
                                  [&](std::string_view key, std::string_view value) {
    const auto counter = detail::parse_remote_counter_key(key);
    if (!counter) {
      return true;
    }
    const std::uint64_t n = detail::decode_counter(value);
    switch (*counter) {
      case detail::RemoteCounter::hits: stats.hits = n; break;
      case detail::RemoteCounter::misses: stats.misses = n; break;
      case detail::RemoteCounter::writes: stats.writes = n; break;
      case detail::RemoteCounter::dropped_writes: stats.dropped_writes = n; break;
      case detail::RemoteCounter::rejected: stats.rejected = n; break;
      case detail::RemoteCounter::errors: stats.errors = n; break;
    }
    return true;
  });
  if (detail::RemoteTier* remote = core.remote(); remote != nullptr && !core.policy()->settings().writable) {
    const RemoteStats own = remote->stats();
    stats.hits += own.hits;
    stats.misses += own.misses;
    stats.rejected += own.rejected;
    stats.errors += own.errors;  // a readonly process writes nothing to Redis either
  }
  return stats;
}

}  // namespace

Store::Store(std::shared_ptr<detail::StoreCore> core, Mode mode) : m_core(std::move(core)), m_mode(mode) {}

Store Store::open(const std::filesystem::path& dir) {
  StoreOptions options;
  options.dir = dir;
  return open(std::move(options));
}

Store Store::open(StoreOptions options) {
  detail::StoreConfig config = detail::resolve_config(options);
  if (config.mode == Mode::off) {
    return Store(std::make_shared<detail::StoreCore>(config.dir, nullptr, nullptr, false), config.mode);
  }
  return Store(detail::value_or_throw(detail::open_store_core(config.dir, config.database, std::move(config.policy),
                                                               std::move(config.signer), std::move(config.remote),
                                                               config.fallback)),
               config.mode);
}

const std::filesystem::path& Store::dir() const noexcept { return m_core->dir(); }

void Store::clear() {
  if (m_mode == Mode::off) {
    return;
  }
  detail::require_writable(m_mode, dir(), "clear");
  (void)detail::value_or_throw(m_core->tiers()->clear(""));
}

void Store::flush() {
  if (auto* tiers = m_core->tiers()) {
    detail::value_or_throw(tiers->flush());
  }
  if (auto* database = m_core->database()) {
    detail::value_or_throw(database->sync());
  }
}

void Store::catch_up() {
  if (auto* database = m_core->database()) {
    detail::value_or_throw(database->catch_up());
  }
}

void Store::wait_for_refreshes() const { m_core->refreshes().wait_idle(); }

StoreStats Store::stats() const {
  auto* tiers = m_core->tiers();
  StoreStats stats = tiers != nullptr ? tiers->stats() : StoreStats{};
  stats.inputs = m_core->fingerprints().stats();
  stats.remote = remote_counters(*m_core);
  if (tiers != nullptr) {
    stats.hot = tiers->hot().stats();
  }
  return stats;
}

CleanupReport Store::evict() {
  auto* tiers = m_core->tiers();
  return tiers != nullptr ? detail::value_or_throw(tiers->evict()) : CleanupReport{};
}

CleanupReport Store::gc() {
  auto* tiers = m_core->tiers();
  if (tiers == nullptr) {  // off
    return CleanupReport{};
  }
  detail::require_writable(m_mode, dir(), "collect garbage in");
  CleanupReport report = detail::value_or_throw(tiers->gc(detail::CleanupRequest{.collect_garbage = true}));
  report.stale_file_records = detail::value_or_throw(m_core->fingerprints().forget_stale());
  return report;
}

Store Store::open_default() {
  StoreOptions options;
  options.dir = default_store_dir();
  try {
    return open(options);
  } catch (const Error& e) {
    detail::warn("default store unusable: {}. Memoized functions on the default store will compute every "
                 "call without caching",
                 e.what());
    return Store(std::make_shared<detail::StoreCore>(options.dir, nullptr, nullptr, false), Mode::off);
  }
}

Store& default_store() {
  // Constructed after RocksDB's own statics (it opens a database), so it is
  // destroyed, and the database flushed and closed, before they are.
  static Store store = Store::open_default();
  return store;
}

}  // namespace memostore
