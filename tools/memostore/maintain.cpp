// Commands that check, change or move a store: clear, gc, compact, verify,
// repair, export, import, merge.
#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fmt/std.h>
#include <memostore/admin.hpp>

#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "storage/safe_files.hpp"

namespace memostore::cli {

namespace {

void print_rejected(const std::vector<Problem>& rejected) {
  for (const Problem& problem : rejected) {
    fmt::print(stderr, "rejected {} {}: {}\n", problem.function.empty() ? "entry" : shown(problem.function),
               problem.hash, shown(problem.what));
  }
}

int transfer_result(const Context& context, const TransferReport& report, const std::string& done) {
  if (context.json) {
    print_json(to_json(report));
  } else {
    print_rejected(report.rejected);
    fmt::print("{}: {} ({}){}{}\n", done, count(report.entries, "entry", "entries"), format_size(report.bytes),
               report.kept != 0
                   ? fmt::format(", {} kept because this store's copy was as new or newer", with_thousands(report.kept))
                   : "",
               report.rejected.empty() ? "" : fmt::format(", {} rejected", report.rejected.size()));
  }
  return report.rejected.empty() ? k_ok : k_problems;
}

/// Why `clear --function` removed nothing, with the functions the store has:
/// a mistyped name must not look like a successful clear.
std::string no_such_function(const Store& store, const std::string& function, std::optional<std::uint32_t> version) {
  std::string held;
  std::string versions;
  for (const FunctionContents& f : contents(store).functions) {
    held += fmt::format("{}{}", held.empty() ? "" : ", ", shown(f.name));
    if (f.name == function) {
      versions = fmt::format("{}", fmt::join(f.versions, ", "));
    }
  }
  const std::string what = version ? fmt::format("{} version {}", shown(function), *version) : shown(function);
  if (!versions.empty()) {
    return fmt::format("{} has no entries to clear in {}; it has entries of version {}", what,
                       store.dir().string(), versions);
  }
  return fmt::format("{} has no entries to clear in {}; {}", what, store.dir().string(),
                     held.empty() ? std::string("the store holds no entries")
                                  : "the functions with entries are: " + held);
}

}  // namespace

int clear(const Context& context, const std::string& function, std::optional<std::uint32_t> version,
          const std::string& timeout) {
  const auto holder_wait = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(timeout));
  Store store = open_store(context, Access::write);
  const ClearReport cleared =
      memostore::clear(store, EntryFilter{.function = function, .version = version}, holder_wait);
  if (cleared.entries == 0 && !function.empty()) {
    throw CommandFailed(no_such_function(store, function, version));
  }
  if (context.json) {
    print_json(Json{{"entries", cleared.entries}, {"bytes", cleared.bytes}});
  } else {
    const std::string what = function.empty() ? std::string("all entries")
                             : version        ? fmt::format("{} version {}", function, *version)
                                              : function;
    fmt::print(
        "cleared {}: {}, {} freed (the files shrink as RocksDB compacts; `memostore compact` "
        "does it now)\n",
        what, count(cleared.entries, "entry", "entries"), format_size(cleared.bytes));
  }
  return k_ok;
}

int clear_remote(const Context& context) {
  const Store store = open_store(context, Access::read);
  const std::uint64_t removed = memostore::clear_remote(store);
  if (context.json) {
    print_json(Json{{"remote_entries", removed}});
  } else {
    fmt::print("cleared the remote tier: {}\n", count(removed, "entry", "entries"));
  }
  return k_ok;
}

int ping_remote(const Context& context) {
  // Only the URL is needed: a machine that reaches the remote tier but has
  // no local store yet (a fresh CI runner) can check it.
  const std::vector<RemotePing> pings = memostore::ping_remote(StoreOptions{});
  bool all_ok = true;
  Json list = Json::array();
  for (const RemotePing& ping : pings) {
    all_ok = all_ok && ping.ok;
    if (context.json) {
      list.push_back(Json{{"server", ping.server},
                          {"ok", ping.ok},
                          {"version", ping.ok ? Json(ping.version) : Json(nullptr)},
                          {"error", ping.ok ? Json(nullptr) : Json(ping.error)},
                          {"round_trip_us", ping.round_trip.count()}});
    } else if (ping.ok) {
      fmt::print("{}: Redis {}, round trip {}\n", shown(ping.server), shown(ping.version),
                 format_duration(ping.round_trip));
    } else {
      fmt::print("{}: {}\n", shown(ping.server), shown(ping.error));
    }
  }
  if (context.json) {
    print_json(Json{{"servers", list}});
  }
  return all_ok ? k_ok : k_unavailable;
}

