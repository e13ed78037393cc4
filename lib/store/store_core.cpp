#include "store/store_core.hpp"

#include <map>
#include <mutex>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/meta.hpp"
#include "policy/expiry.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

namespace fs = std::filesystem;

// Closing a store happens under the registry's lock, so that reopening the
// same directory waits for RocksDB to release it. Recursive because the last
// handle may be dropped by a thread that holds the lock.
struct Registry {
  std::recursive_mutex mutex;
  std::map<fs::path, std::weak_ptr<StoreCore>> open;  // guarded by mutex
};

Registry& registry() {
  static Registry instance;
  return instance;
}

fs::path identity_of(const fs::path& dir) {
  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  return ec ? dir.lexically_normal() : absolute;
}

}  // namespace

StoreCore::StoreCore(fs::path dir, std::unique_ptr<Database> database, StorePolicySettings settings,
                     std::unique_ptr<const EntrySigner> signer, std::unique_ptr<RemoteTier> remote)
    : m_dir(std::move(dir)),
      m_signer(std::move(signer)),
      m_database(std::move(database)),
      m_remote(std::move(remote)),
      // Large entries stay pinned in the blob cache, as much as it holds; with
      // the hot tier off, none.
      m_hot(settings.hot_cache_bytes,
            settings.hot_cache_bytes != 0 && m_database ? m_database->blob_cache_bytes() : 0),
      m_policy(m_database ? std::make_unique<StorePolicy>(*m_database, with_store_hooks(settings)) : nullptr),
      m_fingerprints(m_database.get(), m_signer.get(), settings.clock ? settings.clock : system_clock(),
                     settings.always_hash_inputs) {}

StoreCore::~StoreCore() {
  if (m_remote) {
    m_remote->close();  // within close_flush, whatever the server does; before the policy's last flush counts its writes
  }
}

StorePolicySettings StoreCore::with_store_hooks(StorePolicySettings settings) {
  settings.on_write_failure = [this](std::string_view what, const Failure& failure) {
    report_write_failure(what, failure);
  };
  settings.more_accesses = [this](AccessVisitor add) { m_hot.take_accesses(add); };
  settings.on_remove = [this](std::string_view key) { m_hot.forget(key); };
  if (m_remote) {
    settings.more_counters = [remote = m_remote.get()](Batch& batch) {
      const RemoteStats unsaved = remote->take_unsaved();
      const std::uint64_t counts[] = {unsaved.hits,           unsaved.misses,   unsaved.writes,
                                      unsaved.dropped_writes, unsaved.rejected, unsaved.errors};
      for (std::size_t i = 0; i < std::size(k_all_remote_counters); ++i) {
        if (counts[i] != 0) {
          batch.add(remote_counter_key(k_all_remote_counters[i]), static_cast<std::int64_t>(counts[i]));
        }
      }
    };
  }
  return settings;
}

void StoreCore::report_write_failure(std::string_view what, const Failure& failure) {
  if (!m_write_failure_reported.exchange(true)) {
    warn("could not store {}: {}. Calls still return their results, uncached; later write failures on this "
         "store are not reported",
         what, failure.message);
  }
}

bool StoreCore::first_report_for(std::string_view key) {
  std::lock_guard lock(m_reported_mutex);
  return m_reported_keys.emplace(key).second;
}

void StoreCore::report_rejected(std::string_view function) {
  if (!m_rejected_reported.exchange(true)) {
    warn("ignored an entry of {} in {}: it has no valid signature for this store's secret (written without a "
         "secret, with another one, or planted); computing the result again. Every such entry is a miss, counted "
         "as rejected in the statistics; later ones are not reported",
         function, m_dir);
  }
}

Result<std::shared_ptr<StoreCore>> open_store_core(const fs::path& dir, DatabaseOptions options,
                                                   StorePolicySettings settings,
                                                   std::unique_ptr<const EntrySigner> signer,
                                                   std::optional<RemoteSettings> remote) {
  auto& r = registry();
  const fs::path identity = identity_of(dir);
  std::lock_guard lock(r.mutex);
  if (auto existing = r.open[identity].lock()) {
    if (existing->database()->read_only() && options.access == Access::read_write) {
      return Failure{ErrorCode::locked, fmt::format("cannot open {} for writing: this process already has it "
                                                    "open read-only. Open it in one mode per process",
                                                    dir)};
    }
    const EntrySigner* open_with = existing->signer();
    if ((open_with == nullptr) != (signer == nullptr) || (signer && !signer->same_secret(*open_with))) {
      return Failure{ErrorCode::config, fmt::format("cannot open {} with {}: this process already has it open "
                                                    "with {}. Use one secret per store and process",
                                                    dir, signer ? "a secret" : "no secret",
                                                    open_with ? "another secret" : "no secret")};
    }
    return existing;
  }
  // Expired records are dropped when RocksDB compacts them.
  options.entry_expired = [clock = settings.clock](std::string_view, std::string_view value) {
    const auto expires = peek_expires_ms(value);
    return expires && expired(*expires, unix_ms(clock->now()));
  };
  options.meta_expired = [clock = settings.clock](std::string_view key, std::string_view value) {
    if (key.empty() || key.back() != k_info_tag) {
      return false;  // access records go when a scan finds them alone
    }
    const auto meta = decode_meta(value);
    return meta && expired(meta->expires_ms, unix_ms(clock->now()));
  };
  auto database = Database::open(dir, options);
  if (!database) {
    return database.failure();
  }
  auto remote_tier = remote ? std::make_unique<RemoteTier>(std::move(*remote)) : nullptr;
  std::shared_ptr<StoreCore> core(new StoreCore(dir, std::move(database).value(), std::move(settings), std::move(signer),
                                                std::move(remote_tier)),
                                  [](StoreCore* closing) {
    std::lock_guard closing_lock(registry().mutex);
    delete closing;
  });
  r.open[identity] = core;
  return core;
}

}  // namespace memostore::detail
