#include "remote/redis_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <hiredis/hiredis.h>

#include <fmt/format.h>

namespace memostore::detail {
namespace {

using Clock = std::chrono::steady_clock;

/// While a tier may cut commands short, poll() waits at most this long at a
/// time, so that a cut is noticed within it.
constexpr std::chrono::milliseconds k_cutoff_check{20};

/// Bytes read from the socket at a time (a 10 MB value in 160 reads).
constexpr std::size_t k_read_size = 64 * 1024;

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
struct CommandDeleter {
  void operator()(char* command) const { redisFreeCommand(command); }
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
      out.elements.reserve(reply.elements);
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

RedisConnection::RedisConnection(RemoteEndpoint endpoint, RemoteTimeouts timeouts, ReplyLimits limits,
                                 const Cutoff* cutoff)
    : m_endpoint(std::move(endpoint)), m_timeouts(timeouts), m_limits(limits), m_cutoff(cutoff) {}

RedisConnection::~RedisConnection() { disconnect(); }

Failure RedisConnection::failure(std::string_view what, ErrorCode code) const {
  return Failure{code, fmt::format("Redis at {}: {}", m_endpoint.display, what)};
}

void RedisConnection::disconnect() noexcept {
  if (m_context != nullptr) {
    redisFree(m_context);
    m_context = nullptr;
  }
}

Result<void> RedisConnection::wait_for(short events, Deadline deadline, std::string_view doing) {
  for (;;) {
    const Clock::time_point now = Clock::now();
    Clock::time_point limit = deadline;
    bool cut = false;
    if (m_cutoff != nullptr) {
      const Clock::time_point cutoff{Clock::duration(m_cutoff->load(std::memory_order_acquire))};
      cut = cutoff < limit;
      limit = std::min(limit, cutoff);
    }
    if (now >= limit) {
      return failure(cut ? fmt::format("{} was cut short: the store is closing", doing)
                         : fmt::format("{} timed out", doing));
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(limit - now);
    if (m_cutoff != nullptr) {
      wait = std::min<std::chrono::milliseconds>(wait, k_cutoff_check);
    }
    pollfd ready{m_context->fd, events, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(wait.count()));
    if (polled > 0) {
      return {};  // readable, writable, or an error the next call reports
    }
    if (polled < 0 && errno != EINTR) {
      return failure(fmt::format("{} failed (poll: {})", doing, std::strerror(errno)));
    }
  }
}

Result<void> RedisConnection::connect(Deadline command_deadline) {
  // Non-blocking, so that the connection is bounded by our deadline (and a
  // closing tier's cutoff) like everything else.
  m_context = m_endpoint.socket_path.empty() ? redisConnectNonBlock(m_endpoint.host.c_str(), m_endpoint.port)
                                             : redisConnectUnixNonBlock(m_endpoint.socket_path.c_str());
  if (m_context == nullptr) {
    return failure("cannot allocate a connection");
  }
  if (m_context->err != 0) {
    Failure failed = failure(fmt::format("cannot connect ({})", m_context->errstr));
    disconnect();
    return failed;
  }
  auto ready = wait_for(POLLOUT, Clock::now() + m_timeouts.connect, "connecting");
  int error = 0;
  socklen_t length = sizeof error;
  if (ready && ::getsockopt(m_context->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno;
  }
  if (!ready || error != 0) {
    Failure failed = ready ? failure(fmt::format("cannot connect ({})", std::strerror(error)))
                           : failure(fmt::format("cannot connect ({})", ready.failure().message));
    disconnect();
    return failed;
  }
  auto run_setup = [&](std::initializer_list<std::string_view> arguments, std::string_view doing) -> Result<void> {
    auto reply = exchange(arguments, {ReplyKind::status}, command_deadline);
    if (!reply) {
      return failure(fmt::format("{} failed: {}", doing, reply.failure().message), reply.failure().code);
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

Result<RedisReply> RedisConnection::command(std::initializer_list<std::string_view> arguments,
                                            ReplyKinds expected) {
  // One deadline for everything: on a new connection, the connect timeout
  // (which bounds the connection itself) plus the command timeout for AUTH,
  // SELECT and the command.
  Deadline deadline = Clock::now() + m_timeouts.command;
  if (m_context == nullptr) {
    deadline += m_timeouts.connect;
    if (auto connected = connect(deadline); !connected) {
      return connected.failure();
    }
  }
  auto reply = exchange(arguments, expected, deadline);
  if (!reply && !m_in_step) {
    disconnect();  // whatever the server sends next would be taken for the next command's reply
  }
  return reply;
}

Result<RedisReply> RedisConnection::exchange(std::initializer_list<std::string_view> arguments,
                                             ReplyKinds expected, Deadline deadline) {
  m_in_step = false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (std::string_view argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* formatted = nullptr;
  const int size = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lengths.data());
  const std::unique_ptr<char, CommandDeleter> owned(formatted);
  if (size < 0) {
    return failure("cannot format a command (out of memory)");
  }
  if (auto sent = send_all(std::string_view(formatted, static_cast<std::size_t>(size)), deadline); !sent) {
    return sent.failure();
  }
  return receive(expected, deadline);
}

Result<void> RedisConnection::send_all(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    if (auto ready = wait_for(POLLOUT, deadline, "the command"); !ready) {
      return ready;
    }
    // MSG_NOSIGNAL: a server that has gone must not kill the process with SIGPIPE.
    const ssize_t sent = ::send(m_context->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return failure(fmt::format("the connection failed ({})", std::strerror(errno)));
    }
    bytes.remove_prefix(sent > 0 ? static_cast<std::size_t>(sent) : 0);
  }
  return {};
}

Result<RedisReply> RedisConnection::receive(ReplyKinds expected, Deadline deadline) {
  ReplyGuard guard(m_limits, expected);
  m_buffer.resize(k_read_size);
  char* const buffer = m_buffer.data();
  for (;;) {
    if (auto ready = wait_for(POLLIN, deadline, "the command"); !ready) {
      return ready.failure();
    }
    const ssize_t got = ::recv(m_context->fd, buffer, m_buffer.size(), MSG_DONTWAIT);
    if (got == 0) {
      return failure("the connection failed (the server closed it)");
    }
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        continue;
      }
      return failure(fmt::format("the connection failed ({})", std::strerror(errno)));
    }
    const auto scan = guard.scan(std::string_view(buffer, static_cast<std::size_t>(got)));
    if (scan.state == ReplyGuard::State::refused) {
      return failure(fmt::format("refused a reply: {}", guard.refusal()), k_reply_refused);
    }
    if (scan.used != static_cast<std::size_t>(got)) {  // we send one command at a time: nothing else may come
      return failure("refused a reply: more bytes than one reply, unasked for", k_reply_refused);
    }
    if (redisReaderFeed(m_context->reader, buffer, scan.used) != REDIS_OK) {
      return failure("cannot read a reply (out of memory)");
    }
    if (scan.state == ReplyGuard::State::complete) {
      break;
    }
  }
  void* parsed = nullptr;
  if (redisReaderGetReply(m_context->reader, &parsed) != REDIS_OK || parsed == nullptr) {
    return failure(fmt::format("refused a reply: {}", m_context->reader->err != 0 ? m_context->reader->errstr
                                                                                   : "incomplete after its end"),
                   k_reply_refused);
  }
  const std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(parsed));
  m_in_step = true;
  if (reply->type == REDIS_REPLY_ERROR) {
    return failure(std::string(reply->str, reply->len));
  }
  return copy_reply(*reply);
}

}  // namespace memostore::detail
