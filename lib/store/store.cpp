#include <memostore/store.hpp>

#include <cstdlib>

#include <fmt/std.h>

#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore {
namespace {

constexpr Mode k_all_modes[] = {Mode::readwrite, Mode::readonly, Mode::refresh, Mode::off};

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


}  // namespace

std::string_view to_string(Mode mode) noexcept {
  switch (mode) {
    case Mode::readwrite: return "readwrite";
    case Mode::readonly: return "readonly";
    case Mode::refresh: return "refresh";
    case Mode::off: return "off";
  }
  return "unknown";
}

Mode parse_mode(std::string_view text) {
  for (Mode mode : k_all_modes) {
    if (text == to_string(mode)) {
      return mode;
    }
  }
  throw Error(ErrorCode::config,
              fmt::format("unknown mode \"{}\": valid modes are readwrite, readonly, refresh and off", text));
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
    return Store(std::make_shared<detail::StoreCore>(options.dir, nullptr), mode);
  }
  detail::DatabaseOptions database;
  database.access = mode == Mode::readonly ? detail::Access::read_only : detail::Access::read_write;
  database.block_cache_bytes = options.block_cache_bytes;
  database.blob_cache_bytes = options.blob_cache_bytes;
  return Store(detail::value_or_throw(detail::open_store_core(options.dir, database)), mode);
}

const std::filesystem::path& Store::dir() const noexcept { return m_core->dir(); }

void Store::clear() {
  if (m_mode == Mode::readonly || m_mode == Mode::off) {
    return;
  }
  detail::value_or_throw(m_core->database()->remove_all());
}

void Store::flush() {
  if (auto* database = m_core->database()) {
    detail::value_or_throw(database->sync());
  }
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
    return Store(std::make_shared<detail::StoreCore>(options.dir, nullptr), Mode::off);
  }
}

Store& default_store() {
  // Constructed after RocksDB's own statics (it opens a database), so it is
  // destroyed, and the database flushed and closed, before they are.
  static Store store = Store::open_default();
  return store;
}

}  // namespace memostore
