// Showing text that came from a store or a server (function names, input
// paths, value previews, remote error text) on a terminal or in a log: a
// planted name must not retitle or clear the terminal, or forge a line.
#pragma once

#include <string>
#include <string_view>

namespace memostore::detail {

enum class Newlines { escape, keep };

/// `text` with every control character (below 0x20, and 0x7f) and every byte
/// that is not part of valid UTF-8 written as `\xHH`; valid UTF-8 (é, 日本)
/// is kept. `Newlines::keep` leaves '\n' alone, for messages whose lines are
/// made by memostore. Costs one pass; returns `text` unchanged when it has
/// nothing to escape.
std::string escaped(std::string_view text, Newlines newlines = Newlines::escape);

/// Whether `text` is valid UTF-8 (what JSON output needs).
bool valid_utf8(std::string_view text) noexcept;

}  // namespace memostore::detail
