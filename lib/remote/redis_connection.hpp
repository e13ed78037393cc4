// One connection to one Redis server through hiredis, with connect and
// command timeouts. Connects on first use (AUTH and SELECT as the endpoint
// says) and again after any failure. Not thread-safe: one user at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remote/remote_url.hpp"
#include "util/result.hpp"

struct redisContext;

namespace memostore::detail {

struct RemoteTimeouts {
  std::chrono::milliseconds connect{100};
  std::chrono::milliseconds command{500};
};

/// A Redis reply, copied out of hiredis.
struct RedisReply {
  enum class Kind { nil, string, integer, status, array };
  Kind kind = Kind::nil;
  std::string text;  // string and status replies
  long long integer = 0;
  std::vector<RedisReply> elements;  // array replies
};

class RedisConnection {
 public:
  RedisConnection(RemoteEndpoint endpoint, RemoteTimeouts timeouts);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Runs one command; an io failure names the server (never the password)
  /// and the cause: refused, timed out, or Redis's own error reply.
  Result<RedisReply> command(std::initializer_list<std::string_view> arguments);

  const RemoteEndpoint& endpoint() const noexcept { return m_endpoint; }

 private:
  Result<void> connect();
  void disconnect() noexcept;
  Failure failure(std::string_view what) const;

  RemoteEndpoint m_endpoint;
  RemoteTimeouts m_timeouts;
  redisContext* m_context = nullptr;
};

}  // namespace memostore::detail
