// What the tool prints: aligned tables and human-readable times for people,
// JSON for scripts (docs/cli.md documents the shapes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <memostore/admin.hpp>
#include <nlohmann/json.hpp>

#include "util/escape.hpp"

namespace memostore::cli {

using Json = nlohmann::ordered_json;

/// Text from a store or a server (function names, input paths, problems,
/// remote errors), safe to print: control characters and invalid UTF-8 as
/// `\xHH`, so a planted name cannot drive the terminal or forge a row.
inline std::string shown(std::string_view text) { return detail::escaped(text); }

/// Columns aligned by the widest cell; numbers are right-aligned.
class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string title;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}
  /// Requires: one cell per column.
  void add_row(std::vector<std::string> cells) { m_rows.push_back(std::move(cells)); }
  bool empty() const noexcept { return m_rows.empty(); }
  /// The table, one line per row under a header line.
  std::string render() const;

 private:
  std::vector<Column> m_columns;
  std::vector<std::vector<std::string>> m_rows;
};

/// "3h12m ago", "in 2d", "just now".
std::string relative_time(TimePoint when, TimePoint now);
/// "never", "expired", "in 3h12m".
std::string expiry_text(const std::optional<TimePoint>& expires, TimePoint now);

/// When an entry created at `created` is refreshed in the background: "-"
/// (no refresh_after), "due" (its next hit starts one) or "in 5m".
std::string refresh_text(const std::optional<std::chrono::milliseconds>& refresh_after, TimePoint created,
                         TimePoint now);
/// "1,234,567".
std::string with_thousands(std::uint64_t n);
/// "1 entry", "2 entries", "1,234 entries": `n` with the noun that agrees.
std::string count(std::uint64_t n, std::string_view singular, std::string_view plural);
/// "73.1%"; "-" when there were no calls.
std::string percent(std::uint64_t part, std::uint64_t whole);

std::int64_t unix_ms(TimePoint when);
/// Unix milliseconds, or null.
Json unix_ms_or_null(const std::optional<TimePoint>& when);

Json to_json(const EntrySummary& entry);
Json to_json(const Problem& problem);
Json to_json(const CleanupReport& report);
Json to_json(const TransferReport& report);

/// Prints `json` indented, with a newline: exact JSON, control characters
/// escaped by JSON's rules; invalid UTF-8 (a planted name) becomes U+FFFD.
void print_json(const Json& json);

}  // namespace memostore::cli
