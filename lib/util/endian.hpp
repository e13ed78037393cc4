// Fixed-width integers in a fixed byte order, for the on-disk formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memostore::detail {

inline void put_u64le(char* out, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(v >> (8 * i));
  }
}

inline void put_u32le(char* out, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>(v >> (8 * i));
  }
}

inline std::uint64_t get_u64le(const char* in) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

inline std::uint32_t get_u32le(const char* in) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

/// Big-endian, so that keys sort by the number.
inline void append_u32be(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    out.push_back(static_cast<char>(v >> (8 * i)));
  }
}

inline void append_u64be(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>(v >> (8 * i)));
  }
}

inline std::uint64_t get_u64be(const char* in) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

inline std::uint32_t get_u32be(const char* in) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

}  // namespace memostore::detail
