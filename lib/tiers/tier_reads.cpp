// Reading a call's entry, tier by tier: the hot tier, this directory, then
// the tiers below it; what each outcome costs (counters, warnings, removal of
// damage); the copy of a lower tier's hit into this directory.
#include <fmt/std.h>

#include "tiers/tiers.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// True if `entry`, stored under `key`, carries a valid signature, or no
/// signature is asked for.
bool authentic(const EntrySigner* signer, std::string_view key, const EntryView& entry) {
  return signer == nullptr || signed_by(*signer, key, entry);
}

}  // namespace

Lookup Tiers::find(const Caller& caller, const std::string& key, Judge judge, DecodedResult* shared) {
  const std::uint64_t generation = m_database->entry_changes();  // before the read: see HotEntry::generation
  if (const std::shared_ptr<const HotEntry> kept = m_hot.find(key, generation, shared)) {
    // Checked when it was read (checksum, signature): only the caller's judgement is left.
    const std::int64_t now = now_ms();
    const bool was_decoded = shared != nullptr && shared->object != nullptr;
    if (judge(kept->view, now).outcome == Outcome::hit) {
      caller.state->count_hit(kept->view.info.compute_ns);
      HotEntries::count_hit(*kept, now);  // the access time and per-entry count, handed over at the next flush
      if (shared != nullptr && !was_decoded && shared->object != nullptr) {
        m_hot.keep_decoded(*kept, *shared);
      }
      return Lookup{Outcome::hit, key.size() + kept->envelope.size()};
    }
    m_hot.erase(key);  // the database read below says why it no longer serves
  }
  Lookup result;
  std::string detail;
  std::uint64_t compute_ns = 0;
  std::int64_t now = 0;
  auto found = m_database->get_holdable(Family::entries, key, [&](ReadValue& value) {
    std::string_view bytes = value.bytes();
    result.existing_size = key.size() + bytes.size();
    // A first read is not kept: the hot tier is for entries read again. A
    // shared read is, with its decoded result: the next is a hit on it.
    const bool keep = m_hot.admits(key, shared != nullptr);
    // What the entry will cost held: its bytes, and its decoded result's (about as many).
    const std::uint64_t held_size = (key.size() + bytes.size()) * (shared != nullptr ? 2 : 1);
    std::optional<HeldValue> held;  // a large entry the hot tier will keep where it is
    if (keep && value.blob_sized() && m_hot.holds(held_size)) {
      held = value.hold();
      bytes = held->bytes();
    }
    auto entry = read_envelope(bytes);
    if (!entry) {
      detail = entry.failure().message;
      result.outcome = Outcome::damaged;
      return;
    }
    now = now_ms();
    if (!authentic(m_signer.get(), key, entry.value())) {
      result.outcome = Outcome::rejected;
      return;
    }
    Verdict verdict = judge(entry.value(), now);
    result.outcome = verdict.outcome;
    if (result.outcome != Outcome::hit) {
      detail = std::move(verdict.detail);
      return;
    }
    compute_ns = entry->info.compute_ns;
    const DecodedResult* decoded = shared != nullptr && shared->object != nullptr ? shared : nullptr;
    if (held) {
      m_hot.insert_held(key, std::move(*held), entry.value(), generation, decoded);
    } else if (keep) {
      m_hot.insert(key, bytes, generation, decoded);
    }
  });
  if (!found) {
    if (m_reports.first_report_for(key)) {
      warn("cannot read a result of {} (version {}): {}; computing it", caller.name, caller.version,
           found.failure().message);
    }
    result.outcome = Outcome::unreadable;
    return result;
  }
  if (result.outcome == Outcome::hit) {
    m_policy->record_hit(*caller.state, key, compute_ns, now);
  } else {
    settle_miss(caller, key, result, detail);
  }
  return result;
}

void Tiers::settle_miss(const Caller& caller, const std::string& key, Lookup& result, const std::string& detail) {
  const bool removable = writable();
  switch (result.outcome) {
    case Outcome::expired: m_policy->record_expired_read(*caller.state); return;
    case Outcome::rejected:
      m_policy->record_rejected(*caller.state);
      m_reports.rejected(caller.name);
      return;
    case Outcome::changed_layout:
      m_policy->record_changed_layout(*caller.state);
      if (m_reports.first_report_for(fmt::format("changed layout\n{}\n{}", caller.name, caller.version))) {
        warn("a stored result of {} (version {}) in {} does not fit the current result type ({}): the type is the "
             "same but its layout changed (fields added, removed or retyped in its serialization). Bump `version` "
             "whenever a result type changes; fields that only swapped places are found by MEMOSTORE_MODE=check. "
             "{}omputing the result again (later entries of {} like it are counted as changed_layout, not reported)",
             caller.name, caller.version, dir(), detail, removable ? "Removed it and c" : "C", caller.name);
      }
      break;
    case Outcome::damaged:
      // A removed entry seen damaged again was damaged again: a new warning.
      // One that stays (readonly) is reported once.
      if (removable || m_reports.first_report_for(key)) {
        warn("damaged entry of {} (version {}) in {}: {}; {}computing the result again", caller.name, caller.version,
             dir(), detail, removable ? "removed it and " : "");
      }
      break;
    default: return;  // absent, or another call's or type's entry: the new result replaces it
  }
  if (removable) {
    remove_damaged(caller, key, *result.existing_size);
    result.existing_size.reset();
  }
}

