// Checking every entry of a store, and removing the damaged ones on request.
#include <fmt/format.h>

#include "admin/access.hpp"
#include "admin/readable_entries.hpp"
#include "codec/entry_check.hpp"
#include "codec/meta.hpp"
#include "policy/expiry.hpp"
#include "util/hex.hpp"

namespace memostore {

namespace {

struct Damaged {
  std::string key;
  std::optional<std::uint64_t> recorded_size;  // from its info record, if it has one
};

/// Removes the damaged entries with their bookkeeping, correcting the totals.
std::uint64_t remove_damaged(detail::StoreCore& core, const std::vector<Damaged>& damaged) {
  detail::StorePolicy& policy = *core.policy();
  detail::Batch batch(*core.database());
  std::vector<detail::LiveChange> changes;
  for (const Damaged& entry : damaged) {
    const auto parts = detail::parse_key(entry.key);
    if (parts && entry.recorded_size) {
      changes.push_back(
          policy.stage_remove(batch, policy.function(parts->name), entry.key, *entry.recorded_size, std::nullopt));
    } else {  // never counted: remove the records alone
      batch.remove(detail::Family::entries, entry.key);
      for (char tag : {detail::k_info_tag, detail::k_access_tag, detail::k_hits_tag, detail::k_inputs_tag}) {
        batch.remove(detail::Family::meta, detail::meta_key(entry.key, tag));
      }
    }
  }
  detail::value_or_throw(core.tiers()->commit(batch, changes));
  return damaged.size();
}

}  // namespace

VerifyReport verify(Store& store, const VerifyOptions& options) {
  const detail::Database& database =
      options.removes_damaged() ? *detail::writable_core(store, "verify and fix").database()
                                : detail::database_of(store, "verify");
  VerifyReport report;
  if (auto files = database.verify_files(); !files) {
    report.problems.push_back(Problem{"", "", fmt::format("damaged file: {}", detail::cause_of(files.failure().message))});
    report.needs_repair = true;
  }
  const std::uint64_t estimate = database.estimate_keys(detail::Family::entries);
  const std::int64_t now = detail::core_of(store)->policy()->now_ms();
  std::vector<Damaged> damaged;
  auto recorded_size = [&](std::string_view key) {
    std::optional<std::uint64_t> size;
    (void)database.get(detail::Family::meta, detail::meta_key(key, detail::k_info_tag), [&](std::string_view value) {
      if (auto meta = detail::decode_meta(value)) {
        size = meta->size;
      }
    });
    return size;
  };
  const detail::ReadableScan scan = detail::for_each_readable_entry(database, [&](std::string_view key,
                                                                                  std::string_view bytes) {
    report.entries_checked += 1;
    if (options.progress && report.entries_checked % 1024 == 0) {
      options.progress(report.entries_checked, std::max(estimate, report.entries_checked));
    }
    std::optional<detail::EntryMeta> meta;
    (void)database.get(detail::Family::meta, detail::meta_key(key, detail::k_info_tag),
                       [&](std::string_view value) { meta = detail::decode_meta(value); });
    std::string what;
    if (auto checked = detail::check_entry(key, bytes, detail::core_of(store)->signer()); !checked) {
      what = checked.failure().message;
    } else if (!meta) {
      // The compaction filters drop an expired entry and its record independently.
      if (!detail::expired(checked->envelope.info.expires_ms, now)) {
        what = "entry has no bookkeeping record";
      }
    } else if (meta->size != key.size() + bytes.size()) {
      what = fmt::format("bookkeeping record says {} bytes, the entry has {}", meta->size, key.size() + bytes.size());
    }
    if (!what.empty()) {
      report.problems.push_back(detail::problem_at(key, std::move(what)));
      damaged.push_back(Damaged{std::string(key), meta ? std::optional(meta->size) : std::nullopt});
    }
  });
  for (const std::string& stop : scan.stops) {
    report.problems.push_back(Problem{"", "", stop});
    report.needs_repair = true;
  }
  for (const detail::UnreadableEntry& entry : scan.unreadable) {
    report.entries_checked += 1;
    report.problems.push_back(detail::problem_at(entry.key, fmt::format("its value cannot be read ({})", entry.what)));
    damaged.push_back(Damaged{entry.key, recorded_size(entry.key)});
  }
  if (options.progress) {
    options.progress(report.entries_checked, report.entries_checked);
  }
  if (options.removes_damaged() && !damaged.empty()) {
    report.removed = remove_damaged(*detail::core_of(store), damaged);
  }
  return report;
}

}  // namespace memostore
