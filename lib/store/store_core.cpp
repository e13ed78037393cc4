#include "store/store_core.hpp"

#include <map>
#include <mutex>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/meta.hpp"
#include "policy/expiry.hpp"
#include "tiers/fallbacks.hpp"
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

StoreCore::StoreCore(fs::path dir, std::unique_ptr<Tiers> tiers, std::shared_ptr<const Clock> clock,
                     bool always_hash_inputs, unsigned refresh_threads)
    : m_dir(std::move(dir)),
      m_tiers(std::move(tiers)),
      m_fingerprints(database(), signer(), clock ? std::move(clock) : system_clock(), always_hash_inputs),
      m_refreshes(m_tiers && m_tiers->writable() ? refresh_threads : 0) {}

Result<std::shared_ptr<StoreCore>> open_store_core(const fs::path& dir, DatabaseOptions options,
                                                   StorePolicySettings settings,
                                                   std::unique_ptr<const EntrySigner> signer,
                                                   std::optional<RemoteSettings> remote,
                                                   const std::vector<fs::path>& fallback) {
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
  const auto clock = settings.clock;
  const bool always_hash_inputs = settings.always_hash_inputs;
  const unsigned refresh_threads = settings.refresh_threads;
  auto fallbacks = open_fallbacks(fallback, dir, options.directory_permissions);
  auto tiers = std::make_unique<Tiers>(std::move(database).value(), std::move(settings), std::move(signer),
                                       std::move(remote_tier), std::move(fallbacks));
  std::shared_ptr<StoreCore> core(new StoreCore(dir, std::move(tiers), clock, always_hash_inputs, refresh_threads),
                                  [](StoreCore* closing) {
    std::lock_guard closing_lock(registry().mutex);
    delete closing;
  });
  r.open[identity] = core;
  return core;
}

}  // namespace memostore::detail
