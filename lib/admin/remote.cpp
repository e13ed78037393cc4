// The remote tier's administration: ping and clear (memostore remote ping,
// memostore clear --remote).
#include <memostore/admin.hpp>

#include <fmt/std.h>

#include "store/config.hpp"
#include "store/store_core.hpp"

namespace memostore {
namespace {

detail::RemoteTier& remote_of(const Store& store, std::string_view operation) {
  detail::RemoteTier* remote = detail::core_of(store)->remote();
  if (remote == nullptr) {
    throw Error(ErrorCode::usage,
                fmt::format("cannot {} the remote tier of {}: it has none. Set MEMOSTORE_REMOTE (e.g. "
                            "redis://cache.internal:6379/0) or StoreOptions::remote",
                            operation, store.dir()));
  }
  return *remote;
}

std::vector<RemotePing> pings_of(detail::RemoteTier& remote) {
  std::vector<RemotePing> pings;
  for (auto& ping : remote.ping()) {
    RemotePing out{ping.server};
    out.ok = ping.version.ok();
    if (out.ok) {
      out.version = ping.version.value();
    } else {
      out.error = ping.version.failure().message;
    }
    out.round_trip = ping.round_trip;
    pings.push_back(std::move(out));
  }
  return pings;
}

}  // namespace

std::vector<RemotePing> ping_remote(const Store& store) { return pings_of(remote_of(store, "ping")); }

std::vector<RemotePing> ping_remote(const StoreOptions& options) {
  StoreOptions resolved = options;
  resolved.mode = Mode::readonly;  // a remote tier is resolved in every mode but off
  detail::StoreConfig config = detail::resolve_config(resolved);
  if (!config.remote) {
    throw Error(ErrorCode::usage, "cannot ping the remote tier: none is configured. Set MEMOSTORE_REMOTE (e.g. "
                                  "redis://cache.internal:6379/0) or StoreOptions::remote");
  }
  detail::RemoteTier remote(std::move(*config.remote));
  return pings_of(remote);
}

std::uint64_t clear_remote(const Store& store) { return detail::value_or_throw(remote_of(store, "clear").clear()); }

}  // namespace memostore
