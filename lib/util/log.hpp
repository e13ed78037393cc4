// Internal logging: formats only when a handler is installed and the level is
// not filtered, so a disabled log costs one atomic load.
#pragma once

#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <memostore/log.hpp>

namespace memostore::detail {

/// False when the installed handler is empty (everything would be discarded).
bool logging_enabled() noexcept;

/// Sends an already formatted message to the installed handler.
void log_message(LogLevel level, std::string_view message);

template <class... T>
void log(LogLevel level, fmt::format_string<T...> format, T&&... args) {
  if (logging_enabled()) {
    log_message(level, fmt::format(format, std::forward<T>(args)...));
  }
}

template <class... T>
void warn(fmt::format_string<T...> format, T&&... args) {
  log(LogLevel::warning, format, std::forward<T>(args)...);
}

}  // namespace memostore::detail
