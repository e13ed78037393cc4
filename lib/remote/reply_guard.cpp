#include "remote/reply_guard.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace memostore::detail {
namespace {

/// The count of a `$` or `*` header: -1 or more, at most 18 digits; none if malformed.
std::optional<std::int64_t> header_count(std::string_view digits) {
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) {
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

}  // namespace

ReplyLimits reply_limits_for(std::uint64_t max_value_bytes) {
  ReplyLimits limits;
  limits.max_bulk = max_value_bytes;
  limits.max_bytes = max_value_bytes + (std::uint64_t{1} << 20);  // room for a SCAN page of keys
  return limits;
}

bool ReplyGuard::refuse(std::string reason) {
  m_refusal = std::move(reason);
  return false;
}

bool ReplyGuard::element_done() {
  while (!m_pending.empty()) {
    if (--m_pending.back() > 0) {
      return true;
    }
    m_pending.pop_back();  // that array is complete too
  }
  m_complete = true;
  return true;
}

bool ReplyGuard::header(std::string_view line) {
  if (line.empty()) {
    return refuse("an empty line where a reply was expected");
  }
  if (++m_elements > m_limits.max_elements) {
    return refuse(fmt::format("more than {} elements", m_limits.max_elements));
  }
  const bool top = m_pending.empty();
  const auto allowed = [&](ReplyKind kind) { return !top || m_expected.contains(kind); };
  const char type = line.front();
  line.remove_prefix(1);
  switch (type) {
    case '-':
      return element_done();  // Redis's own error, always accepted
    case '+':
      return allowed(ReplyKind::status) ? element_done() : refuse("a status reply, which this command never gets");
    case ':':
      return allowed(ReplyKind::integer) ? element_done() : refuse("an integer reply, which this command never gets");
    case '$':
    case '*':
      break;
    default:
      return refuse(fmt::format("a reply of unknown type (byte {:#04x}): not the Redis protocol",
                                static_cast<unsigned char>(type)));
  }
  const auto count = header_count(line);
  if (!count || *count < -1) {
    return refuse("a malformed length: not the Redis protocol");
  }
  if (*count == -1) {
    return allowed(ReplyKind::nil) ? element_done() : refuse("a nil reply, which this command never gets");
  }
  const auto n = static_cast<std::uint64_t>(*count);
  if (type == '$') {
    if (!allowed(ReplyKind::string)) {
      return refuse("a string reply, which this command never gets");
    }
    if (n > m_limits.max_bulk || m_bytes + n + 2 > m_limits.max_bytes) {
      return refuse(fmt::format("a value of {} bytes, more than max_value_bytes ({})", n, m_limits.max_bulk));
    }
    m_skip = n + 2;
    return true;
  }
  if (!allowed(ReplyKind::array)) {
    return refuse("an array reply, which this command never gets");
  }
  if (n > m_limits.max_elements - m_elements) {
    return refuse(fmt::format("an array of {} elements, more than {}", n, m_limits.max_elements));
  }
  if (n == 0) {
    return element_done();
  }
  if (m_pending.size() >= m_limits.max_depth) {
    return refuse(fmt::format("arrays nested more than {} deep", m_limits.max_depth));
  }
  m_pending.push_back(n);
  return true;
}

ReplyGuard::Scan ReplyGuard::scan(std::string_view bytes) {
  std::size_t at = 0;
  while (at < bytes.size() && !m_complete) {
    if (m_skip > 0) {  // a bulk string's bytes: hiredis keeps them, already bounded by its header
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(m_skip, bytes.size() - at));
      m_skip -= take;
      m_bytes += take;
      at += take;
      if (m_skip == 0) {
        element_done();
      }
      continue;
    }
    const char* end = static_cast<const char*>(std::memchr(bytes.data() + at, '\n', bytes.size() - at));
    const std::size_t line_end = end == nullptr ? bytes.size() : static_cast<std::size_t>(end - bytes.data());
    if (m_line.size() + (line_end - at) > m_limits.max_line) {
      refuse(fmt::format("a line longer than {} bytes", m_limits.max_line));
      return {State::refused, at};
    }
    m_line.append(bytes.data() + at, line_end - at);
    if (end == nullptr) {
      at = bytes.size();
      break;
    }
    at = line_end + 1;
    if (m_line.empty() || m_line.back() != '\r') {
      refuse("a line not ended by \\r\\n: not the Redis protocol");
      return {State::refused, at};
    }
    m_line.pop_back();
    m_bytes += m_line.size() + 2;
    if (m_bytes > m_limits.max_bytes) {  // many lines, each within max_line
      refuse(fmt::format("a reply of more than {} bytes", m_limits.max_bytes));
      return {State::refused, at};
    }
    const bool accepted = header(m_line);
    m_line.clear();
    if (!accepted) {
      return {State::refused, at};
    }
  }
  return {m_complete ? State::complete : State::more, at};
}

}  // namespace memostore::detail