int gc(const Context& context, const GcArguments& arguments) {
  GcOptions options;
  if (!arguments.max_size.empty()) {
    options.max_bytes = parse_size(arguments.max_size);
  }
  if (!arguments.older_than.empty()) {
    options.older_than = parse_duration(arguments.older_than);
  }
  if (arguments.changed_inputs) {
    options.changed_inputs = ChangedInputs::remove;
  }
  options.holder_wait = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(arguments.timeout));
  Store store = open_store(context, Access::write);
  const CleanupReport report = memostore::gc(store, options);
  if (context.json) {
    print_json(to_json(report));
    return k_ok;
  }
  using Align = Table::Align;
  Table table({{"removed"}, {"entries", Align::right}, {"size", Align::right}});
  auto row = [&](const char* why, std::uint64_t entries, std::uint64_t bytes) {
    table.add_row({why, with_thousands(entries), format_size(bytes)});
  };
  row("expired", report.expired_entries, report.expired_bytes);
  row("superseded versions", report.superseded_entries, report.superseded_bytes);
  if (options.older_than) {
    row(fmt::format("unused for {}", format_duration(*options.older_than)).c_str(), report.unused_entries,
        report.unused_bytes);
  }
  if (arguments.changed_inputs) {
    row("inputs gone or changed", report.changed_input_entries, report.changed_input_bytes);
  }
  row("evicted for the size budget", report.evicted_entries, report.evicted_bytes);
  row("total", report.entries(), report.bytes());
  fmt::print("{}", table.render());
  if (report.stale_file_records > 0) {
    fmt::print("and {} of input files that are gone or changed\n",
               count(report.stale_file_records, "remembered hash", "remembered hashes"));
  }
  return k_ok;
}

int compact(const Context& context) {
  Store store = open_store(context, Access::write);
  CompactReport report;
  {
    ProgressBar bar("compacting");
    report = memostore::compact(store, bar.callback());
  }
  if (context.json) {
    print_json(Json{{"disk_bytes_before", report.disk_bytes_before}, {"disk_bytes_after", report.disk_bytes_after}});
  } else {
    fmt::print("compacted {}: {} before, {} after\n", store.dir().string(), format_size(report.disk_bytes_before),
               format_size(report.disk_bytes_after));
  }
  return k_ok;
}

namespace {

void print_problems(const std::vector<Problem>& problems) {
  for (const Problem& problem : problems) {
    if (problem.function.empty() && problem.hash.empty()) {
      fmt::print("{}\n", shown(problem.what));  // damage no entry names: says what it is
    } else {
      fmt::print("damaged {} {}: {}\n", problem.function.empty() ? "entry" : shown(problem.function), problem.hash,
                 shown(problem.what));
    }
  }
}

/// What to run next: only commands that clear what is left (no circle).
std::string advice(const Context& context, const VerifyReport& report, bool fixed) {
  const auto entries = static_cast<std::size_t>(std::count_if(
      report.problems.begin(), report.problems.end(), [](const Problem& problem) { return !problem.hash.empty(); }));
  std::string text;
  if (fixed) {
    text += fmt::format(", {} removed (recomputed when next called)",
                        count(report.removed, "damaged entry", "damaged entries"));
  } else if (entries != 0) {
    text += fmt::format("; `memostore --dir {} verify --fix` removes {}", context.dir.string(),
                        entries == 1 ? std::string("the damaged entry") : fmt::format("the {} damaged entries", entries));
  }
  if (report.needs_repair) {
    text += fmt::format(". Damaged files remain, which removing entries cannot clear: `memostore --dir {} repair` "
                        "copies every entry that can still be read into a new store without them",
                        context.dir.string());
  }
  return text;
}

}  // namespace

int verify(const Context& context, bool fix) {
  Store store = open_store(context, fix ? Access::write : Access::read);
  VerifyReport report;
  {
    ProgressBar bar("verifying");
    const DamagedEntries damaged = fix ? DamagedEntries::remove : DamagedEntries::keep;
    report = memostore::verify(store, VerifyOptions{.damaged = damaged, .progress = bar.callback()});
  }
  if (context.json) {
    Json problems = Json::array();
    for (const Problem& problem : report.problems) {
      problems.push_back(to_json(problem));
    }
    print_json(Json{{"entries_checked", report.entries_checked},
                    {"clean", report.clean()},
                    {"problems", problems},
                    {"removed", report.removed},
                    {"needs_repair", report.needs_repair}});
    return report.clean() ? k_ok : k_problems;
  }
  print_problems(report.problems);
  if (report.clean()) {
    fmt::print("checked {}: no problems\n", count(report.entries_checked, "entry", "entries"));
    return k_ok;
  }
  fmt::print("checked {}: {}{}\n", count(report.entries_checked, "entry", "entries"),
             count(report.problems.size(), "problem", "problems"),
             advice(context, report, fix));
  return k_problems;
}

