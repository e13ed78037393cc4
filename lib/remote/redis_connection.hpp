// One connection to one Redis server: hiredis connects and formats commands
// and parses replies, but the socket is read and written here, with poll()
// and one deadline per command, so that a whole command (not each read) is
// bounded in time, and each reply is checked (ReplyGuard) before hiredis
// allocates anything for it. Connects on first use (AUTH and SELECT as the
// endpoint says) and again after any failure. Not thread-safe: one user at a
// time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remote/remote_url.hpp"
#include "remote/reply_guard.hpp"
#include "util/result.hpp"

struct redisContext;

namespace memostore::detail {

struct RemoteTimeouts {
  std::chrono::milliseconds connect{100};  // the TCP (or Unix socket) connection
  std::chrono::milliseconds command{500};  // AUTH, SELECT, then sending a command and receiving its whole reply
};

/// A Redis reply, copied out of hiredis.
struct RedisReply {
  using Kind = ReplyKind;
  Kind kind = Kind::nil;
  std::string text;  // string and status replies
  long long integer = 0;
  std::vector<RedisReply> elements;  // array replies
};

/// The code of a failure that is a refused reply (too large, of a kind the
/// command never gets, not the Redis protocol), as opposed to `io` (refused
/// connection, timeout, Redis's own error reply).
inline constexpr ErrorCode k_reply_refused = ErrorCode::format;

/// A moment (steady_clock, in its ticks since its epoch) after which every
/// command in flight stops waiting: set by a closing tier.
using Cutoff = std::atomic<std::int64_t>;
inline constexpr std::int64_t k_no_cutoff = std::numeric_limits<std::int64_t>::max();

class RedisConnection {
 public:
  /// `cutoff`, when given, must outlive the connection.
  RedisConnection(RemoteEndpoint endpoint, RemoteTimeouts timeouts, ReplyLimits limits = {},
                  const Cutoff* cutoff = nullptr);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Runs one command; waits at most the connect timeout (on a new
  /// connection) plus the command timeout. A failure names the server
  /// (never the password) and the cause: refused, timed out, Redis's own
  /// error reply, or a reply refused (k_reply_refused) because it is larger
  /// than the limits or not one of the `expected` kinds; after a failure the
  /// connection is dropped (it may be out of step with the server).
  Result<RedisReply> command(std::initializer_list<std::string_view> arguments,
                             ReplyKinds expected = ReplyKinds::any());

  const RemoteEndpoint& endpoint() const noexcept { return m_endpoint; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  Result<void> connect(Deadline command_deadline);
  Result<RedisReply> exchange(std::initializer_list<std::string_view> arguments, ReplyKinds expected,
                              Deadline deadline);
  Result<void> send_all(std::string_view bytes, Deadline deadline);
  Result<RedisReply> receive(ReplyKinds expected, Deadline deadline);
  Result<void> wait_for(short events, Deadline deadline, std::string_view doing);
  void disconnect() noexcept;
  Failure failure(std::string_view what, ErrorCode code = ErrorCode::io) const;

  RemoteEndpoint m_endpoint;
  RemoteTimeouts m_timeouts;
  ReplyLimits m_limits;
  const Cutoff* m_cutoff;
  redisContext* m_context = nullptr;
  std::vector<char> m_buffer;  // what receive() reads into
  bool m_in_step = false;  // the last exchange read a whole reply: the connection can be used again
};

}  // namespace memostore::detail
