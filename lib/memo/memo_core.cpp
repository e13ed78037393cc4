#include <memostore/detail/memo_core.hpp>

#include <chrono>
#include <optional>
#include <typeinfo>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "memo/check.hpp"
#include "memo/explain.hpp"
#include "memo/judge.hpp"
#include "memo/refresh.hpp"
#include "policy/expiry.hpp"
#include "store/mode_rules.hpp"
#include "store/store_core.hpp"
#include "tiers/shared_flight.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// Decodes a result another thread computed; false (with a warning) if it does not decode.
bool decode_flight(const MemoCore& memo, std::string_view payload, DecodeFn decode) {
  try {
    decode(payload);
    return true;
  } catch (const std::exception& e) {
    warn("a freshly computed result of {} (version {}) does not decode ({}); computing it in this thread",
         memo.name(), memo.version(), e.what());
    return false;
  }
}

/// Runs the user's function and builds the envelope of its result; none if
/// the result could not be encoded (it is returned but not stored). Throws
/// what the function throws.
std::optional<NewEntry> compute_entry(const MemoCore& memo, const std::string& key, std::string_view args,
                                      ComputeFn compute) {
  Tiers& tiers = tiers_of(memo);
  std::string envelope;
  start_envelope(envelope, args);
  const auto started = std::chrono::steady_clock::now();
  if (!compute(envelope)) {
    return std::nullopt;
  }
  const auto compute_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
  memo.state()->latest_compute_ns.store(compute_ns, std::memory_order_relaxed);
  return finish_entry(tiers, *memo.state(), memo.type(), key, std::move(envelope), compute_ns);
}

/// Computes the result, keeps it down the tiers and hands it to waiting
/// threads. `claims`: what this process holds so that other processes and
/// machines wait for it.
void compute_and_keep(const MemoCore& memo, const std::string& key, std::string_view args,
                      const std::vector<RecordedInput>& inputs, ComputeFn compute, InflightTable::Ticket& ticket,
                      const Lookup& last, const Claims& claims, DecodedResult* shared) {
  Tiers& tiers = tiers_of(memo);
  tiers.count_miss(caller_of(memo));
  if (shared != nullptr) {
    *shared = {};  // the caller holds the result it computes; an older copy's decoded one is not it
  }
  if (tiers.settings().explain) {
    explain_miss(memo, key, args, inputs, last, memo.store().mode() == Mode::refresh);
  }
  std::optional<NewEntry> entry;
  try {
    entry = compute_entry(memo, key, args, compute);
  } catch (...) {  // the user's exception: every waiter gets it, nothing is stored
    ticket.fail(std::current_exception());
    throw;
  }
  if (!entry) {
    ticket.finish(FlightResult{});
    return;
  }
  // Refresh and check modes do not look: what the entry replaces is unknown.
  const Replacing replacing{!computes_every_call(memo.store().mode()), last.existing_size};
  tiers.keep(caller_of(memo), key, *entry, replacing, inputs_record(inputs), claims);
  const std::string_view payload = finished_payload(*entry->envelope);
  if (shared != nullptr) {
    shared->digest = finished_digest(*entry->envelope);
  }
  ticket.finish(FlightResult{entry->envelope, payload});
}

/// Check mode: computes the call whose valid entry `stored` is, compares the
/// results' bytes, and on a difference reports it and replaces the entry.
/// The caller returns the fresh result. Throws what the function throws.
void check_stored(const MemoCore& memo, const std::string& key, std::string_view args,
                  const std::vector<RecordedInput>& inputs, ComputeFn compute, const StoredResult& stored,
                  DecodedResult* shared) {
  const std::optional<NewEntry> entry = compute_entry(memo, key, args, compute);
  if (!entry) {
    return;  // not encodable now: nothing to compare (report_unstorable said so)
  }
  if (shared != nullptr) {
    *shared = {};  // the caller holds the result
    shared->digest = finished_digest(*entry->envelope);
  }
  const std::string_view fresh = finished_payload(*entry->envelope);
  const std::optional<std::size_t> difference = first_difference(stored.payload, fresh);
  Tiers& tiers = tiers_of(memo);
  tiers.count_check(caller_of(memo), difference.has_value());
  if (difference) {
    report_stale(memo, key, *difference, stored.payload.size(), fresh.size());
    tiers.keep(caller_of(memo), key, *entry, Replacing{true, stored.size}, inputs_record(inputs), Claims{});
  }
}

