#include <memostore/store.hpp>

#include <charconv>
#include <cstdlib>

#include <fmt/std.h>

#include "codec/meta.hpp"
#include "store/mode_rules.hpp"
#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore {
namespace {

template <class Enum>
struct Named {
  Enum value;
  std::string_view name;
};

constexpr Named<Mode> k_mode_names[] = {
    {Mode::readwrite, "readwrite"}, {Mode::readonly, "readonly"}, {Mode::refresh, "refresh"}, {Mode::off, "off"},
    {Mode::check, "check"}};
constexpr Named<RemoteMode> k_remote_mode_names[] = {{RemoteMode::readwrite, "readwrite"},
                                                     {RemoteMode::readonly, "readonly"}};
constexpr Named<FileCheck> k_file_check_names[] = {{FileCheck::stat, "stat"}, {FileCheck::content, "content"}};

/// The value `text` names among `names`; else a configuration error naming
/// `what` was parsed and listing the valid `kinds` ("valid modes are a, b and c").
template <class Enum, std::size_t N>
Enum parse_named(std::string_view text, const Named<Enum> (&names)[N], std::string_view what, std::string_view kinds) {
  std::string valid;
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i].name) {
      return names[i].value;
    }
    valid += fmt::format("{}{}", i == 0 ? "" : i + 1 == N ? " and " : ", ", names[i].name);
  }
  throw Error(ErrorCode::config, fmt::format("unknown {} \"{}\": valid {} are {}", what, text, kinds, valid));
}

/// A fraction between 0 and 1 ("0.01") from `variable`; else a config error naming it.
double parse_check_rate(std::string_view text, std::string_view variable) {
  double rate = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (error != std::errc() || end != text.data() + text.size() || !(rate >= 0 && rate <= 1)) {
    throw Error(ErrorCode::config,
                fmt::format("{}: \"{}\" is not a fraction between 0 and 1 (e.g. 0.01 checks one hit in 100)",
                            variable, text));
  }
  return rate;
}

const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

/// The mode after the MEMOSTORE_MODE override.
Mode effective_mode(Mode configured) {
  const char* text = environment("MEMOSTORE_MODE");
  if (text == nullptr) {
    return configured;
  }
  try {
    return parse_mode(text);
  } catch (const Error& e) {
    throw Error(ErrorCode::config, fmt::format("MEMOSTORE_MODE: {}", e.what()));
  }
}

/// The policy settings after the environment: MEMOSTORE_MAX_SIZE overrides
/// max_bytes; MEMOSTORE_EXPLAIN and MEMOSTORE_STATS switch on with "1".
detail::StorePolicySettings policy_settings(const StoreOptions& options, Mode mode) {
  detail::StorePolicySettings settings;
  settings.max_bytes = options.max_bytes;
  if (const char* text = environment("MEMOSTORE_MAX_SIZE")) {
    try {
      settings.max_bytes = parse_size(text);
    } catch (const Error& e) {
      throw Error(ErrorCode::config, fmt::format("MEMOSTORE_MAX_SIZE: {}", e.what()));
    }
  }
  settings.default_ttl = options.default_ttl;
  settings.clock = options.clock ? options.clock : system_clock();
  settings.writable = detail::writes_results(mode);
  const auto switched_on = [](const char* name) {
    const char* value = environment(name);
    return value != nullptr && std::string_view(value) != "0";
  };
  settings.explain = switched_on("MEMOSTORE_EXPLAIN");
  settings.exit_summary = switched_on("MEMOSTORE_STATS");
  FileCheck file_check = options.file_check;
  if (const char* text = environment("MEMOSTORE_FILE_CHECK")) {
    try {
      file_check = parse_file_check(text);
    } catch (const Error& e) {
      throw Error(ErrorCode::config, fmt::format("MEMOSTORE_FILE_CHECK: {}", e.what()));
    }
  }
  settings.always_hash_inputs = file_check == FileCheck::content;
  settings.check_rate = options.check_rate;
  if (const char* text = environment("MEMOSTORE_CHECK_RATE")) {
    settings.check_rate = parse_check_rate(text, "MEMOSTORE_CHECK_RATE");
  }
  if (!(settings.check_rate >= 0 && settings.check_rate <= 1)) {
    throw Error(ErrorCode::config, fmt::format("StoreOptions::check_rate is {}; it must be between 0 and 1 (e.g. 0.01)",
                                               settings.check_rate));
  }
  settings.hot_cache_bytes = options.hot_cache_bytes;
  if (const char* text = environment("MEMOSTORE_HOT_CACHE")) {
    try {
      settings.hot_cache_bytes = parse_size(text);
    } catch (const Error& e) {
      throw Error(ErrorCode::config, fmt::format("MEMOSTORE_HOT_CACHE: {}", e.what()));
    }
  }
  return settings;
}

