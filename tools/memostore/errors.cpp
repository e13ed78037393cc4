#include "errors.hpp"

#include <algorithm>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "output.hpp"
#include "util/escape.hpp"

namespace memostore::cli {

namespace {

/// How far the arguments name commands: the apps from the tool down, and
/// the first word that should have named one and does not.
struct CommandWalk {
  std::vector<const CLI::App*> path;
  std::string unknown;
};

std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> names_of(const std::vector<const CLI::App*>& apps) {
  std::vector<std::string> names;
  for (const CLI::App* app : apps) {
    names.push_back(app->get_name());
  }
  return names;
}

/// Whether `arg` (an option, without "=value") takes the next argument as
/// its value, for any command on the path (options fall through to the tool).
bool takes_value(const std::vector<const CLI::App*>& path, std::string_view arg) {
  for (const CLI::App* app : path) {
    if (const CLI::Option* option = app->get_option_no_throw(std::string(arg))) {
      return option->get_items_expected_min() > 0;
    }
  }
  return false;
}

CommandWalk walk_commands(const CLI::App& app, int argc, const char* const* argv) {
  CommandWalk walk{{&app}, {}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if (arg.size() > 1 && arg.front() == '-') {
      if (arg.find('=') == std::string_view::npos && takes_value(walk.path, arg)) {
        ++i;
      }
      continue;
    }
    const auto subcommands = subcommands_of(*walk.path.back());
    if (subcommands.empty()) {
      break;  // the command's own arguments
    }
    const auto found = std::find_if(subcommands.begin(), subcommands.end(),
                                    [&](const CLI::App* sub) { return sub->get_name() == arg; });
    if (found == subcommands.end()) {
      walk.unknown = arg;
      break;
    }
    walk.path.push_back(*found);
  }
  return walk;
}

/// "remote ping": the command words from below the tool.
std::string words(const std::vector<const CLI::App*>& path) {
  std::string text;
  for (std::size_t i = 1; i < path.size(); ++i) {
    text += (text.empty() ? "" : " ") + path[i]->get_name();
  }
  return text;
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of neighbours ("stast" is one from "stats").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

int report_error(bool json, int code, const std::string& message) {
  if (json) {
    print_json(Json{{"error", message}, {"code", code}});
  } else {
    // Messages may quote stored names or a server's error text: escaped, but
    // for the line breaks memostore's own messages make.
    fmt::print(stderr, "memostore: {}\n", detail::escaped(message, detail::Newlines::keep));
  }
  return code;
}

bool json_requested(int argc, const char* const* argv) {
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    if (std::string_view(argv[i]) == "--json") {
      return true;
    }
  }
  return false;
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& names) {
  // Near enough to be a typo: one edit in a short word, at most two.
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 2, 1, 2);
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  for (const std::string& name : names) {
    const std::size_t distance = edit_distance(word, name);
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<std::string> command_trouble(const CLI::App& app, int argc, const char* const* argv) {
  const CommandWalk walk = walk_commands(app, argc, argv);
  const std::vector<std::string> names = names_of(subcommands_of(*walk.path.back()));
  if (names.empty()) {
    return std::nullopt;
  }
  const std::string above = words(walk.path);
  const std::string prefix = above.empty() ? "" : above + " ";
  const std::string listed = fmt::format("{}", fmt::join(names, ", "));
  const std::string help = fmt::format("`memostore {}--help` describes them", prefix);
  if (walk.unknown.empty()) {
    return above.empty() ? fmt::format("no command given; the commands are {} ({})", listed, help)
                         : fmt::format("`{}` needs a command: {} ({})", above, listed, help);
  }
  if (const auto suggestion = closest(walk.unknown, names)) {
    return fmt::format("unknown command '{}{}'; did you mean '{}{}'?", prefix, walk.unknown, prefix, *suggestion);
  }
  return fmt::format("unknown command '{}{}'; the commands are {} ({})", prefix, walk.unknown, listed, help);
}

std::string command_path(const CLI::App& app, int argc, const char* const* argv) {
  return words(walk_commands(app, argc, argv).path);
}

}  // namespace memostore::cli
