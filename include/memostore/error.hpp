// memostore::Error: the one exception type memostore throws at its API boundary.
// Exceptions thrown by a memoized function pass through memostore unchanged.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace memostore {

/// What kind of failure an `Error` reports. New values may be added.
enum class ErrorCode {
  io,             ///< the file system refused (missing, unwritable or full directory)
  corruption,     ///< the store's files are damaged
  config,         ///< an invalid option, name or environment variable
  serialization,  ///< a value could not be encoded or decoded
  locked,         ///< another process holds the cache directory
  format,         ///< the directory is not a memostore store, or a newer format
  usage,          ///< a call the API does not allow, e.g. a singleton factory returned null
};

/// The name of `code`, e.g. "io".
std::string_view to_string(ErrorCode code) noexcept;

/// Thrown by memostore. `what()` names the thing (path, function, key), the
/// cause, and what to do about it.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);

  ErrorCode code() const noexcept { return m_code; }

 private:
  ErrorCode m_code;
};

}  // namespace memostore
