// Bytes as lowercase hexadecimal, for people and JSON.
#pragma once

#include <string>
#include <string_view>

namespace memostore::detail {

inline std::string to_hex(std::string_view bytes) {
  constexpr char k_digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(k_digits[byte >> 4]);
    hex.push_back(k_digits[byte & 0x0f]);
  }
  return hex;
}

}  // namespace memostore::detail
