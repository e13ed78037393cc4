#include "util/escape.hpp"

#include <cstdint>

namespace memostore::detail {

namespace {

/// The length of the valid UTF-8 sequence starting at `at`, or 0 if the byte
/// there does not start one (overlong forms and surrogates are invalid).
std::size_t utf8_length(std::string_view text, std::size_t at) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t lead = byte(at);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead < 0x80) {
    return 1;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(at + i) & 0x3f);
  }
  constexpr std::uint32_t k_smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool valid = code >= k_smallest[length] && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
  return valid ? length : 0;
}

bool is_control(std::uint8_t c) noexcept { return c < 0x20 || c == 0x7f; }

}  // namespace

std::string escaped(std::string_view text, Newlines newlines) {
  std::string out;
  out.reserve(text.size());
  constexpr char k_hex[] = "0123456789abcdef";
  for (std::size_t at = 0; at < text.size();) {
    const auto c = static_cast<std::uint8_t>(text[at]);
    const std::size_t length = utf8_length(text, at);
    const bool kept_newline = c == '\n' && newlines == Newlines::keep;
    if (length == 0 || (length == 1 && is_control(c) && !kept_newline)) {
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
      at += 1;
      continue;
    }
    out.append(text.substr(at, length));
    at += length;
  }
  return out;
}

bool valid_utf8(std::string_view text) noexcept {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      return false;
    }
    at += length;
  }
  return true;
}

}  // namespace memostore::detail