/// The remote tier for `options` after the environment (MEMOSTORE_REMOTE,
/// MEMOSTORE_REMOTE_MODE, MEMOSTORE_REMOTE_PASSWORD, MEMOSTORE_REMOTE_TTL);
/// none without a URL.
std::optional<detail::RemoteSettings> remote_settings(const StoreOptions& options,
                                                      std::shared_ptr<const Clock> clock) {
  const char* urls = environment("MEMOSTORE_REMOTE");
  auto endpoints = detail::value_or_throw(detail::parse_remote_urls(urls != nullptr ? urls : options.remote));
  if (endpoints.empty()) {
    return std::nullopt;
  }
  const RemoteOptions& remote = options.remote_options;
  detail::RemoteSettings settings;
  const auto overridden = [](const char* name, auto parse, auto value) {
    if (const char* text = environment(name)) {
      try {
        return parse(text);
      } catch (const Error& e) {
        throw Error(ErrorCode::config, fmt::format("{}: {}", name, e.what()));
      }
    }
    return value;
  };
  settings.read_only = overridden("MEMOSTORE_REMOTE_MODE", &parse_remote_mode, remote.mode) == RemoteMode::readonly;
  settings.default_ttl = overridden("MEMOSTORE_REMOTE_TTL", &parse_duration, remote.ttl);
  const char* password = environment("MEMOSTORE_REMOTE_PASSWORD");
  for (detail::RemoteEndpoint& endpoint : endpoints) {
    if (endpoint.password.empty()) {
      endpoint.password = password != nullptr ? password : remote.password;
    }
  }
  settings.endpoints = std::move(endpoints);
  settings.prefix = remote.prefix;
  settings.timeouts = detail::RemoteTimeouts{remote.connect_timeout, remote.command_timeout};
  settings.max_value_bytes = remote.max_value_bytes;
  settings.backoff = remote.backoff;
  settings.clock = std::move(clock);
  return settings;
}

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

/// The signer for the secret in effect (MEMOSTORE_SECRET overrides the
/// field); null without one.
std::unique_ptr<const detail::EntrySigner> signer_for(const StoreOptions& options) {
  const char* from_environment = environment("MEMOSTORE_SECRET");
  const std::string_view secret = from_environment != nullptr ? from_environment : std::string_view(options.secret);
  if (secret.empty()) {
    return nullptr;
  }
  return detail::value_or_throw(detail::EntrySigner::create(secret));
}

}  // namespace

std::string_view to_string(Mode mode) noexcept {
  for (const auto& [value, name] : k_mode_names) {
    if (value == mode) {
      return name;
    }
  }
  return "unknown";
}

Mode parse_mode(std::string_view text) { return parse_named(text, k_mode_names, "mode", "modes"); }

RemoteMode parse_remote_mode(std::string_view text) {
  return parse_named(text, k_remote_mode_names, "remote mode", "modes");
}

FileCheck parse_file_check(std::string_view text) {
  return parse_named(text, k_file_check_names, "file check", "values");
}

Store::Store(std::shared_ptr<detail::StoreCore> core, Mode mode) : m_core(std::move(core)), m_mode(mode) {}

Store Store::open(const std::filesystem::path& dir) {
  StoreOptions options;
  options.dir = dir;
  return open(std::move(options));
}

Store Store::open(StoreOptions options) {
  const Mode mode = effective_mode(options.mode);
  if (mode == Mode::off) {
    return Store(std::make_shared<detail::StoreCore>(options.dir, nullptr, nullptr, false), mode);
  }
  detail::DatabaseOptions database;
  database.access = mode == Mode::readonly ? detail::Access::read_only : detail::Access::read_write;
  database.block_cache_bytes = options.block_cache_bytes;
  database.blob_cache_bytes = options.blob_cache_bytes;
  database.directory_permissions = options.directory_permissions;
  detail::StorePolicySettings settings = policy_settings(options, mode);
  auto remote = remote_settings(options, settings.clock);
  return Store(detail::value_or_throw(detail::open_store_core(options.dir, database, std::move(settings),
                                                               signer_for(options), std::move(remote))),
               mode);
}

const std::filesystem::path& Store::dir() const noexcept { return m_core->dir(); }

void Store::clear() {
  if (m_mode == Mode::readonly || m_mode == Mode::off) {
    return;
  }
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
  const detail::CleanupRequest collect{.collect_garbage = true};
  if (tiers == nullptr || m_mode == Mode::readonly) {
    return tiers != nullptr ? detail::value_or_throw(tiers->gc(collect)) : CleanupReport{};
  }
  CleanupReport report = detail::value_or_throw(tiers->gc(collect));
  report.stale_file_records = detail::value_or_throw(m_core->fingerprints().forget_stale());
  return report;
}

Store Store::open_default() {
  StoreOptions options;
  if (const char* dir = environment("MEMOSTORE_DIR")) {
    options.dir = dir;
  }
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