void Tiers::remove_damaged(const Caller& caller, const std::string& key, std::uint64_t size) {
  Batch batch(*m_database);
  const LiveChange change = m_policy->stage_remove(batch, *caller.state, key, size, std::nullopt);
  (void)commit(batch, change);  // best effort: the recomputed result overwrites it anyway
}

Outcome Tiers::check_lower(const std::string& key, std::string_view bytes, Judge judge, std::int64_t now,
                           EntryInfo& info) const {
  auto entry = read_envelope(bytes);
  if (!entry) {
    return Outcome::damaged;
  }
  if (!authentic(m_signer.get(), key, entry.value())) {
    return Outcome::rejected;
  }
  info = entry->info;
  return judge(entry.value(), now).outcome;
}

void Tiers::take_lower_hit(const Caller& caller, const std::string& key, std::string_view bytes,
                           const EntryInfo& info, std::int64_t now, const Lookup& last,
                           std::string_view inputs_record) {
  m_policy->record_hit(*caller.state, key, info.compute_ns, now);
  if (writable()) {
    store_locally(caller, key, bytes, info, Replacing{true, last.existing_size}, inputs_record, Origin::lower_tier);
  }
}

bool Tiers::find_lower(const Caller& caller, const std::string& key, Judge judge, const Lookup& last,
                       std::string_view inputs_record) {
  if (find_in_fallbacks(caller, key, judge, last, inputs_record)) {
    return true;
  }
  if (m_remote == nullptr) {
    return false;
  }
  std::optional<std::string> bytes = m_remote->get(key);
  if (!bytes) {
    return false;
  }
  const std::int64_t now = now_ms();
  EntryInfo info;
  const Outcome outcome = check_lower(key, *bytes, judge, now, info);
  if (outcome == Outcome::expired) {
    return false;
  }
  if (outcome != Outcome::hit) {
    m_remote->record_rejected();
    if (m_reports.first_report_for(key)) {
      warn("an entry of {} (version {}) from the remote tier failed its checks; computing it", caller.name,
           caller.version);
    }
    return false;
  }
  take_lower_hit(caller, key, *bytes, info, now, last, inputs_record);
  return true;
}

bool Tiers::find_in_fallbacks(const Caller& caller, const std::string& key, Judge judge, const Lookup& last,
                              std::string_view inputs_record) {
  for (const std::unique_ptr<Database>& fallback : m_fallbacks) {
    Outcome outcome = Outcome::absent;
    auto read = fallback->get(Family::entries, key, [&](std::string_view bytes) {
      const std::int64_t now = now_ms();
      EntryInfo info;
      outcome = check_lower(key, bytes, judge, now, info);
      if (outcome == Outcome::hit) {
        m_policy->record_fallback_hit(*caller.state);
        take_lower_hit(caller, key, bytes, info, now, last, inputs_record);  // copies while the read pins it
      }
    });
    if (!read) {
      if (m_reports.first_report_for(key)) {
        warn("cannot read a result of {} (version {}) from the fallback cache {}: {}; looking further", caller.name,
             caller.version, fallback->dir(), read.failure().message);
      }
      continue;
    }
    if (outcome == Outcome::hit) {
      return true;
    }
    if (outcome == Outcome::rejected) {
      m_policy->record_rejected(*caller.state);
    }
    if ((outcome == Outcome::rejected || outcome == Outcome::damaged) && m_reports.first_report_for(key)) {
      warn("an entry of {} (version {}) in the fallback cache {} failed its checks ({}); looking further",
           caller.name, caller.version, fallback->dir(),
           outcome == Outcome::rejected ? "no valid signature for this store's secret" : "damaged");
    }
  }
  return false;
}

bool Tiers::read_stored(const std::string& key, Judge judge,
                        FunctionRef<void(const EntryView& entry, std::uint64_t size)> use) {
  auto found = m_database->get(Family::entries, key, [&](std::string_view bytes) {
    auto entry = read_envelope(bytes);
    if (entry && authentic(m_signer.get(), key, entry.value()) &&
        judge(entry.value(), now_ms()).outcome == Outcome::hit) {
      use(entry.value(), key.size() + bytes.size());
    }
  });
  return static_cast<bool>(found);
}

}  // namespace memostore::detail
