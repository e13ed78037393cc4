// Sizes and durations as people write and read them.
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include <memostore/error.hpp>
#include <memostore/policy.hpp>

namespace memostore {
namespace {

/// Reads a non-negative decimal number ("12", "1.5") from the front of `text`.
bool take_number(std::string_view& text, double& value) {
  std::size_t length = 0;
  while (length < text.size() && (std::isdigit(static_cast<unsigned char>(text[length])) || text[length] == '.')) {
    ++length;
  }
  if (length == 0) {
    return false;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + length, value);
  if (error != std::errc() || end != text.data() + length) {
    return false;
  }
  text.remove_prefix(length);
  return true;
}

double size_multiplier(std::string_view suffix) {
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) {
    suffix.remove_suffix(1);
  }
  if (suffix.empty()) {
    return 1;
  }
  const bool binary = suffix.size() == 2 && (suffix[1] == 'i' || suffix[1] == 'I');
  if (suffix.size() != 1 && !binary) {
    return 0;
  }
  const double base = binary ? 1024 : 1000;
  switch (suffix[0]) {
    case 'k': case 'K': return base;
    case 'm': case 'M': return base * base;
    case 'g': case 'G': return base * base * base;
    case 't': case 'T': return base * base * base * base;
    default: return 0;
  }
}

std::int64_t unit_milliseconds(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 3600 * 1000;
  if (unit == "d") return 24 * 3600 * 1000;
  if (unit == "w") return 7 * 24 * 3600 * 1000;
  return 0;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  std::string_view rest = text;
  double number = 0;
  const bool parsed = take_number(rest, number);
  const double multiplier = parsed ? size_multiplier(rest) : 0;
  const double bytes = number * multiplier;
  if (!parsed || multiplier == 0 || !std::isfinite(bytes) || bytes >= 1.8e19) {
    throw Error(ErrorCode::config, fmt::format("invalid size \"{}\": write a number of bytes with an optional "
                                               "suffix, e.g. 500M, 2G, 1.5GiB (k/M/G/T are powers of 1000, "
                                               "Ki/Mi/Gi/Ti powers of 1024)",
                                               text));
  }
  return static_cast<std::uint64_t>(bytes);
}

Duration parse_duration(std::string_view text) {
  std::string_view rest = text;
  double total_ms = 0;
  bool valid = !rest.empty();
  while (valid && !rest.empty()) {
    double number = 0;
    valid = take_number(rest, number);
    std::size_t unit_length = 0;
    while (unit_length < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unit_length]))) {
      ++unit_length;
    }
    const std::int64_t unit = unit_milliseconds(rest.substr(0, unit_length));
    valid = valid && unit != 0;
    rest.remove_prefix(unit_length);
    total_ms += number * static_cast<double>(unit);
  }
  if (!valid || total_ms >= 9.2e18) {
    throw Error(ErrorCode::config, fmt::format("invalid duration \"{}\": write numbers with units ms, s, m, h, d "
                                               "or w, e.g. 90s, 7d, 3h12m",
                                               text));
  }
  return Duration(static_cast<Duration::rep>(total_ms));
}

std::string format_size(std::uint64_t bytes) {
  if (bytes < 1024) {
    return fmt::format("{} B", bytes);
  }
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_duration(std::chrono::nanoseconds duration) {
  using namespace std::chrono;
  if (duration < seconds(1)) {
    return duration < milliseconds(1) && duration > nanoseconds(0) ? "<1ms"
                                                                      : fmt::format("{}ms", duration_cast<milliseconds>(duration).count());
  }
  const auto total = duration_cast<seconds>(duration).count();
  const auto days = total / 86400;
  const auto hours = total % 86400 / 3600;
  const auto minutes = total % 3600 / 60;
  const auto secs = total % 60;
  if (days > 0) {
    return hours > 0 ? fmt::format("{}d{}h", days, hours) : fmt::format("{}d", days);
  }
  if (hours > 0) {
    return minutes > 0 ? fmt::format("{}h{}m", hours, minutes) : fmt::format("{}h", hours);
  }
  if (minutes > 0) {
    return secs > 0 ? fmt::format("{}m{}s", minutes, secs) : fmt::format("{}m", minutes);
  }
  return fmt::format("{}s", secs);
}

}  // namespace memostore
