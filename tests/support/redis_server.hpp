// A real redis-server for the remote tier's tests: started on a Unix socket in
// a test's temporary directory with persistence off, stopped by PID.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "remote/redis_connection.hpp"
#include "support/test_support.hpp"

namespace memostore::test {

class RedisServer {
 public:
  /// Starts a server with its socket and log in `dir`; returns once it answers.
  explicit RedisServer(std::filesystem::path dir);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// The URL memostore connects with.
  std::string url() const { return "redis+unix://" + m_socket.string(); }

  /// Kills the server (SIGKILL: what a crash or a network loss looks like).
  void stop();
  /// Starts it again, empty; returns once it answers.
  void start();

  /// Runs a command directly (to look at or tamper with what memostore stored).
  detail::RedisReply command(std::initializer_list<std::string_view> arguments);

 private:
  std::filesystem::path m_dir;
  std::filesystem::path m_socket;
  std::unique_ptr<ChildProcess> m_process;
};

}  // namespace memostore::test
