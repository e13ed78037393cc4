// What the files that implement RemoteTier share: a server of the tier (its
// connection pool and backoff) and this process's name in leases. Internal
// to lib/remote.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <xxhash.h>

#include "remote/remote_tier.hpp"

namespace memostore::detail {

struct RemoteTier::Shard {
  explicit Shard(RemoteEndpoint server) : endpoint(std::move(server)), seed(XXH3_64bits(endpoint.display.data(), endpoint.display.size())) {}

  RemoteEndpoint endpoint;
  std::uint64_t seed;  // rendezvous hashing: the server's weight for a key is the key's hash with this seed
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<RedisConnection>> idle;  // guarded by pool_mutex
  std::atomic<std::int64_t> down_until_ms{0};          // 0: in use
  std::atomic<bool> outage_reported{false};
};

/// This process's name in leases: host:pid:random (a restarted process with
/// the same pid does not inherit a lease).
std::string lease_token();

}  // namespace memostore::detail
