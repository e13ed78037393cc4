// Read commands: stats, ls, show.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fmt/std.h>
#include <memostore/admin.hpp>

#include "commands.hpp"
#include "metrics.hpp"
#include "output.hpp"

namespace memostore::cli {

namespace {

std::string timestamp(TimePoint when) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(std::chrono::system_clock::to_time_t(when)));
}

/// Offset, hex bytes and printable characters, 16 bytes a line.
std::string hex_dump(std::string_view bytes) {
  std::string out;
  for (std::size_t line = 0; line < bytes.size(); line += 16) {
    const std::string_view chunk = bytes.substr(line, 16);
    std::string hex;
    std::string text;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i < chunk.size()) {
        const auto byte = static_cast<unsigned char>(chunk[i]);
        hex += fmt::format("{:02x} ", byte);
        text += byte >= 0x20 && byte < 0x7f ? static_cast<char>(byte) : '.';
      } else {
        hex += "   ";
      }
    }
    out += fmt::format("  {:08x}  {} |{}|\n", line, hex, text);
  }
  return out;
}

std::string hex(std::string_view bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  return fmt::format("{:02x}", fmt::join(data, data + bytes.size(), ""));
}

/// Adds the running counters of `c` to a `stats` JSON object.
void add_counters(Json& json, const FunctionStats& c) {
  json["hits"] = c.hits;
  json["misses"] = c.misses;
  json["hit_rate"] = c.hit_rate();
  json["stores"] = c.stores;
  json["evictions"] = c.evictions;
  json["expirations"] = c.expirations;
  json["rejected"] = c.rejected;
  json["checked"] = c.checked;
  json["stale"] = c.stale;
  json["changed_layout"] = c.changed_layout;
  json["fallback_hits"] = c.fallback_hits;
  json["refreshes"] = c.refreshes;
  json["refresh_failures"] = c.refresh_failures;
  json["compute_ns"] = c.compute_time.count();
  json["saved_ns"] = c.saved_time.count();
}

/// One row of `stats`: the running counters and what a scan found.
struct FunctionRow {
  FunctionStats counters;
  FunctionContents contents;
};

}  // namespace

