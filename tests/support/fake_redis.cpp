#include "support/fake_redis.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>

namespace memostore::test {
namespace {

/// The first whole command in `buffer` (a RESP array of bulk strings), taken
/// out of it; none until it has all arrived.
std::optional<std::vector<std::string>> take_command(std::string& buffer) {
  std::size_t at = 0;
  const auto line = [&]() -> std::optional<std::string> {
    const auto end = buffer.find("\r\n", at);
    if (end == std::string::npos) {
      return std::nullopt;
    }
    std::string text = buffer.substr(at, end - at);
    at = end + 2;
    return text;
  };
  const auto header = line();
  if (!header || header->size() < 2 || header->front() != '*') {
    return std::nullopt;
  }
  std::vector<std::string> command;
  for (long count = std::stol(header->substr(1)); count > 0; --count) {
    const auto length = line();
    if (!length || length->size() < 2) {
      return std::nullopt;
    }
    const std::size_t size = std::stoul(length->substr(1));
    if (buffer.size() < at + size + 2) {
      return std::nullopt;
    }
    command.push_back(buffer.substr(at, size));
    at += size + 2;
  }
  buffer.erase(0, at);
  return command;
}

}  // namespace

bool FakeRedis::Session::send(std::string_view bytes) {
  while (!bytes.empty() && !m_server.stopping()) {
    const ssize_t sent = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) {
      continue;
    }
    if (sent <= 0) {
      return false;  // the client closed the connection (or the server is stopping)
    }
    m_server.m_sent += static_cast<std::uint64_t>(sent);
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return bytes.empty();
}

bool FakeRedis::Session::trickle(std::string_view bytes, std::chrono::milliseconds every) {
  for (const char c : bytes) {
    if (!send(std::string_view(&c, 1))) {
      return false;
    }
    // The server's pace, not a test's sleep: it ends at once when the server stops.
    std::unique_lock lock(m_server.m_mutex);
    if (m_server.m_stopped.wait_for(lock, every, [this] { return m_server.stopping(); })) {
      return false;
    }
  }
  return true;
}

bool FakeRedis::Session::repeat(std::string_view unit, std::uint64_t times) {
  std::string chunk;
  const std::uint64_t per_chunk = std::max<std::uint64_t>(1, (64 * 1024) / unit.size());
  for (std::uint64_t i = 0; i < per_chunk; ++i) {
    chunk.append(unit);
  }
  while (times > 0) {
    const std::uint64_t now = std::min(times, per_chunk);
    if (!send(std::string_view(chunk).substr(0, now * unit.size()))) {
      return false;
    }
    times -= now;
  }
  return true;
}

FakeRedis::FakeRedis(Responder responder) : m_responder(std::move(responder)) {
  m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (m_listener < 0 || ::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listener, 16) != 0 ||
      ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("FakeRedis: cannot listen on a loopback port");
  }
  m_port = ntohs(address.sin_port);
  m_acceptor = std::thread([this] { accept_clients(); });
}

FakeRedis::~FakeRedis() {
  std::vector<std::thread> sessions;
  {
    std::lock_guard lock(m_mutex);  // under it, so that no trickle misses the wake-up
    m_stopping = true;
    for (const int fd : m_clients) {
      ::shutdown(fd, SHUT_RDWR);  // wakes a session blocked in recv or send
    }
    sessions = std::move(m_sessions);
  }
  m_stopped.notify_all();
  ::shutdown(m_listener, SHUT_RDWR);  // wakes accept (Linux)
  m_acceptor.join();
  for (std::thread& session : sessions) {
    session.join();
  }
  std::lock_guard lock(m_mutex);
  for (std::thread& session : m_sessions) {  // started while we stopped
    session.join();
  }
  for (const int fd : m_clients) {
    ::close(fd);
  }
  ::close(m_listener);
}

std::vector<std::string> FakeRedis::commands() const {
  std::lock_guard lock(m_mutex);
  return m_commands;
}

void FakeRedis::accept_clients() {
  while (!stopping()) {
    const int fd = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;  // EINTR, or shut down: the loop ends when stopping
    }
    std::lock_guard lock(m_mutex);
    m_clients.push_back(fd);
    if (stopping()) {
      ::shutdown(fd, SHUT_RDWR);
    } else {
      m_sessions.emplace_back([this, fd] { serve(fd); });
    }
  }
}

void FakeRedis::serve(int fd) {
  Session session(*this, fd);
  std::string buffer;
  char chunk[4096];
  while (!stopping()) {
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) {
        continue;
      }
      return;
    }
    buffer.append(chunk, static_cast<std::size_t>(got));
    while (auto command = take_command(buffer)) {
      {
        std::lock_guard lock(m_mutex);
        m_commands.push_back(command->empty() ? std::string() : command->front());
      }
      m_responder(session, *command);
    }
  }
}

}  // namespace memostore::test
