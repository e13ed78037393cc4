#include "util/log.hpp"

#include "util/escape.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

namespace memostore {
namespace {

struct HandlerSlot {
  std::mutex mutex;
  std::shared_ptr<const LogHandler> handler  // guarded by mutex
      = std::make_shared<const LogHandler>(&log_to_stderr);
  std::atomic<bool> enabled{true};
};

HandlerSlot& slot() {
  static HandlerSlot instance;
  return instance;
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

void log_to_stderr(LogLevel level, std::string_view message) {
  if (level == LogLevel::debug) {
    return;
  }
  // One fprintf call, so lines from several threads do not interleave.
  std::fprintf(stderr, "memostore: %s: %.*s\n", to_string(level).data(), static_cast<int>(message.size()),
               message.data());
}

LogHandler set_log_handler(LogHandler handler) {
  auto& s = slot();
  const bool enabled = static_cast<bool>(handler);
  auto next = std::make_shared<const LogHandler>(std::move(handler));
  std::lock_guard lock(s.mutex);
  LogHandler previous = *s.handler;
  s.handler = std::move(next);
  s.enabled.store(enabled, std::memory_order_relaxed);
  return previous;
}

namespace detail {

bool logging_enabled() noexcept { return slot().enabled.load(std::memory_order_relaxed); }

void log_message(LogLevel level, std::string_view message) {
  std::shared_ptr<const LogHandler> handler;
  {
    std::lock_guard lock(slot().mutex);
    handler = slot().handler;
  }
  if (*handler) {
    // Messages name functions, paths and server replies, which may come from
    // a planted store or a hostile server: no raw control bytes reach a terminal.
    (*handler)(level, escaped(message));  // outside the lock: the handler may log or replace itself
  }
}

}  // namespace detail
}  // namespace memostore
