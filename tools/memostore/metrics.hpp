// `memostore stats --format openmetrics|prometheus`: the store's counters for
// a metrics system, e.g. node_exporter's textfile collector. Two spellings of
// the same samples: OpenMetrics 1.0 (a counter's family is named without
// `_total`, units are declared, `# EOF` ends it) and the Prometheus text
// format 0.0.4 that node_exporter and promtool read (the `_total` name in
// every line). Every sample has a `dir` label, so several stores of one
// machine can share a collector directory.
#pragma once

#include <string>

#include <memostore/admin.hpp>
#include <memostore/stats.hpp>

namespace memostore::cli {

enum class MetricsFormat { openmetrics, prometheus };

/// The exposition of `stats` (counters) and `held` (what the store holds now)
/// of the store in `dir`, in `format`.
std::string metrics_text(const std::string& dir, const StoreStats& stats, const StoreContents& held,
                         MetricsFormat format);

}  // namespace memostore::cli
