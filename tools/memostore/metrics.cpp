#include "metrics.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "util/escape.hpp"

namespace memostore::cli {
namespace {

/// A label value: control characters and invalid UTF-8 as `\xHH` (a planted
/// function name stays one printable line), then the format's escapes.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : detail::escaped(text)) {
    if (c == '\\' || c == '"') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

/// A number as the formats write it: integers exactly, seconds with nanoseconds.
std::string number(std::uint64_t n) { return std::to_string(n); }
std::string seconds(std::chrono::nanoseconds ns) { return fmt::format("{:.9f}", static_cast<double>(ns.count()) / 1e9); }

enum class Kind { counter, gauge };

/// One metric family: its name without a counter's `_total`, its unit (the
/// name's last word, or empty), and what it means.
struct Family {
  std::string name;
  Kind kind;
  std::string unit;
  std::string help;
};

class Writer {
 public:
  Writer(MetricsFormat format, std::string dir) : m_format(format), m_dir_label(label_value(dir)) {}

  /// Starts `family`; its samples follow.
  void family(const Family& f) {
    m_current = f;
    const std::string name = full_name();
    const std::string declared = m_format == MetricsFormat::openmetrics ? f.name : name;
    m_out += fmt::format("# TYPE {} {}\n", declared, f.kind == Kind::counter ? "counter" : "gauge");
    if (m_format == MetricsFormat::openmetrics && !f.unit.empty()) {
      m_out += fmt::format("# UNIT {} {}\n", f.name, f.unit);
    }
    m_out += fmt::format("# HELP {} {}\n", declared, f.help);
  }

  /// A sample of the current family, for `function` (none: the whole store).
  void sample(const std::string* function, const std::string& value) {
    std::string labels = fmt::format("dir=\"{}\"", m_dir_label);
    if (function != nullptr) {
      labels += fmt::format(",function=\"{}\"", label_value(*function));
    }
    m_out += fmt::format("{}{{{}}} {}\n", full_name(), labels, value);
  }

  std::string finish() {
    if (m_format == MetricsFormat::openmetrics) {
      m_out += "# EOF\n";
    }
    return std::move(m_out);
  }

 private:
  std::string full_name() const { return m_current.kind == Kind::counter ? m_current.name + "_total" : m_current.name; }

  MetricsFormat m_format;
  std::string m_dir_label;
  Family m_current;
  std::string m_out;
};

/// The per-function metrics: their family, and how each is read from a function's counters.
struct PerFunction {
  Family family;
  std::function<std::string(const FunctionStats&)> value;
};

const std::vector<PerFunction>& per_function() {
  static const std::vector<PerFunction> metrics = {
      {{"memostore_hits", Kind::counter, "", "Calls answered from the cache."},
       [](const FunctionStats& s) { return number(s.hits); }},
      {{"memostore_fallback_hits", Kind::counter, "", "Hits found in a read-only fallback directory (and copied)."},
       [](const FunctionStats& s) { return number(s.fallback_hits); }},
      {{"memostore_refreshes", Kind::counter, "", "Results recomputed by a refresh (refresh_after, Memo::refresh)."},
       [](const FunctionStats& s) { return number(s.refreshes); }},
      {{"memostore_refresh_failures", Kind::counter, "", "Background refreshes whose function threw."},
       [](const FunctionStats& s) { return number(s.refresh_failures); }},
      {{"memostore_misses", Kind::counter, "", "Calls that computed their result."},
       [](const FunctionStats& s) { return number(s.misses); }},
      {{"memostore_stores", Kind::counter, "", "Results stored."},
       [](const FunctionStats& s) { return number(s.stores); }},
      {{"memostore_evictions", Kind::counter, "", "Entries evicted to keep within a size budget."},
       [](const FunctionStats& s) { return number(s.evictions); }},
      {{"memostore_expirations", Kind::counter, "", "Entries past their ttl."},
       [](const FunctionStats& s) { return number(s.expirations); }},
      {{"memostore_rejected", Kind::counter, "", "Entries ignored for lacking a valid signature."},
       [](const FunctionStats& s) { return number(s.rejected); }},
      {{"memostore_checked", Kind::counter, "", "Stored results compared with a fresh computation (check mode)."},
       [](const FunctionStats& s) { return number(s.checked); }},
      {{"memostore_stale", Kind::counter, "", "Checked results that differed from the fresh computation."},
       [](const FunctionStats& s) { return number(s.stale); }},
      {{"memostore_changed_layout", Kind::counter, "", "Entries that no longer decoded as their result type."},
       [](const FunctionStats& s) { return number(s.changed_layout); }},
      {{"memostore_compute_seconds", Kind::counter, "seconds", "Time spent computing results that were stored."},
       [](const FunctionStats& s) { return seconds(s.compute_time); }},
      {{"memostore_saved_seconds", Kind::counter, "seconds", "Compute time saved by hits."},
       [](const FunctionStats& s) { return seconds(s.saved_time); }},
  };
  return metrics;
}

}  // namespace

std::string metrics_text(const std::string& dir, const StoreStats& stats, const StoreContents& held,
                         MetricsFormat format) {
  Writer out(format, dir);
  // Every function the counters or the contents know, in name order.
  std::map<std::string, const FunctionStats*> functions;
  for (const FunctionStats& f : stats.functions) {
    functions[f.name] = &f;
  }
  std::map<std::string, const FunctionContents*> contents;
  for (const FunctionContents& f : held.functions) {
    contents[f.name] = &f;
    functions.try_emplace(f.name, nullptr);
  }
  static const FunctionStats k_none;
  for (const PerFunction& metric : per_function()) {
    out.family(metric.family);
    for (const auto& [name, counters] : functions) {
      out.sample(&name, metric.value(counters != nullptr ? *counters : k_none));
    }
  }
  out.family({"memostore_entries", Kind::gauge, "", "Entries stored now."});
  for (const auto& [name, counters] : functions) {
    const auto found = contents.find(name);
    out.sample(&name, number(found != contents.end() ? found->second->entries : 0));
  }
  out.family({"memostore_result_bytes", Kind::gauge, "bytes", "Bytes of keys and stored results now."});
  for (const auto& [name, counters] : functions) {
    const auto found = contents.find(name);
    out.sample(&name, number(found != contents.end() ? found->second->bytes : 0));
  }
  out.family({"memostore_disk_bytes", Kind::gauge, "bytes", "Bytes the store's directory takes on disk."});
  out.sample(nullptr, number(held.disk_bytes));
  const RemoteStats& r = stats.remote;
  const std::pair<const char*, std::uint64_t> remote[] = {
      {"hits", r.hits}, {"misses", r.misses}, {"writes", r.writes},
      {"dropped_writes", r.dropped_writes}, {"rejected", r.rejected}, {"errors", r.errors}};
  for (const auto& [what, count] : remote) {
    out.family({fmt::format("memostore_remote_{}", what), Kind::counter, "",
                fmt::format("The remote tier's {} (all functions).", what)});
    out.sample(nullptr, number(count));
  }
  return out.finish();
}

}  // namespace memostore::cli
