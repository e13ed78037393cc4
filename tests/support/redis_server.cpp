#include "support/redis_server.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <unistd.h>

#include <doctest/doctest.h>

namespace memostore::test {
namespace {

/// redis-server from PATH (Debian installs it in /usr/bin).
std::string redis_server_program() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto end = std::min(dirs.find(':'), dirs.size());
    const std::filesystem::path candidate = std::filesystem::path(dirs.substr(0, end)) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    dirs.remove_prefix(std::min(end + 1, dirs.size()));
  }
  FAIL("redis-server is not installed: scripts/install-deps.sh installs it (Debian package redis-server)");
  return {};
}

}  // namespace

RedisServer::RedisServer(std::filesystem::path dir) : m_dir(std::move(dir)), m_socket(m_dir / "redis.sock") {
  std::filesystem::create_directories(m_dir);
  start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  REQUIRE_FALSE(m_process);
  m_process = std::make_unique<ChildProcess>(std::vector<std::string>{
      redis_server_program(), "--port", "0", "--unixsocket", m_socket.string(), "--save", "", "--appendonly", "no",
      "--logfile", (m_dir / "redis.log").string(), "--dir", m_dir.string()});
  // Waiting for another program to come up is not a timing assumption of a
  // test: it polls until the server answers (at most 10 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    detail::RedisConnection probe(detail::RemoteEndpoint{.socket_path = m_socket.string(), .display = url()}, {});
    if (auto pong = probe.command({"PING"}); pong) {
      return;
    }
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "redis-server did not start; see ", m_dir / "redis.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void RedisServer::stop() {
  m_process.reset();  // SIGKILL and wait
  std::error_code ignored;
  std::filesystem::remove(m_socket, ignored);
}

detail::RedisReply RedisServer::command(std::initializer_list<std::string_view> arguments) {
  detail::RedisConnection connection(detail::RemoteEndpoint{.socket_path = m_socket.string(), .display = url()}, {});
  auto reply = connection.command(arguments);
  REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? std::string() : reply.failure().message));
  return std::move(reply).value();
}

}  // namespace memostore::test
