// R1/R2: the cost of the remote tier (see remote.cpp).
#pragma once

#include <filesystem>
#include <string>

namespace bench {

/// Runs R1 (remote hits) and R2 (4 processes sharing one Redis) against the
/// Redis server at `redis`; `self` is this program, run again for R2's processes.
void remote_workloads(const std::filesystem::path& scratch, const std::string& redis, const std::string& self,
                      bool quick);

/// One R2 process: calls `keys` keys in an order given by `seed` and prints
/// how many it computed. `redis` empty: no remote tier.
int remote_child(const std::string& redis, const std::filesystem::path& dir, int keys, int seed);

}  // namespace bench
