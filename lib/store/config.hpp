// A store's configuration, resolved once: StoreOptions with every
// environment override applied. Precedence (README "Environment variables"):
// a MEMOSTORE_* variable that is set and non-empty overrides its StoreOptions
// field, which overrides the field's default. Every variable is read here and
// nowhere else, and a bad value fails through one path (Error config, naming
// the variable, the value and the valid forms).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <memostore/store.hpp>

#include "codec/entry_signer.hpp"
#include "policy/store_policy.hpp"
#include "remote/remote_tier.hpp"
#include "storage/database.hpp"

namespace memostore::detail {

/// What a store is opened with.
struct StoreConfig {
  std::filesystem::path dir;
  Mode mode = Mode::readwrite;  // after MEMOSTORE_MODE
  DatabaseOptions database;
  StorePolicySettings policy;
  std::unique_ptr<const EntrySigner> signer;  // for the secret in effect; null without one
  std::optional<RemoteSettings> remote;       // none without a URL
  std::vector<std::filesystem::path> fallback;  // read-only lower tiers, in order (after MEMOSTORE_FALLBACK)
};

/// Resolves `options` and the environment. In Mode::off only `dir` and
/// `mode` are resolved: an off store uses nothing else, and a bad value of
/// another variable must not stop a program that switched its cache off.
/// Throws `Error` (config) for a bad variable or field.
StoreConfig resolve_config(const StoreOptions& options);

}  // namespace memostore::detail
