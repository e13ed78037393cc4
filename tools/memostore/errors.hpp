// How the tool reports what went wrong: one line on stderr starting with
// `memostore:`, or with --json a JSON object on stdout ({"error", "code"});
// and, for a command line CLI11 refused, what the user meant to type.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace memostore::cli {

/// Prints `message` as the tool's error (see above) and returns `code`, the
/// exit code, which the JSON object repeats.
int report_error(bool json, int code, const std::string& message);

/// Whether `--json` is among the arguments (before a `--`): an error found
/// while parsing must keep the shape the caller asked for.
bool json_requested(int argc, const char* const* argv);

/// The command line's trouble in words, when it is about the command itself:
/// a word that names no command ("unknown command 'stast'; did you mean
/// 'stats'?") or no command at all. Empty when the commands are fine.
std::optional<std::string> command_trouble(const CLI::App& app, int argc, const char* const* argv);

/// The command `argv` names, as far as it names known ones ("remote ping"),
/// or "" for none: for the "--help" hint after an argument error.
std::string command_path(const CLI::App& app, int argc, const char* const* argv);

/// The one of `names` nearest to `word` by edit distance (a swap of two
/// neighbours counts one), if it is near enough to be a typo of it.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& names);

}  // namespace memostore::cli
