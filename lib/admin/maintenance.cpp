// Changing a store on purpose: applying waiting bookkeeping, zeroing
// counters, clearing, garbage collection and compaction.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "admin/access.hpp"
#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "inputs/fingerprints.hpp"
#include "policy/meta_scan.hpp"
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

ClearReport clear(Store& store, const EntryFilter& filter, std::chrono::milliseconds holder_wait) {
  if (filter.version && filter.function.empty()) {
    throw Error(ErrorCode::usage, "clearing one version needs a function name too");
  }
  if (!filter.function.empty()) {
    detail::value_or_throw(detail::check_function_name(filter.function));
  }
  if (store.mode() == Mode::off) {  // as Store::clear: nothing is stored to clear
    return ClearReport{};
  }
  detail::StoreCore& core = detail::shared_writable_core(store, "clear");
  const detail::Totals removed = detail::value_or_throw(core.tiers()->clear(filter.function, filter.version));
  detail::await_holder(core, "clear", holder_wait);
  return ClearReport{static_cast<std::uint64_t>(removed.entries), static_cast<std::uint64_t>(removed.bytes)};
}

namespace {

/// Tells whether an entry's recorded inputs are gone or hold other content
/// now, fingerprinting each input as a call does (through the remembered
/// file hashes), each once however many entries share it.
class InputCheck {
 public:
  explicit InputCheck(detail::Fingerprints& fingerprints) : m_fingerprints(fingerprints) {}
  InputCheck(const InputCheck&) = delete;
  InputCheck& operator=(const InputCheck&) = delete;

  /// `record`: an entry's inputs record. One that does not decode is left
  /// alone (`verify` reports damage; gc does not guess).
  bool changed(std::string_view record) {
    const auto inputs = detail::decode_inputs(record);
    if (!inputs) {
      return false;
    }
    return std::any_of(inputs->begin(), inputs->end(), [&](const detail::RecordedInput& input) {
      const auto now = current(input);
      return !now || *now != input.hash;
    });
  }

  /// Remembers the file hashes learnt on the way, as a call would.
  void finish() { m_fingerprints.remember(m_learnt); }

 private:
  /// The input's fingerprint now; none if it is gone or cannot be read.
  std::optional<detail::Hash128> current(const detail::RecordedInput& input) {
    const auto id = std::make_tuple(input.kind, input.path, input.pattern);
    if (const auto known = m_seen.find(id); known != m_seen.end()) {
      return known->second;
    }
    const std::filesystem::path path(input.path);
    auto hash = input.kind == detail::InputKind::file ? m_fingerprints.file(path, m_learnt)
                                                      : m_fingerprints.dir(path, input.pattern, m_learnt);
    const auto now = hash ? std::optional(hash.value()) : std::nullopt;
    m_seen.emplace(id, now);
    return now;
  }

  detail::Fingerprints& m_fingerprints;
  detail::LearntFiles m_learnt;
  std::map<std::tuple<detail::InputKind, std::string, std::string>, std::optional<detail::Hash128>> m_seen;
};

}  // namespace

CleanupReport gc(Store& store, const GcOptions& options) {
  if (store.mode() == Mode::off) {  // as Store::gc
    return CleanupReport{};
  }
  detail::StoreCore& core = detail::shared_writable_core(store, "collect garbage in");
  detail::StorePolicy& policy = *core.policy();
  detail::CleanupRequest request{.collect_garbage = true};
  request.max_bytes = options.max_bytes;
  if (options.older_than) {
    request.unused_before_ms = policy.now_ms() - options.older_than->count();
  }
  std::set<std::string, std::less<>> changed;  // keys of entries whose inputs changed
  if (options.changed_inputs == ChangedInputs::remove) {
    // Files are hashed here, before the cleanup takes its lock: calls that
    // evict meanwhile do not wait for them.
    InputCheck inputs(core.fingerprints());
    detail::value_or_throw(detail::for_each_entry_records(*core.database(), "", nullptr, [&](const auto& records) {
      if (records.has_info && !records.inputs.empty() && inputs.changed(records.inputs)) {
        changed.emplace(records.key);
      }
      return true;
    }));
    inputs.finish();
    request.inputs_changed = [&](std::string_view key) { return changed.count(key) > 0; };
  }
  CleanupReport report = detail::value_or_throw(core.tiers()->gc(request));
  report.stale_file_records = detail::value_or_throw(core.fingerprints().forget_stale());
  (void)detail::value_or_throw(core.tiers()->flush());  // the corrected counts go with the removals
  detail::await_holder(core, "collect garbage in", options.holder_wait);
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
