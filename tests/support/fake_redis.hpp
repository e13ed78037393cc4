// A fake Redis server for the remote tier's tests: a thread listening on a
// loopback TCP port that reads RESP commands and answers each as the test
// says, including what no real Redis does (a reply trickled a byte at a time,
// a header announcing 500 MB, a reply of the wrong type). Stopped, with every
// session, by its destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace memostore::test {

class FakeRedis {
 public:
  /// One client connection, as the responder sees it.
  class Session {
   public:
    Session(FakeRedis& server, int fd) : m_server(server), m_fd(fd) {}
    /// Sends `bytes`; false once the client has gone or the server stops.
    bool send(std::string_view bytes);
    /// Sends `bytes` one at a time, `every` apart.
    bool trickle(std::string_view bytes, std::chrono::milliseconds every);
    /// Sends `unit` `times` times, as fast as the client reads.
    bool repeat(std::string_view unit, std::uint64_t times);

   private:
    FakeRedis& m_server;
    int m_fd;
  };
  /// Answers `command` (its arguments; the name first) on `session`.
  using Responder = std::function<void(Session& session, const std::vector<std::string>& command)>;

  explicit FakeRedis(Responder responder);
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(m_port); }
  /// Bytes the server has handed to the kernel for its clients so far.
  std::uint64_t bytes_sent() const { return m_sent.load(); }
  /// The names of the commands received so far (e.g. "GET", "SET").
  std::vector<std::string> commands() const;

 private:
  void accept_clients();
  void serve(int fd);
  bool stopping() const { return m_stopping.load(); }

  Responder m_responder;
  int m_listener = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::uint64_t> m_sent{0};
  mutable std::mutex m_mutex;
  std::condition_variable m_stopped;
  std::vector<std::string> m_commands;  // guarded by m_mutex
  std::vector<int> m_clients;           // guarded by m_mutex
  std::vector<std::thread> m_sessions;  // guarded by m_mutex
  std::thread m_acceptor;
};

}  // namespace memostore::test