int stats(const Context& context, bool zero, StatsFormat format) {
  if (zero) {
    Store store = open_store(context, Access::write);
    zero_stats(store);
    if (context.json) {
      print_json(Json{{"zeroed", true}});
    } else {
      fmt::print("statistics of {} zeroed\n", store.dir().string());
    }
    return k_ok;
  }
  const Store store = open_store(context, Access::read_counts);
  const StoreStats counters = store.stats();
  const StoreContents held = contents(store);
  std::map<std::string, FunctionRow> rows;
  for (const FunctionStats& f : counters.functions) {
    rows[f.name].counters = f;
  }
  for (const FunctionContents& f : held.functions) {
    rows[f.name].contents = f;
  }
  if (format != StatsFormat::table) {
    fmt::print("{}", metrics_text(store.dir().string(), counters, held,
                                  format == StatsFormat::openmetrics ? MetricsFormat::openmetrics
                                                                     : MetricsFormat::prometheus));
    return k_ok;
  }
  const FunctionStats& total = counters.total;
  if (context.json) {
    Json functions = Json::array();
    for (const auto& [name, row] : rows) {
      Json json{{"name", name},
                {"versions", row.contents.versions},
                {"entries", row.contents.entries},
                {"bytes", row.contents.bytes}};
      add_counters(json, row.counters);
      json["oldest_ms"] = unix_ms_or_null(row.contents.oldest);
      json["newest_ms"] = unix_ms_or_null(row.contents.newest);
      functions.push_back(std::move(json));
    }
    Json json{{"dir", store.dir().string()},
              {"entries", held.entries},
              {"bytes", held.bytes},
              {"disk_bytes", held.disk_bytes}};
    add_counters(json, total);
    const RemoteStats& remote = counters.remote;
    json["remote"] = Json{{"hits", remote.hits},         {"misses", remote.misses},
                          {"writes", remote.writes},     {"dropped_writes", remote.dropped_writes},
                          {"rejected", remote.rejected}, {"errors", remote.errors}};
    json["functions"] = std::move(functions);
    print_json(json);
    return k_ok;
  }
  const TimePoint now = std::chrono::system_clock::now();
  fmt::print("store {}: {}, {} of results, {} on disk\n", shown(store.dir().string()), count(held.entries, "entry", "entries"),
             format_size(held.bytes), format_size(held.disk_bytes));
  fmt::print("calls: {}, {} ({} hit rate); time saved {}, spent computing {}\n", count(total.hits, "hit", "hits"),
             count(total.misses, "miss", "misses"), percent(total.hits, total.hits + total.misses),
             format_duration(total.saved_time), format_duration(total.compute_time));
  if (total.rejected != 0) {
    fmt::print("rejected: {} without a valid signature for the store's secret {} ignored\n",
               count(total.rejected, "entry", "entries"), total.rejected == 1 ? "was" : "were");
  }
  if (total.checked != 0) {
    std::string stale_functions;
    for (const auto& [name, row] : rows) {
      if (row.counters.stale != 0) {
        stale_functions += fmt::format("{}{} {}", stale_functions.empty() ? "" : ", ", shown(name),
                                       with_thousands(row.counters.stale));
      }
    }
    fmt::print("checked: {} compared with a fresh computation, {} stale{}{}\n",
               count(total.checked, "stored result", "stored results"), with_thousands(total.stale),
               stale_functions.empty() ? "" : fmt::format(" ({})", stale_functions),
               total.stale == 0 ? "" : ": bump `version` of those functions, or make them deterministic");
  }
  if (total.changed_layout != 0) {
    fmt::print("changed layout: {} no longer decoded as their result type and recomputed "
               "(bump `version` when a result type changes)\n",
               count(total.changed_layout, "entry", "entries"));
  }
  if (total.fallback_hits != 0) {
    std::string by_function;
    for (const auto& [name, row] : rows) {
      if (row.counters.fallback_hits != 0) {
        by_function += fmt::format("{}{} {}", by_function.empty() ? "" : ", ", shown(name),
                                   with_thousands(row.counters.fallback_hits));
      }
    }
    fmt::print("fallback: {} found in fallback directories and copied here ({})\n",
               count(total.fallback_hits, "hit", "hits"), by_function);
  }
  if (total.refreshes + total.refresh_failures != 0) {
    std::string by_function;
    for (const auto& [name, row] : rows) {
      if (row.counters.refreshes + row.counters.refresh_failures != 0) {
        by_function += fmt::format("{}{} {}", by_function.empty() ? "" : ", ", shown(name),
                                   with_thousands(row.counters.refreshes));
        if (row.counters.refresh_failures != 0) {
          by_function += fmt::format(" ({} failed)", with_thousands(row.counters.refresh_failures));
        }
      }
    }
    fmt::print("refreshed: {} recomputed after refresh_after, {} failed ({})\n",
               count(total.refreshes, "result", "results"),
               count(total.refresh_failures, "background refresh", "background refreshes"), by_function);
  }
  if (const RemoteStats& r = counters.remote; r.hits + r.misses + r.writes + r.errors != 0) {
    fmt::print("remote tier: {}, {}, {} ({} dropped), {} rejected, {}\n", count(r.hits, "hit", "hits"),
               count(r.misses, "miss", "misses"), count(r.writes, "write", "writes"), with_thousands(r.dropped_writes),
               with_thousands(r.rejected), count(r.errors, "error", "errors"));
  }
  if (rows.empty()) {
    return k_ok;
  }
  using Align = Table::Align;
  Table table({{"function"},
               {"versions"},
               {"entries", Align::right},
               {"size", Align::right},
               {"hits", Align::right},
               {"misses", Align::right},
               {"hit rate", Align::right},
               {"saved", Align::right},
               {"oldest"},
               {"newest"}});
  for (const auto& [name, row] : rows) {
    const FunctionStats& c = row.counters;
    std::string versions;
    for (std::uint32_t v : row.contents.versions) {
      versions += (versions.empty() ? "" : ",") + std::to_string(v);
    }
    table.add_row({shown(name), versions.empty() ? "-" : versions, with_thousands(row.contents.entries),
                   format_size(row.contents.bytes), with_thousands(c.hits), with_thousands(c.misses),
                   percent(c.hits, c.hits + c.misses), format_duration(c.saved_time),
                   row.contents.oldest ? relative_time(*row.contents.oldest, now) : "-",
                   row.contents.newest ? relative_time(*row.contents.newest, now) : "-"});
  }
  fmt::print("\n{}", table.render());
  return k_ok;
}

int ls(const Context& context, const LsOptions& options) {
  const Store store = open_store(context, Access::read_counts);
  // Ties keep key order (stable sorts); with a limit, at most twice the
  // limit is held at any time, whatever the store's size.
  std::function<bool(const EntrySummary&, const EntrySummary&)> before;
  if (options.sort == "size") {
    before = [](const auto& a, const auto& b) { return a.size > b.size; };
  } else if (options.sort == "age") {
    before = [](const auto& a, const auto& b) { return a.created < b.created; };
  } else if (options.sort == "hits") {
    before = [](const auto& a, const auto& b) { return a.hits > b.hits; };
  }
  const std::size_t limit = options.limit.value_or(SIZE_MAX);
  std::vector<EntrySummary> entries;
  auto keep_first = [&] {
    if (entries.size() > limit) {
      if (before) {
        std::stable_sort(entries.begin(), entries.end(), before);
      }
      entries.resize(limit);
    }
  };
  for_each_entry(store, EntryFilter{.function = options.function, .input = options.input},
                 [&](const EntrySummary& entry) {
    entries.push_back(entry);
    if (!before) {
      return entries.size() < limit;
    }
    if (entries.size() >= 2 * limit) {
      keep_first();
    }
    return true;
  });
  if (before) {
    std::stable_sort(entries.begin(), entries.end(), before);
  }
  keep_first();
  if (context.json) {
    Json list = Json::array();
    for (const EntrySummary& entry : entries) {
      list.push_back(to_json(entry));
    }
    print_json(Json{{"entries", list}});
    return k_ok;
  }
  const TimePoint now = std::chrono::system_clock::now();
  using Align = Table::Align;
  Table table({{"function"},
               {"version", Align::right},
               {"key"},
               {"size", Align::right},
               {"age", Align::right},
               {"refresh", Align::right},
               {"expires", Align::right},
               {"hits", Align::right}});
  for (const EntrySummary& entry : entries) {
    table.add_row({shown(entry.function), std::to_string(entry.version), entry.short_key(), format_size(entry.size),
                   format_duration(now - entry.created), refresh_text(entry.refresh_after, entry.created, now),
                   expiry_text(entry.expires, now), with_thousands(entry.hits)});
  }
  fmt::print("{}", table.render());
  return k_ok;
}

