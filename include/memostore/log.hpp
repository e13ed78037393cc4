// Where memostore's warnings go. memostore prints nothing on the happy path;
// storage trouble (a damaged entry, a failed write) produces one warning.
// The handler is process-wide and may be replaced from any thread.
#pragma once

#include <functional>
#include <string_view>

namespace memostore {

enum class LogLevel { debug, info, warning, error };

/// The name of `level`, e.g. "warning".
std::string_view to_string(LogLevel level) noexcept;

/// Receives one message (no trailing newline). Called from whichever thread
/// hit the problem, never with a memostore lock held.
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

/// Replaces the process-wide handler and returns the previous one. An empty
/// handler discards every message. Thread-safe.
///
/// **Example**
/// ```cpp
/// memostore::set_log_handler([](memostore::LogLevel, std::string_view m) { my_log(m); });
/// ```
LogHandler set_log_handler(LogHandler handler);

/// The handler installed at start-up: writes "memostore: warning: <message>"
/// as one line to stderr. Debug messages are dropped.
void log_to_stderr(LogLevel level, std::string_view message);

}  // namespace memostore
