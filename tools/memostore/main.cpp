// memostore: inspect and maintain cache directories from the command line.
// Arguments are parsed here; every command is a function in commands.hpp
// over the public admin API. Exit codes (docs/cli.md): 0 ok, 1 problems
// found, 2 usage error, 3 store unavailable.
#include <cstdlib>
#include <exception>
#include <functional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <memostore/error.hpp>
#include <memostore/store.hpp>

#include "commands.hpp"
#include "errors.hpp"

namespace cli = memostore::cli;

namespace {

/// A command line CLI11 refused: help goes out as CLI11 prints it; an error
/// in the tool's own words and shape (docs/cli.md), exit code 2.
int parse_failed(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
    return app.exit(e) == 0 ? cli::k_ok : cli::k_usage;  // --help
  }
  const bool json = cli::json_requested(argc, argv);
  if (auto trouble = cli::command_trouble(app, argc, argv)) {
    return cli::report_error(json, cli::k_usage, *trouble);
  }
  const std::string command = cli::command_path(app, argc, argv);
  return cli::report_error(json, cli::k_usage,
                           fmt::format("{}{} (`memostore {}--help` lists the options)", command.empty() ? "" : command + ": ",
                                       e.what(), command.empty() ? "" : command + " "));
}

}  // namespace

int main(int argc, char** argv) {
  // Each command chooses how it opens the store (readonly to read); an
  // inherited MEMOSTORE_MODE must not turn `clear` into a no-op.
  ::unsetenv("MEMOSTORE_MODE");

  CLI::App app("Inspect, clean, check and move memostore cache directories.", "memostore");
  app.fallthrough();  // --dir and --json may come before or after the command
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 problems found, 2 usage error, 3 store unavailable. See docs/cli.md.");
  cli::Context context;
  context.dir = memostore::default_store_dir();
  app.add_option("--dir", context.dir, "The cache directory (default: $MEMOSTORE_DIR, else .memostore)");
  app.add_flag("--json", context.json, "Print JSON for scripts (shapes in docs/cli.md)");

  std::function<int()> run;

  bool zero = false;
  std::string stats_format = "table";
  auto* stats = app.add_subcommand("stats", "Totals and one row per function: entries, size, hits, time saved");
  stats->add_flag("-z,--zero", zero, "Reset the counters (hits, misses, time saved) to zero");
  stats->add_option("--format", stats_format,
                    "table (or JSON with --json); openmetrics or prometheus: the counters for a metrics system "
                    "(prometheus for node_exporter's textfile collector)")
      ->check(CLI::IsMember({"table", "openmetrics", "prometheus"}));
  stats->callback([&] {
    const cli::StatsFormat format = stats_format == "openmetrics"  ? cli::StatsFormat::openmetrics
                                    : stats_format == "prometheus" ? cli::StatsFormat::prometheus
                                                                   : cli::StatsFormat::table;
    if (format != cli::StatsFormat::table && (context.json || zero)) {
      throw CLI::ValidationError("--format " + stats_format, "prints metrics: it takes neither --json nor --zero");
    }
    run = [&, format] { return cli::stats(context, zero, format); };
  });

  cli::LsOptions ls_options;
  auto* ls = app.add_subcommand("ls", "One row per entry: function, version, key, size, age, expiry, hits");
  ls->add_option("--function", ls_options.function, "Only the entries of this function");
  ls->add_option("--input", ls_options.input,
                 "Only the entries computed from this input file or directory (or one inside it)");
  ls->add_option("--sort", ls_options.sort, "Order: size (largest first), age (oldest first), hits (most first)")
      ->check(CLI::IsMember({"size", "age", "hits"}));
  ls->add_option("--limit", ls_options.limit, "At most this many rows");
  ls->callback([&] { run = [&] { return cli::ls(context, ls_options); }; });

  std::string key;
  auto* show = app.add_subcommand("show", "Everything about one entry: times, input files, arguments, a hex preview of the value");
  std::string show_function;
  show->add_option("KEY", key, "The entry's key, or the start of it (as `ls` prints it)")->required();
  show->add_option("--function", show_function, "The entry's function, where calls of two functions share a key");
  show->callback([&] { run = [&] { return cli::show(context, key, show_function); }; });

  std::string function;
  std::optional<std::uint32_t> version;
  auto* clear =
      app.add_subcommand("clear", "Delete entries (all, one function's, or one version's) and say what was freed");
  auto* function_option = clear->add_option("--function", function, "Only this function's entries");
  clear->add_option("--version", version, "Only this version of --function")->needs(function_option);
  std::string clear_timeout = "10s";
  clear->add_option("--timeout", clear_timeout,
                    "While another process holds the store, it carries the clear out: the longest wait for it "
                    "(default 10s)");
  bool remote_only = false;
  clear->add_flag("--remote", remote_only,
                  "Clear the remote tier ($MEMOSTORE_REMOTE) instead: every key under its prefix, nothing else")
      ->excludes(function_option);
  clear->callback([&] {
    run = [&] { return remote_only ? cli::clear_remote(context) : cli::clear(context, function, version, clear_timeout); };
  });

  auto* remote = app.add_subcommand("remote", "The remote tier on Redis ($MEMOSTORE_REMOTE)");
  remote->require_subcommand(1);
  auto* ping = remote->add_subcommand("ping", "Connect to each server: its Redis version and round-trip time");
  ping->callback([&] { run = [&] { return cli::ping_remote(context); }; });

  cli::GcArguments gc_arguments;
  auto* gc = app.add_subcommand("gc", "Remove expired and superseded entries, then evict to the size budget");
  gc->add_option("--max-size", gc_arguments.max_size, "Budget instead of the store's, e.g. 500M, 2GiB");
  gc->add_option("--older-than", gc_arguments.older_than, "Also remove entries unused for this long, e.g. 7d, 12h");
  gc->add_flag("--changed-inputs", gc_arguments.changed_inputs,
               "Also remove entries whose File/Dir inputs are gone or changed (reads changed files)");
  gc->add_option("--timeout", gc_arguments.timeout,
                 "While another process holds the store, it carries the gc out: the longest wait for it (default 10s)");
  gc->callback([&] { run = [&] { return cli::gc(context, gc_arguments); }; });

  auto* compact =
      app.add_subcommand("compact", "Rewrite the store's files to reclaim space; prints the size before and after");
  compact->callback([&] { run = [&] { return cli::compact(context); }; });

  bool fix = false;
  auto* verify = app.add_subcommand("verify", "Read and check every entry; exit code 1 if any is damaged");
  verify->add_flag("--fix", fix, "Remove the damaged entries (they are recomputed on their next call)");
  verify->callback([&] { run = [&] { return cli::verify(context, fix); }; });

  auto* repair =
      app.add_subcommand("repair", "Rebuild a store that cannot be opened from its intact files, then verify it");
  repair->callback([&] { run = [&] { return cli::repair(context); }; });

  std::filesystem::path file;
  auto* export_command = app.add_subcommand("export", "Write a consistent snapshot of the store to one portable file");
  export_command->add_option("FILE", file, "The file to write")->required();
  export_command->callback([&] { run = [&] { return cli::export_to(context, file); }; });

  auto* import_command = app.add_subcommand("import", "Load an export file into this store (the newer entry wins)");
  import_command->add_option("FILE", file, "A file written by `memostore export`")
      ->required()
      ->check(CLI::ExistingFile);
  import_command->callback([&] { run = [&] { return cli::import_from(context, file); }; });

  std::vector<std::filesystem::path> sources;
  auto* merge = app.add_subcommand("merge", "Fold other stores into this one (the newer entry wins)");
  merge->add_option("DIR", sources, "Store directories to merge in (read-only; they may be in use)")
      ->required()
      ->check(CLI::ExistingDirectory);
  merge->callback([&] { run = [&] { return cli::merge(context, sources); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_failed(app, e, argc, argv);
  }
  auto fail = [&](int code, const std::string& message) { return cli::report_error(context.json, code, message); };
  try {
    return run();
  } catch (const cli::StoreUnavailable& e) {
    return fail(cli::k_unavailable, e.what());
  } catch (const cli::CommandFailed& e) {
    return fail(cli::k_problems, e.what());
  } catch (const memostore::Error& e) {
    if (e.code() == memostore::ErrorCode::locked) {  // another process uses the store
      return fail(cli::k_unavailable, e.what());
    }
    const bool usage = e.code() == memostore::ErrorCode::usage || e.code() == memostore::ErrorCode::config;
    return fail(usage ? cli::k_usage : cli::k_problems, e.what());
  } catch (const std::exception& e) {
    return fail(cli::k_problems, fmt::format("unexpected failure: {}", e.what()));
  }
}
