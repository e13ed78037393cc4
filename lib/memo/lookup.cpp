#include "memo/lookup.hpp"

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "policy/expiry.hpp"
#include "store/mode_rules.hpp"
#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// Removes a damaged entry with its bookkeeping; best effort (the recomputed
/// result overwrites it anyway).
void remove_damaged(const MemoCore& memo, const std::string& key, std::uint64_t size) {
  StoreCore& store = *memo.store().core();
  Batch batch(*store.database());
  const LiveChange change = store.policy()->stage_remove(batch, *memo.state(), key, size, std::nullopt);
  (void)store.policy()->commit(batch, change);
}

/// The version of another entry of this function, if any is stored.
std::optional<std::uint32_t> other_version(const MemoCore& memo) {
  std::optional<std::uint32_t> found;
  (void)memo.store().core()->database()->for_each(
      Family::meta, function_prefix(memo.name()), [&](std::string_view meta_key, std::string_view) {
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
  (void)memo.store().core()->database()->for_each(
      Family::entries, version_prefix(memo.name(), memo.version()), [&](std::string_view, std::string_view bytes) {
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
  (void)memo.store().core()->database()->for_each(
      Family::meta, version_prefix(memo.name(), memo.version()), [&](std::string_view record_key, std::string_view value) {
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

/// A hit on the copy of `key`'s entry in the hot tier, if one is kept and
/// current (`generation`), still valid and decodes: the entry's size, with
/// the hit recorded. Otherwise none, and the caller reads the database (which
/// also says why an entry that is no longer valid is not).
std::optional<std::uint64_t> hit_in_memory(const MemoCore& memo, const std::string& key, std::string_view args,
                                           DecodeFn decode, std::uint64_t generation) {
  StoreCore& store = *memo.store().core();
  const std::shared_ptr<const HotEntry> entry = store.hot().find(key, generation);
  if (!entry) {
    return std::nullopt;
  }
  StorePolicy& policy = *store.policy();
  const std::int64_t now = policy.now_ms();
  bool decoded = judge_entry(memo, key, args, entry->view, now, SignatureCheck::done) == Outcome::hit;
  if (decoded) {
    try {
      decode(entry->view.payload);
    } catch (const std::exception&) {  // it decoded when it was read: not for this caller's type after all
      decoded = false;
    }
  }
  if (!decoded) {
    store.hot().erase(key);
    return std::nullopt;
  }
  memo.state()->count_hit(entry->view.info.compute_ns);
  HotEntries::count_hit(*entry, now);  // the access time and per-entry count, taken by the policy's flush
  return key.size() + entry->envelope.size();
}

}  // namespace

Outcome judge_entry(const MemoCore& memo, std::string_view key, std::string_view args, const EntryView& entry,
                    std::int64_t now_ms, SignatureCheck signature) {
  const StoreCore& store = *memo.store().core();
  if (const EntrySigner* signer = store.signer();
      signer != nullptr && signature == SignatureCheck::needed && !signed_by(*signer, key, entry)) {
    return Outcome::rejected;
  }
  if (entry.info.type != memo.type()) {
    return Outcome::other_type;
  }
  if (!arguments_match(entry, args)) {  // the arguments, or their SHA-256 for large ones
    return Outcome::other_arguments;     // never its value
  }
  const auto ttl = store.policy()->ttl_for(*memo.state());
  if (expired(entry.info.expires_ms, now_ms) || (ttl && expired(deadline_ms(entry.info.created_ms, ttl), now_ms))) {
    return Outcome::expired;
  }
  return Outcome::hit;
}

bool read_valid_entry(const MemoCore& memo, const std::string& key, std::string_view args,
                      FunctionRef<void(const EntryView& entry, std::uint64_t size)> use) {
  Database* database = memo.store().core()->database();
  if (database == nullptr) {
    return false;
  }
  auto found = database->get(Family::entries, key, [&](std::string_view bytes) {
    auto entry = read_envelope(bytes);
    if (entry && judge_entry(memo, key, args, entry.value(), memo.store().core()->policy()->now_ms()) == Outcome::hit) {
      use(entry.value(), key.size() + bytes.size());
    }
  });
  return static_cast<bool>(found);
}

Lookup lookup(const MemoCore& memo, const std::string& key, std::string_view args, DecodeFn decode) {
  StoreCore& store = *memo.store().core();
  StorePolicy& policy = *store.policy();
  Database& database = *store.database();
  const std::uint64_t generation = database.entry_changes();  // before the read: see HotEntry::generation
  if (auto size = hit_in_memory(memo, key, args, decode, generation)) {
    return Lookup{Outcome::hit, size};
  }
  Lookup result;
  std::string damage;
  std::uint64_t compute_ns = 0;
  std::int64_t now = 0;
  auto found = database.get_holdable(Family::entries, key, [&](ReadValue& value) {
    std::string_view bytes = value.bytes();
    result.existing_size = key.size() + bytes.size();
    std::optional<HeldValue> held;  // a large entry the hot tier will keep where it is
    if (value.blob_sized() && store.hot().holds(key.size() + bytes.size())) {
      held = value.hold();
      bytes = held->bytes();
    }
    auto entry = read_envelope(bytes);
    if (!entry) {
      damage = entry.failure().message;
      result.outcome = Outcome::damaged;
      return;
    }
    now = policy.now_ms();
    result.outcome = judge_entry(memo, key, args, entry.value(), now);
    if (result.outcome != Outcome::hit) {
      return;
    }
    try {
      decode(entry->payload);
      result.outcome = Outcome::hit;
      compute_ns = entry->info.compute_ns;
      if (held) {
        store.hot().insert_held(key, std::move(*held), entry.value(), generation);
      } else {
        store.hot().insert(key, bytes, generation);
      }
    } catch (const std::exception& e) {  // cereal::Exception, std::length_error, the type's own load code
      // Whole (checksum) and of the same types (fingerprint), yet not
      // decodable: the result type's layout changed, not the bytes.
      damage = e.what();
      result.outcome = Outcome::changed_layout;
    }
  });
  if (!found) {
    if (store.first_report_for(key)) {
      warn("cannot read a result of {} (version {}): {}; computing it", memo.name(), memo.version(),
           found.failure().message);
    }
    result.outcome = Outcome::unreadable;
    return result;
  }
  if (result.outcome == Outcome::hit) {
    policy.record_hit(*memo.state(), key, compute_ns, now);
  } else if (result.outcome == Outcome::expired) {
    policy.record_expired_read(*memo.state());
  } else if (result.outcome == Outcome::rejected) {
    policy.record_rejected(*memo.state());
    store.report_rejected(memo.name());
  } else if (result.outcome == Outcome::changed_layout) {
    policy.record_changed_layout(*memo.state());
    const bool removable = writes_results(memo.store().mode());
    if (store.first_report_for(fmt::format("changed layout\n{}\n{}", memo.name(), memo.version()))) {
      warn("a stored result of {} (version {}) in {} does not fit the current result type ({}): the type is the "
           "same but its layout changed (fields added, removed or retyped in its serialization). Bump `version` "
           "whenever a result type changes; fields that only swapped places are found by MEMOSTORE_MODE=check. "
           "{}omputing the result again (later entries of {} like it are counted as changed_layout, not reported)",
           memo.name(), memo.version(), database.dir(), damage, removable ? "Removed it and c" : "C", memo.name());
    }
    if (removable) {
      remove_damaged(memo, key, *result.existing_size);
      result.existing_size.reset();
    }
  } else if (result.outcome == Outcome::damaged) {
    const bool removable = writes_results(memo.store().mode());
    // A removed entry seen damaged again was damaged again: a new warning.
    // One that stays (readonly) is reported once.
    if (removable || store.first_report_for(key)) {
      warn("damaged entry of {} (version {}) in {}: {}; {}computing the result again", memo.name(), memo.version(),
           database.dir(), damage, removable ? "removed it and " : "");
    }
    if (removable) {
      remove_damaged(memo, key, *result.existing_size);
      result.existing_size.reset();
    }
  }
  return result;
}

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
        if (memo.store().core()->policy()->was_evicted(key)) {
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
