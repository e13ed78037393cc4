#include "support/stores.hpp"

#include <utility>

namespace memostore::test {

Store open_store(const std::filesystem::path& dir, StoreOptions options) {
  options.dir = dir;
  return Store::open(std::move(options));
}

Store open_with_remote(const std::filesystem::path& dir, const std::string& remote, RemoteOptions options,
                       std::shared_ptr<const Clock> clock, std::string secret) {
  return open_store(dir, {.secret = std::move(secret),
                          .remote = remote,
                          .remote_options = std::move(options),
                          .clock = std::move(clock)});
}

}  // namespace memostore::test
