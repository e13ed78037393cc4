#include "output.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace memostore::cli {

std::string Table::render() const {
  std::vector<std::size_t> widths;
  for (const Column& column : m_columns) {
    widths.push_back(column.title.size());
  }
  for (const auto& row : m_rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < m_columns.size(); ++i) {
      const std::string& cell = i < cells.size() ? cells[i] : std::string();
      const bool last = i + 1 == m_columns.size();
      if (m_columns[i].align == Align::right) {
        text += fmt::format("{:>{}}", cell, widths[i]);
      } else {
        text += last ? cell : fmt::format("{:<{}}", cell, widths[i]);
      }
      if (!last) {
        text += "  ";
      }
    }
    out += text + "\n";
  };
  std::vector<std::string> titles;
  for (const Column& column : m_columns) {
    titles.push_back(column.title);
  }
  line(titles);
  for (const auto& row : m_rows) {
    line(row);
  }
  return out;
}

std::string relative_time(TimePoint when, TimePoint now) {
  const auto delta = now - when;
  if (delta < std::chrono::seconds(1) && delta > -std::chrono::seconds(1)) {
    return "just now";
  }
  return delta > decltype(delta)::zero() ? format_duration(delta) + " ago" : "in " + format_duration(-delta);
}

std::string expiry_text(const std::optional<TimePoint>& expires, TimePoint now) {
  if (!expires) {
    return "never";
  }
  return *expires <= now ? "expired" : "in " + format_duration(*expires - now);
}

std::string refresh_text(const std::optional<std::chrono::milliseconds>& refresh_after, TimePoint created,
                         TimePoint now) {
  if (!refresh_after) {
    return "-";
  }
  const TimePoint due = created + *refresh_after;
  return due <= now ? "due" : "in " + format_duration(due - now);
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<std::size_t>(i), ",");
  }
  return digits;
}

std::string count(std::uint64_t n, std::string_view singular, std::string_view plural) {
  return fmt::format("{} {}", with_thousands(n), n == 1 ? singular : plural);
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? "-" : fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::int64_t unix_ms(TimePoint when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

Json unix_ms_or_null(const std::optional<TimePoint>& when) { return when ? Json(unix_ms(*when)) : Json(nullptr); }

Json to_json(const EntrySummary& entry) {
  Json inputs = Json::array();
  for (const EntryInput& input : entry.inputs) {
    inputs.push_back(Json{{"kind", input.directory ? "directory" : "file"},
                          {"path", input.path},
                          {"pattern", input.pattern},
                          {"hash", input.hash}});
  }
  return Json{{"function", entry.function},
              {"version", entry.version},
              {"key", entry.short_key()},
              {"hash", entry.hash},
              {"size", entry.size},
              {"created_ms", unix_ms(entry.created)},
              {"expires_ms", unix_ms_or_null(entry.expires)},
              {"last_used_ms", unix_ms(entry.last_used)},
              {"hits", entry.hits},
              {"refresh_after_ms", entry.refresh_after ? Json(entry.refresh_after->count()) : Json(nullptr)},
              {"inputs", inputs}};
}

Json to_json(const Problem& problem) {
  return Json{{"function", problem.function}, {"hash", problem.hash}, {"what", problem.what}};
}

Json to_json(const CleanupReport& report) {
  return Json{{"expired", {{"entries", report.expired_entries}, {"bytes", report.expired_bytes}}},
              {"superseded", {{"entries", report.superseded_entries}, {"bytes", report.superseded_bytes}}},
              {"unused", {{"entries", report.unused_entries}, {"bytes", report.unused_bytes}}},
              {"evicted", {{"entries", report.evicted_entries}, {"bytes", report.evicted_bytes}}},
              {"changed_inputs", {{"entries", report.changed_input_entries}, {"bytes", report.changed_input_bytes}}},
              {"removed", {{"entries", report.entries()}, {"bytes", report.bytes()}}},
              {"stale_file_records", report.stale_file_records}};
}

Json to_json(const TransferReport& report) {
  Json rejected = Json::array();
  for (const Problem& problem : report.rejected) {
    rejected.push_back(to_json(problem));
  }
  return Json{{"entries", report.entries}, {"bytes", report.bytes}, {"kept", report.kept}, {"rejected", rejected}};
}

void print_json(const Json& json) { fmt::print("{}\n", json.dump(2, ' ', false, Json::error_handler_t::replace)); }

}  // namespace memostore::cli
