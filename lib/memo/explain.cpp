#include "memo/explain.hpp"

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "memo/judge.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// The version of another entry of this function, if any is stored.
std::optional<std::uint32_t> other_version(const MemoCore& memo) {
  std::optional<std::uint32_t> found;
  (void)tiers_of(memo).for_each_record(
      function_prefix(memo.name()), [&](std::string_view meta_key, std::string_view) {
        const auto parts = parse_key(meta_key.substr(0, meta_key.size() - 1));
        if (parts && parts->version != memo.version()) {
          found = parts->version;
          return false;
        }
        return true;
      });
  return found;
}

/// True if an entry of this function version holds the same arguments under
/// another type fingerprint: the result or argument types changed (their
/// fingerprint seeds the key hash, so such an entry sits under another key).
bool stored_with_other_type(const MemoCore& memo, std::string_view args) {
  bool found = false;
  (void)tiers_of(memo).for_each_entry(
      version_prefix(memo.name(), memo.version()), [&](std::string_view, std::string_view bytes) {
        auto entry = read_envelope(bytes);
        found = entry && entry->info.type != memo.type() && arguments_match(entry.value(), args);
        return !found;
      });
  return found;
}

/// The first of `inputs` that an entry of this function version was computed
/// from with other content, described; none if no entry says so.
std::optional<std::string> changed_input(const MemoCore& memo, const std::vector<RecordedInput>& inputs) {
  std::optional<std::string> found;
  if (inputs.empty()) {
    return found;
  }
  (void)tiers_of(memo).for_each_record(
      version_prefix(memo.name(), memo.version()), [&](std::string_view record_key, std::string_view value) {
        const auto stored = record_key.back() == k_inputs_tag ? decode_inputs(value) : std::nullopt;
        for (const RecordedInput& then : stored.value_or(std::vector<RecordedInput>{})) {
          for (const RecordedInput& now : inputs) {
            if (then.kind == now.kind && then.path == now.path && then.pattern == now.pattern && then.hash != now.hash) {
              found = fmt::format("input {} {} changed since a result was stored (content hash {} then, {} now)",
                                  now.kind == InputKind::file ? "file" : "directory", now.path, hash_hex(then.hash),
                                  hash_hex(now.hash));
              return false;
            }
          }
        }
        return true;
      });
  return found;
}

}  // namespace

void explain_miss(const MemoCore& memo, const std::string& key, std::string_view args,
                  const std::vector<RecordedInput>& inputs, const Lookup& last, bool refresh) {
  std::string why;
  if (refresh) {
    why = "refresh mode recomputes every call";
  } else {
    switch (last.outcome) {
      case Outcome::hit: return;
      case Outcome::expired: why = "its entry expired (ttl)"; break;
      case Outcome::other_type: why = "the stored entry has another result or argument type"; break;
      case Outcome::other_arguments: why = "another call's entry has the same key hash"; break;
      case Outcome::damaged: why = "the stored entry was damaged"; break;
      case Outcome::changed_layout:
        why = "the stored entry does not decode as the current result type (its layout changed; bump `version`)";
        break;
      case Outcome::rejected: why = "the stored entry has no valid signature for the store's secret"; break;
      case Outcome::unreadable: why = "the entry could not be read"; break;
      case Outcome::absent:
        if (tiers_of(memo).was_evicted(key)) {
          why = "its entry was evicted earlier (size budget)";
        } else if (auto changed = changed_input(memo, inputs)) {
          why = std::move(*changed);
        } else if (stored_with_other_type(memo, args)) {
          why = "the stored entry has another result or argument type";
        } else if (const auto version = other_version(memo)) {
          why = fmt::format("no entry for version {}; version {} is stored", memo.version(), *version);
        } else {
          why = "no entry";
        }
        break;
    }
  }
  log(LogLevel::info, "miss: {} (version {}) in {}: {}", memo.name(), memo.version(), memo.store().dir(), why);
}

}  // namespace memostore::detail