/// One memoized call (MemoCore::call), decoding a hit through `decode`;
/// with `shared` (MemoCore::call_shared, decoding into objects of `type`),
/// also the hit's decoded result, shared with the hot tier, and the
/// result's digest.
void memoized_call(const MemoCore& memo, std::string_view args, const std::vector<RecordedInput>& inputs,
                   DecodeFn decode, ComputeFn compute, MakeRefreshFn make_refresh, DecodedResult* shared,
                   const std::type_info* type) {
  Tiers& tiers = tiers_of(memo);
  const Caller caller = caller_of(memo);
  auto compute_uncached = [&] {
    tiers.count_miss(caller);
    std::string encoded;
    const bool encoded_ok = compute(encoded);
    if (shared != nullptr) {
      *shared = {};  // the caller holds the result
      if (encoded_ok) {
        shared->digest = result_digest_of(encoded);
      }
    }
  };
  if (args.size() > k_max_arguments_size) {
    warn("the arguments of a call to {} (version {}) encode to {} bytes, more than an entry can hold; "
         "computing it without the cache",
         memo.name(), memo.version(), args.size());
    compute_uncached();
    return;
  }
  InflightTable& inflight = core_of(memo.store())->inflight();
  const std::string key = memo.key_for(args);
  if (should_check(memo)) {
    if (const std::optional<StoredResult> stored = stored_result(memo, key, args)) {
      check_stored(memo, key, args, inputs, compute, *stored, shared);
      return;
    }
  }
  // A hit's age, for refresh_after: the judge sees the entry, the caller
  // starts the refresh once the hit is counted.
  std::optional<std::pair<std::int64_t, std::int64_t>> served;  // created, now
  const auto judge = [&](const EntryView& entry, std::int64_t now) {
    if (shared != nullptr && shared->object != nullptr && *shared->type != *type) {
      *shared = {};  // decoded by a caller of another type of the same name: never handed out as ours
    }
    if (shared != nullptr && shared->stale) {
      // Decoded from an older copy of this key's entry: the result still, if
      // the entry read now holds the same bytes.
      const Hash128 digest = result_digest(entry);
      if (shared->digest != digest) {
        *shared = {};
      }
      shared->stale = false;
    }
    const bool kept_decoded = shared != nullptr && shared->object != nullptr;  // with its digest
    Verdict verdict = judge_and_decode(memo, args, entry, now, decode);
    if (verdict.outcome != Outcome::hit) {
      if (shared != nullptr) {
        *shared = {};  // the next entry judged (another tier's) starts afresh
      }
      return verdict;
    }
    if (shared != nullptr && !kept_decoded) {
      // Decoded just now: the digest is checked against the bytes once, so
      // a Shared never carries one that is not its result's (it keys calls
      // downstream). One XXH3-128 pass, next to the decode's copy.
      const Hash128 digest = result_digest_of(entry.payload);
      if (entry.result_digest && *entry.result_digest != digest) {
        *shared = {};
        return Verdict{Outcome::damaged, "its stored result digest is not the digest of its result"};
      }
      shared->digest = digest;
    }
    if (memo.refresh_after()) {
      served.emplace(entry.info.created_ms, now);
    }
    return verdict;
  };
  const bool use_hits = !computes_every_call(memo.store().mode());
  const bool refreshes = use_hits && memo.refresh_after() && tiers.writable();
  const auto hit = [&] {
    if (refreshes && served) {
      refresh_if_stale(memo, key, args, inputs, served->first, served->second, make_refresh);
    }
  };
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t epoch = inflight.epoch();
    Lookup last;
    if (use_hits && (last = tiers.find(caller, key, judge, shared)).outcome == Outcome::hit) {
      hit();
      return;
    }
    InflightTable::Ticket ticket = inflight.join(key);
    if (ticket.leader()) {
      // A flight that ended between our lookup and join may have stored it.
      if (use_hits && inflight.epoch() != epoch &&
          (last = tiers.find(caller, key, judge, shared)).outcome == Outcome::hit) {
        hit();
        return;  // the ticket releases any waiters to look up themselves
      }
      const std::string record = inputs_record(inputs);
      if (use_hits && tiers.find_lower(caller, key, judge, last, record)) {
        hit();   // an old entry of a lower tier (copied here as it is) is refreshed too
        return;  // waiters look it up locally
      }
      Claims claims;  // held until the result is kept
      const std::optional<Tiers::ClaimReach> reach = use_hits ? claim_reach(memo) : std::nullopt;
      if (reach && tiers.found_elsewhere_or_claim(caller, key, *reach, memo.inflight_lease(), judge, last, record,
                                                  claims)) {
        return;
      }
      compute_and_keep(memo, key, args, inputs, compute, ticket, last, claims, shared);
      return;
    }
    const FlightResult flight = ticket.wait();  // rethrows the leader's exception
    if (shared != nullptr) {
      *shared = {};  // an older copy's decoded result, if any, is not the leader's
    }
    if (flight.envelope && decode_flight(memo, flight.payload, decode)) {
      if (shared != nullptr) {
        shared->digest = finished_digest(*flight.envelope);
      }
      tiers.count_hit(caller, key);  // computed once, for both callers
      return;
    }
    if (!flight.envelope && attempt == 0) {
      continue;  // the leader found it stored, or could not encode it: look again
    }
    compute_uncached();
    return;
  }
}

}  // namespace