int show(const Context& context, const std::string& key, const std::string& function) {
  const Store store = open_store(context, Access::read_counts);
  const std::vector<EntrySummary> found = find_entries(store, key, function);
  if (found.empty()) {
    throw CommandFailed(fmt::format("no entry in {} has a key starting with {}; `memostore ls` lists the keys",
                                    store.dir().string(), key));
  }
  if (found.size() > 1) {
    std::string candidates;
    for (const EntrySummary& entry : found) {
      candidates += fmt::format("\n  {} ({} version {})", entry.hash, shown(entry.function), entry.version);
    }
    throw Error(ErrorCode::usage,
                fmt::format("{} entries have a key starting with {}; give more digits, or --function:{}", found.size(),
                            key, candidates));
  }
  const auto detail = read_entry(store, found.front());
  if (!detail) {
    throw CommandFailed(fmt::format("entry {} was removed while it was being read", key));
  }
  const EntrySummary& entry = detail->summary;
  if (context.json) {
    Json json = to_json(entry);
    json["type"] = detail->type;
    json["compute_ns"] = detail->compute_time.count();
    json["arguments_hex"] = hex(detail->arguments);
    json["arguments_size"] = detail->arguments_size;
    json["arguments_sha256"] = detail->arguments_sha256.empty() ? Json(nullptr) : Json(detail->arguments_sha256);
    json["value_size"] = detail->value_size;
    json["digest"] = detail->digest;
    json["value_preview_hex"] = hex(detail->value_preview);
    json["problem"] = detail->problem.empty() ? Json(nullptr) : Json(detail->problem);
    print_json(json);
    return detail->problem.empty() ? k_ok : k_problems;
  }
  const TimePoint now = std::chrono::system_clock::now();
  fmt::print("function      {}\n", shown(entry.function));
  fmt::print("version       {}\n", entry.version);
  fmt::print("key           {}\n", entry.hash);
  fmt::print("size          {} ({})\n", format_size(entry.size), count(entry.size, "byte", "bytes"));
  fmt::print("created       {} ({})\n", timestamp(entry.created), relative_time(entry.created, now));
  fmt::print(
      "expires       {}\n",
      entry.expires ? fmt::format("{} ({})", timestamp(*entry.expires), expiry_text(entry.expires, now)) : "never");
  if (entry.refresh_after) {
    fmt::print("refresh after {} of age ({} old: refresh {})\n", format_duration(*entry.refresh_after),
               format_duration(now - entry.created), refresh_text(entry.refresh_after, entry.created, now));
  }
  fmt::print("last used     {} ({})\n", timestamp(entry.last_used), relative_time(entry.last_used, now));
  fmt::print("hits          {}\n", with_thousands(entry.hits));
  for (const EntryInput& input : entry.inputs) {
    fmt::print("input {:<7} {}{}  xxh3-128 {}\n", input.directory ? "dir" : "file", shown(input.path),
               input.pattern.empty() ? "" : fmt::format(" ({})", shown(input.pattern)), input.hash);
  }
  if (!detail->problem.empty()) {
    fmt::print("problem       {}\n", shown(detail->problem));
    return k_problems;
  }
  fmt::print("compute time  {}\n", format_duration(detail->compute_time));
  fmt::print("type          {}\n", detail->type);
  if (!detail->arguments_sha256.empty()) {
    fmt::print("arguments     {} ({} bytes), stored as a digest: sha256 {}\n", format_size(detail->arguments_size),
               with_thousands(detail->arguments_size), detail->arguments_sha256);
  } else {
    fmt::print("arguments     {}\n{}", count(detail->arguments.size(), "byte", "bytes"), hex_dump(detail->arguments));
  }
  fmt::print("digest        {}\n", detail->digest);
  fmt::print("value         {} ({}){}\n{}", format_size(detail->value_size), count(detail->value_size, "byte", "bytes"),
             detail->value_preview.size() < detail->value_size
                 ? fmt::format(", first {} shown", detail->value_preview.size())
                 : "",
             hex_dump(detail->value_preview));
  return k_ok;
}

}  // namespace memostore::cli
