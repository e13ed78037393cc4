#include "store/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "store/mode_rules.hpp"

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

/// A fraction between 0 and 1 ("0.01"); else a config error.
double parse_fraction(std::string_view text) {
  double rate = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (error != std::errc() || end != text.data() + text.size() || !(rate >= 0 && rate <= 1)) {
    throw Error(ErrorCode::config,
                fmt::format("\"{}\" is not a fraction between 0 and 1 (e.g. 0.01 checks one hit in 100)", text));
  }
  return rate;
}

/// The value of the environment variable `name`; null when unset or empty.
const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

/// `parse` of the variable `name`, none when it is unset or empty. The one
/// error path of the environment: the parsers' messages name the value
/// (unless it holds a password) and the valid forms; this adds the variable.
template <class Parse>
auto from_environment(const char* name, Parse parse) -> std::optional<decltype(parse(std::string_view()))> {
  const char* text = environment(name);
  if (text == nullptr) {
    return std::nullopt;
  }
  try {
    return parse(std::string_view(text));
  } catch (const Error& e) {
    throw Error(ErrorCode::config, fmt::format("{}: {}", name, e.what()));
  }
}

std::string_view as_text(std::string_view text) { return text; }

/// `:`-separated directories (MEMOSTORE_FALLBACK); an empty one between
/// separators is an error (a doubled `:` is a typo, not "this directory").
std::vector<std::filesystem::path> parse_directory_list(std::string_view text) {
  std::vector<std::filesystem::path> dirs;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(text.find(':', start), text.size());
    if (end == start) {
      throw Error(ErrorCode::config,
                  fmt::format("\"{}\" has an empty directory at character {}: give directories separated by "
                              "single ':' (e.g. .memostore-main:/shared/cache)",
                              text, start + 1));
    }
    dirs.emplace_back(text.substr(start, end - start));
    if (end == text.size()) {
      return dirs;
    }
    start = end + 1;
  }
}

/// True when `name` is set to anything but "0" (MEMOSTORE_EXPLAIN, MEMOSTORE_STATS).
bool switched_on(const char* name) { return from_environment(name, as_text).value_or("0") != "0"; }

}  // namespace

// --- Named settings (public, store.hpp) ---

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

std::filesystem::path default_store_dir() {
  if (const auto dir = from_environment("MEMOSTORE_DIR", as_text)) {
    return *dir;
  }
  return StoreOptions{}.dir;
}

namespace detail {
namespace {

StorePolicySettings policy_settings(const StoreOptions& options, Mode mode) {
  StorePolicySettings settings;
  settings.max_bytes = from_environment("MEMOSTORE_MAX_SIZE", &parse_size).value_or(options.max_bytes);
  settings.default_ttl = options.default_ttl;
  settings.clock = options.clock ? options.clock : system_clock();
  settings.writable = writes_results(mode);
  settings.explain = switched_on("MEMOSTORE_EXPLAIN");
  settings.exit_summary = switched_on("MEMOSTORE_STATS");
  settings.always_hash_inputs =
      from_environment("MEMOSTORE_FILE_CHECK", &parse_file_check).value_or(options.file_check) == FileCheck::content;
  settings.check_rate = from_environment("MEMOSTORE_CHECK_RATE", &parse_fraction).value_or(options.check_rate);
  if (!(settings.check_rate >= 0 && settings.check_rate <= 1)) {  // the field's: the variable's was checked
    throw Error(ErrorCode::config, fmt::format("StoreOptions::check_rate is {}; it must be between 0 and 1 (e.g. 0.01)",
                                               settings.check_rate));
  }
  settings.hot_cache_bytes = from_environment("MEMOSTORE_HOT_CACHE", &parse_size).value_or(options.hot_cache_bytes);
  settings.refresh_threads = options.refresh_threads;
  return settings;
}

std::optional<RemoteSettings> remote_settings(const StoreOptions& options, std::shared_ptr<const Clock> clock) {
  const auto parse_urls = [](std::string_view urls) { return value_or_throw(parse_remote_urls(urls)); };
  auto endpoints = from_environment("MEMOSTORE_REMOTE", parse_urls);
  if (!endpoints) {
    endpoints = parse_urls(options.remote);
  }
  if (endpoints->empty()) {
    return std::nullopt;
  }
  const RemoteOptions& remote = options.remote_options;
  RemoteSettings settings;
  settings.read_only =
      from_environment("MEMOSTORE_REMOTE_MODE", &parse_remote_mode).value_or(remote.mode) == RemoteMode::readonly;
  settings.default_ttl = from_environment("MEMOSTORE_REMOTE_TTL", &parse_duration).value_or(remote.ttl);
  const std::string_view password =
      from_environment("MEMOSTORE_REMOTE_PASSWORD", as_text).value_or(std::string_view(remote.password));
  for (RemoteEndpoint& endpoint : *endpoints) {
    if (endpoint.password.empty()) {
      endpoint.password = password;
    }
  }
  settings.endpoints = std::move(*endpoints);
  settings.prefix = remote.prefix;
  settings.timeouts = RemoteTimeouts{remote.connect_timeout, remote.command_timeout};
  settings.max_value_bytes = remote.max_value_bytes;
  settings.backoff = remote.backoff;
  settings.clock = std::move(clock);
  return settings;
}

std::unique_ptr<const EntrySigner> signer_for(const StoreOptions& options) {
  const std::string_view secret =
      from_environment("MEMOSTORE_SECRET", as_text).value_or(std::string_view(options.secret));
  return secret.empty() ? nullptr : value_or_throw(EntrySigner::create(secret));
}

}  // namespace

StoreConfig resolve_config(const StoreOptions& options) {
  StoreConfig config;
  config.dir = options.dir;
  config.mode = from_environment("MEMOSTORE_MODE", &parse_mode).value_or(options.mode);
  if (config.mode == Mode::off) {
    return config;
  }
  config.database.access = config.mode == Mode::readonly ? Access::read_only : Access::read_write;
  config.database.block_cache_bytes = options.block_cache_bytes;
  config.database.blob_cache_bytes = options.blob_cache_bytes;
  config.database.directory_permissions = options.directory_permissions;
  config.policy = policy_settings(options, config.mode);
  config.remote = remote_settings(options, config.policy.clock);
  config.signer = signer_for(options);
  config.fallback = from_environment("MEMOSTORE_FALLBACK", &parse_directory_list).value_or(options.fallback);
  return config;
}

}  // namespace detail
}  // namespace memostore