MemoCore::MemoCore(Store store, std::string name, const MemoPolicy& policy, Hash128 type)
    : m_store(std::move(store)), m_name(std::move(name)), m_options(policy), m_type(type) {
  value_or_throw(check_function_name(m_name));
  m_key_prefix = version_prefix(m_name, m_options.version);
  if (Tiers* tiers = core_of(m_store)->tiers()) {
    m_state = &tiers->function(m_name);
    m_state->set_limits(FunctionLimits{policy.ttl, policy.max_entries, policy.max_bytes});
    if (tiers->writable() && m_store.mode() == Mode::readwrite) {  // for `memostore ls` and `show`
      if (auto noted = tiers->policy().note_refresh_after(m_name, policy.refresh_after); !noted) {
        warn("cannot record refresh_after of {} in {}: {}; `memostore ls` shows its entries without it", m_name,
             m_store.dir(), noted.failure().message);
      }
    }
  }
}

std::string MemoCore::key_for(std::string_view args) const {
  std::string key;
  key.reserve(m_key_prefix.size() + k_key_hash_size);
  key = m_key_prefix;
  append_hash(key, hash_arguments(m_type, args));
  return key;
}

void MemoCore::call(std::string_view args, const std::vector<RecordedInput>& inputs, DecodeFn decode,
                    ComputeFn compute) const {
  call(args, inputs, decode, compute, [] { return OwnedCompute(); });
}

void MemoCore::call(std::string_view args, const std::vector<RecordedInput>& inputs, DecodeFn decode,
                    ComputeFn compute, MakeRefreshFn make_refresh) const {
  memoized_call(*this, args, inputs, decode, compute, make_refresh, nullptr, nullptr);
}

void MemoCore::call_shared(std::string_view args, const std::vector<RecordedInput>& inputs,
                           const std::type_info& type, DecodeSharedFn decode, ComputeFn compute,
                           MakeRefreshFn make_refresh, SharedOutcome& outcome) const {
  DecodedResult shared;
  // A hit the hot tier keeps decoded is judged without decoding again.
  auto decode_once = [&](std::string_view payload) {
    if (shared.object == nullptr) {
      shared.object = decode(payload);
      shared.type = &type;
      shared.bytes = payload.size();
    }
  };
  memoized_call(*this, args, inputs, decode_once, compute, make_refresh, &shared, &type);
  outcome.object = std::move(shared.object);
  outcome.digest = shared.digest;
}

void MemoCore::refresh(std::string_view args, const std::vector<RecordedInput>& inputs, ComputeFn compute) const {
  if (bypass() || args.size() > k_max_arguments_size) {
    std::string unused;
    compute(unused);
    return;
  }
  const std::string key = key_for(args);
  const std::optional<NewEntry> entry = compute_entry(*this, key, args, compute);
  Tiers& tiers = tiers_of(*this);
  if (entry && tiers.writable()) {
    tiers.keep(caller_of(*this), key, *entry, Replacing{}, inputs_record(inputs), Claims{});
    tiers.policy().record_refresh(*m_state, false);
  }
}

bool MemoCore::cached(std::string_view args) const {
  bool valid = false;
  if (bypass()) {
    return valid;
  }
  (void)tiers_of(*this).read_stored(
      key_for(args),
      [&](const EntryView& entry, std::int64_t now) { return Verdict{judge_entry(*this, args, entry, now)}; },
      [&valid](const EntryView&, std::uint64_t) { valid = true; });
  return valid;
}

void MemoCore::forget(std::string_view args) const {
  if (!bypass()) {
    tiers_of(*this).forget(caller_of(*this), key_for(args));
  }
}

void MemoCore::clear() const {
  if (!bypass() && tiers_of(*this).writable()) {
    (void)value_or_throw(tiers_of(*this).clear(m_name));
  }
}

void MemoCore::report_unstorable(std::string_view reason) const {
  warn("a result of {} (version {}) cannot be encoded ({}); it was returned but not stored", m_name, m_options.version,
       reason);
}

}  // namespace memostore::detail
