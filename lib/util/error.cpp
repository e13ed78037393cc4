#include <memostore/error.hpp>

namespace memostore {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::io: return "io";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::config: return "config";
    case ErrorCode::serialization: return "serialization";
    case ErrorCode::locked: return "locked";
    case ErrorCode::format: return "format";
    case ErrorCode::usage: return "usage";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}

}  // namespace memostore
