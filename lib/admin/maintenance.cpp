// Changing a store on purpose: applying waiting bookkeeping, zeroing
// counters, clearing, garbage collection and compaction.
#include <fmt/format.h>

#include "admin/access.hpp"
#include "codec/key.hpp"
#include "policy/expiry.hpp"
#include "storage/handover.hpp"

namespace memostore {

bool apply_waiting_bookkeeping(const std::filesystem::path& dir) noexcept {
  try {
    if (detail::pending_units(dir).empty()) {
      return false;
    }
    detail::DatabaseOptions options;
    options.read_first = false;  // a read-write open applies what waits
    options.share_when_locked = false;  // fails, rather than share, when another process holds the store
    return static_cast<bool>(detail::Database::open(dir, options));  // and closes at once
  } catch (const std::exception&) {
    return false;  // (only memory can run out here)
  }
}

void zero_stats(Store& store) {
  detail::value_or_throw(detail::writable_core(store, "zero the statistics of").policy()->zero_counters());
}

Freed clear(Store& store, const EntryFilter& filter) {
  detail::StoreCore& core = detail::writable_core(store, "clear");
  if (filter.version && filter.function.empty()) {
    throw Error(ErrorCode::usage, "clearing one version needs a function name too");
  }
  if (!filter.function.empty()) {
    detail::value_or_throw(detail::check_function_name(filter.function));
  }
  const detail::Totals removed = detail::value_or_throw(core.policy()->clear(filter.function, filter.version));
  return Freed{static_cast<std::uint64_t>(removed.entries), static_cast<std::uint64_t>(removed.bytes)};
}

CleanupReport gc(Store& store, const GcOptions& options) {
  detail::StoreCore& core = detail::writable_core(store, "collect garbage in");
  detail::StorePolicy& policy = *core.policy();
  detail::CleanupRequest request{.collect_garbage = true};
  request.max_bytes = options.max_bytes;
  if (options.older_than) {
    request.unused_before_ms = policy.now_ms() - options.older_than->count();
  }
  CleanupReport report = detail::value_or_throw(policy.gc(request));
  report.stale_file_records = detail::value_or_throw(core.fingerprints().forget_stale());
  return report;
}

CompactReport compact(Store& store, const Progress& progress) {
  detail::StoreCore& core = detail::writable_core(store, "compact");
  detail::Database& database = *core.database();
  CompactReport report;
  report.disk_bytes_before = disk_usage(store.dir());
  // Entries are compacted one function at a time, so progress can be shown;
  // the ranges run from each function's first key to the next one's.
  std::vector<std::string> starts;
  for (const auto& function : contents(store).functions) {
    starts.push_back(detail::function_prefix(function.name));
  }
  const std::uint64_t steps = starts.size() + 1;  // the last step: bookkeeping
  std::uint64_t done = 0;
  auto step_done = [&] {
    if (progress) {
      progress(++done, steps);
    }
  };
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::string_view begin = i == 0 ? std::string_view() : std::string_view(starts[i]);
    const std::string_view end = i + 1 < starts.size() ? std::string_view(starts[i + 1]) : std::string_view();
    detail::value_or_throw(database.compact_range(detail::Family::entries, begin, end));
    step_done();
  }
  if (starts.empty()) {
    detail::value_or_throw(database.compact_range(detail::Family::entries, "", ""));
  }
  detail::value_or_throw(database.compact_bookkeeping());
  step_done();
  report.disk_bytes_after = disk_usage(store.dir());
  return report;
}

}  // namespace memostore
