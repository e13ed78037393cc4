#include "remote/redis_connection.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>

#include <hiredis/hiredis.h>

#include <fmt/format.h>

namespace memostore::detail {
namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  return timeval{static_cast<time_t>(duration.count() / 1000), static_cast<suseconds_t>(duration.count() % 1000 * 1000)};
}

/// Blocks SIGPIPE in this thread while it lives, and discards one raised
/// meanwhile: hiredis writes with write(2), and a write to a server that has
/// gone would otherwise kill the process. (A library must not change the
/// process's signal handling, so it is blocked per thread and per command.)
class SigpipeBlocked {
 public:
  SigpipeBlocked() noexcept {
    sigemptyset(&m_pipe);
    sigaddset(&m_pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &m_pipe, &m_previous);
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    sigpending(&pending);
    if (!m_was_pending && sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{0, 0};
      while (sigtimedwait(&m_pipe, nullptr, &now) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t m_pipe;
  sigset_t m_previous;
  bool m_was_pending = false;
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

RedisReply copy_reply(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.kind = RedisReply::Kind::string;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.kind = RedisReply::Kind::status;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = RedisReply::Kind::integer;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = RedisReply::Kind::array;
      for (std::size_t i = 0; i < reply.elements; ++i) {
        out.elements.push_back(copy_reply(*reply.element[i]));
      }
      break;
    default:
      break;  // nil
  }
  return out;
}

}  // namespace

RedisConnection::RedisConnection(RemoteEndpoint endpoint, RemoteTimeouts timeouts)
    : m_endpoint(std::move(endpoint)), m_timeouts(timeouts) {}

RedisConnection::~RedisConnection() { disconnect(); }

Failure RedisConnection::failure(std::string_view what) const {
  return Failure{ErrorCode::io, fmt::format("Redis at {}: {}", m_endpoint.display, what)};
}

void RedisConnection::disconnect() noexcept {
  if (m_context != nullptr) {
    redisFree(m_context);
    m_context = nullptr;
  }
}

Result<void> RedisConnection::connect() {
  const timeval connect_timeout = to_timeval(m_timeouts.connect);
  m_context = m_endpoint.socket_path.empty()
                  ? redisConnectWithTimeout(m_endpoint.host.c_str(), m_endpoint.port, connect_timeout)
                  : redisConnectUnixWithTimeout(m_endpoint.socket_path.c_str(), connect_timeout);
  if (m_context == nullptr) {
    return failure("cannot allocate a connection");
  }
  if (m_context->err != 0) {
    Failure failed = failure(fmt::format("cannot connect ({})", m_context->errstr));
    disconnect();
    return failed;
  }
  if (redisSetTimeout(m_context, to_timeval(m_timeouts.command)) != REDIS_OK) {
    disconnect();
    return failure("cannot set the command timeout");
  }
  auto run_setup = [&](std::initializer_list<std::string_view> arguments, std::string_view doing) -> Result<void> {
    auto reply = command(arguments);
    if (!reply) {
      return failure(fmt::format("{} failed: {}", doing, reply.failure().message));
    }
    return {};
  };
  if (!m_endpoint.password.empty()) {
    auto authenticated = m_endpoint.user.empty() ? run_setup({"AUTH", m_endpoint.password}, "AUTH")
                                                 : run_setup({"AUTH", m_endpoint.user, m_endpoint.password}, "AUTH");
    if (!authenticated) {
      disconnect();
      return authenticated;
    }
  }
  if (m_endpoint.db != 0) {
    if (auto selected = run_setup({"SELECT", std::to_string(m_endpoint.db)}, "SELECT"); !selected) {
      disconnect();
      return selected;
    }
  }
  return {};
}

Result<RedisReply> RedisConnection::command(std::initializer_list<std::string_view> arguments) {
  const SigpipeBlocked blocked;
  if (m_context == nullptr) {
    if (auto connected = connect(); !connected) {
      return connected.failure();
    }
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (std::string_view argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(
      redisCommandArgv(m_context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) {
    Failure failed = failure(m_context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                                 ? std::string("the command timed out")
                                 : fmt::format("the connection failed ({})", m_context->errstr));
    disconnect();  // hiredis contexts are unusable after an error
    return failed;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return failure(std::string(reply->str, reply->len));
  }
  return copy_reply(*reply);
}

}  // namespace memostore::detail