int repair(const Context& context) {
  require_store(context.dir);
  VerifyReport report;
  try {
    report = memostore::repair(context.dir);
  } catch (const Error& e) {
    throw StoreUnavailable(e.what());
  }
  const std::uint64_t remain = report.entries_checked - report.removed;
  if (context.json) {
    print_json(Json{{"entries", remain},
                    {"removed", report.removed},
                    {"nothing_to_repair", report.nothing_to_repair},
                    {"needs_repair", report.needs_repair}});
  } else if (report.nothing_to_repair) {
    fmt::print("nothing to repair: {} opens and verifies cleanly ({})\n", context.dir.string(),
               count(remain, "entry", "entries"));
  } else {
    print_problems(report.problems);
    fmt::print("repaired {}: {} {}{}\n", context.dir.string(), count(remain, "entry", "entries"),
               remain == 1 ? "remains" : "remain",
               report.removed == 0 ? "" : fmt::format(", {} removed", count(report.removed, "damaged entry", "damaged entries")));
  }
  return report.needs_repair ? k_problems : k_ok;
}

int export_to(const Context& context, const std::filesystem::path& file) {
  const Store store = open_store(context, Access::read);
  TransferReport report;
  {
    ProgressBar bar("exporting");
    report = memostore::export_to(store, file, bar.callback());
  }
  return transfer_result(context, report, fmt::format("exported {} to {}", store.dir().string(), file.string()));
}

namespace {

/// Whether `dir` is missing or empty: an import that fails there must not
/// leave a new store behind, which the next command would take for a cache.
/// The file is read through first; a failure after that (a full disk)
/// removes the store only from a directory the import made itself, and
/// keeps what was imported into one that existed.
bool holds_nothing(const std::filesystem::path& dir) {
  std::error_code ec;
  return !std::filesystem::exists(std::filesystem::symlink_status(dir, ec)) ||
         (std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec)) &&
          std::filesystem::is_empty(dir, ec) && !ec);
}

}  // namespace

int import_from(const Context& context, const std::filesystem::path& file) {
  if (holds_nothing(context.dir)) {
    // Read the file through before a store is made for it: a file that is
    // not an export, or is cut short, leaves nothing behind.
    try {
      (void)memostore::check_export(file);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{}. The import left no store behind: {} was not created or changed", e.what(),
                                        context.dir.string()));
    }
  }
  // The directory is this import's only if this mkdir made it (owner-only,
  // as a new store's is): then a later failure may remove it. If another
  // process made it first, whatever happens to its store is not ours to undo.
  const bool created = ::mkdir(context.dir.c_str(), 0700) == 0;
  struct stat made {};
  const bool identified = created && ::lstat(context.dir.c_str(), &made) == 0;
  TransferReport report;
  try {
    Store store = open_store(context, Access::create);
    ProgressBar bar("importing");
    report = memostore::import_from(store, file, bar.callback());
  } catch (const Error& e) {
    struct stat now {};
    const bool same = identified && ::lstat(context.dir.c_str(), &now) == 0 && S_ISDIR(now.st_mode) &&
                      now.st_dev == made.st_dev && now.st_ino == made.st_ino;
    if (!same) {
      throw;  // the message says what the store kept
    }
    // A failure past the check (a full disk) in the directory this import
    // made moments ago: it goes, without following any link in it (the
    // store is closed by now).
    if (auto removed = memostore::detail::remove_tree(context.dir); !removed) {
      throw Error(e.code(), fmt::format("{}. Removing the new store in {} failed too: {}", e.what(),
                                        context.dir.string(), removed.failure().message));
    }
    throw Error(e.code(),
                fmt::format("{}. The import left no store behind: {} is gone again", e.what(), context.dir.string()));
  }
  return transfer_result(context, report, fmt::format("imported {} into {}", file.string(), context.dir.string()));
}

int merge(const Context& context, const std::vector<std::filesystem::path>& dirs) {
  Store store = open_store(context, Access::create);
  TransferReport total;
  Json per_source = Json::array();
  for (const auto& dir : dirs) {
    TransferReport report;
    {
      ProgressBar bar(fmt::format("merging {}", dir.string()));
      try {
        report = memostore::merge_from(store, dir, bar.callback());
      } catch (const Error& e) {
        if (e.code() == ErrorCode::usage) {
          throw;
        }
        throw CommandFailed(fmt::format("cannot merge {}: {}", dir.string(), e.what()));
      }
    }
    if (context.json) {
      Json json = to_json(report);
      json["dir"] = dir.string();
      per_source.push_back(json);
    } else {
      transfer_result(context, report, fmt::format("merged {}", dir.string()));
    }
    total.entries += report.entries;
    total.bytes += report.bytes;
    total.kept += report.kept;
    total.rejected.insert(total.rejected.end(), report.rejected.begin(), report.rejected.end());
  }
  if (context.json) {
    Json json = to_json(total);
    json["sources"] = per_source;
    print_json(json);
  }
  return total.rejected.empty() ? k_ok : k_problems;
}

}  // namespace memostore::cli
