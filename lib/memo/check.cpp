#include "memo/check.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include <fmt/std.h>

#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "memo/judge.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// A uniform number in [0, 1) from a per-thread generator: sampling hits must
/// not share a lock or a cache line between threads.
double uniform_fraction() {
  thread_local std::minstd_rand generator(static_cast<std::minstd_rand::result_type>(
      std::random_device{}() ^ std::hash<std::thread::id>{}(std::this_thread::get_id())));
  return std::generate_canonical<double, 32>(generator);
}

}  // namespace

bool should_check(const MemoCore& memo) {
  const Mode mode = memo.store().mode();
  if (mode == Mode::check) {
    return true;
  }
  const double rate = tiers_of(memo).settings().check_rate;
  return mode == Mode::readwrite && rate > 0 && uniform_fraction() < rate;
}

std::optional<StoredResult> stored_result(const MemoCore& memo, const std::string& key, std::string_view args) {
  std::optional<StoredResult> found;
  (void)tiers_of(memo).read_stored(
      key, [&](const EntryView& entry, std::int64_t now) { return Verdict{judge_entry(memo, args, entry, now)}; },
      [&](const EntryView& entry, std::uint64_t size) { found.emplace(StoredResult{std::string(entry.payload), size}); });
  return found;
}

std::optional<std::size_t> first_difference(std::string_view stored, std::string_view fresh) noexcept {
  const auto [at_stored, at_fresh] = std::mismatch(stored.begin(), stored.end(), fresh.begin(), fresh.end());
  if (at_stored == stored.end() && at_fresh == fresh.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(at_stored - stored.begin());
}

void report_stale(const MemoCore& memo, std::string_view key, std::size_t offset, std::size_t stored_size,
                  std::size_t fresh_size) {
  const auto parts = parse_key(key);
  log(LogLevel::error,
      "stale entry of {} (version {}) in {}, key {}: the stored result differs from the one computed now (first "
      "difference at byte {}; {} bytes stored, {} computed): bump `version` when the function's logic or its "
      "result's serialization changes, or the function is not deterministic. Replaced the stored entry with the "
      "new result",
      memo.name(), memo.version(), memo.store().dir(), parts ? hash_hex(parts->hash) : std::string("?"), offset,
      stored_size, fresh_size);
}

}  // namespace memostore::detail
