#include <memostore/detail/memo_core.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <variant>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/input_records.hpp"
#include "codec/key.hpp"
#include "memo/check.hpp"
#include "memo/lookup.hpp"
#include "memo/process_claim.hpp"
#include "policy/expiry.hpp"
#include "store/mode_rules.hpp"
#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// How often a process waiting for another's computation looks for its result.
constexpr std::chrono::milliseconds k_claim_poll{50};

/// Decodes a result another thread computed; false (with a warning) if it does not decode.
bool decode_shared(const MemoCore& memo, std::string_view payload, DecodeFn decode) {
  try {
    decode(payload);
    return true;
  } catch (const std::exception& e) {
    warn("a freshly computed result of {} (version {}) does not decode ({}); computing it in this thread",
         memo.name(), memo.version(), e.what());
    return false;
  }
}

/// Writes the entry with its bookkeeping in one batch, then applies the size
/// budgets. `computed`: false for an entry taken from the remote tier (not a
/// store, no compute time of this process).
void store_entry(const MemoCore& memo, const std::string& key, const std::string& envelope, const EntryInfo& info,
                 std::optional<std::uint64_t> replaced_size, const std::vector<RecordedInput>& inputs,
                 bool computed = true) {
  StoreCore& store = *memo.store().core();
  StorePolicy& policy = *store.policy();
  // Nothing to replace if the lookup found nothing (refresh and check modes do not look).
  const bool looked = !computes_every_call(memo.store().mode());
  const Overwrites overwrites = replaced_size || !looked ? Overwrites::maybe : Overwrites::no;
  if (!looked && !replaced_size) {
    replaced_size = policy.stored_size(key);  // the read that would have told was skipped
  }
  Batch batch(*store.database());
  batch.put(Family::entries, key, envelope, overwrites);
  const EntryMeta meta{key.size() + envelope.size(), info.created_ms, info.expires_ms};
  LiveChange change = policy.stage_store(batch, *memo.state(), key, meta, replaced_size,
                                         computed ? info.compute_ns : 0,
                                         inputs.empty() ? std::string() : encode_inputs(inputs));
  if (!computed) {
    change.stores = 0;
  }
  if (auto written = policy.commit(batch, change); !written) {
    store.report_write_failure(fmt::format("a result of {}", memo.name()), written.failure());
    return;
  }
  policy.enforce_budgets(*memo.state());
}

/// A lease on a key in the remote tier (cross-machine single flight), given
/// up when it goes out of scope: after the holder's result was sent, or when
/// its function threw.
class RemoteLease {
 public:
  RemoteLease(RemoteTier& remote, std::string key) : m_remote(&remote), m_key(std::move(key)) {}
  ~RemoteLease() { m_remote->release_lease(m_key); }
  RemoteLease(const RemoteLease&) = delete;
  RemoteLease& operator=(const RemoteLease&) = delete;

 private:
  RemoteTier* m_remote;
  std::string m_key;
};

/// A computed result as a finished envelope, ready to store and send.
struct NewEntry {
  std::shared_ptr<const std::string> envelope;
  EntryInfo info;
  bool finished = false;  // false: it could not be signed, so it is returned but not kept
};

/// Runs the user's function and builds the envelope of its result; none if
/// the result could not be encoded (it is returned but not stored). Throws
/// what the function throws.
std::optional<NewEntry> compute_entry(const MemoCore& memo, const std::string& key, std::string_view args,
                                      ComputeFn compute) {
  StoreCore& store = *memo.store().core();
  std::string envelope;
  start_envelope(envelope, args);
  const auto started = std::chrono::steady_clock::now();
  if (!compute(envelope)) {
    return std::nullopt;
  }
  NewEntry entry;
  entry.info.created_ms = store.policy()->now_ms();
  entry.info.expires_ms = deadline_ms(entry.info.created_ms, store.policy()->ttl_for(*memo.state()));
  entry.info.compute_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
  entry.info.type = memo.type();
  entry.finished = finish_envelope(envelope, entry.info, store.signer(), key);
  entry.envelope = std::make_shared<const std::string>(std::move(envelope));
  return entry;
}

/// Keeps a computed entry: stores it locally (replacing `replaced_size`
/// bytes, if known) and sends it to the remote tier (at once when `lease` is
/// held: other machines wait for it).
void keep_entry(const MemoCore& memo, const std::string& key, const NewEntry& entry,
                std::optional<std::uint64_t> replaced_size, const std::vector<RecordedInput>& inputs,
                const std::optional<RemoteLease>& lease) {
  StoreCore& store = *memo.store().core();
  if (!entry.finished) {
    store.report_write_failure(fmt::format("a result of {}", memo.name()),
                               Failure{ErrorCode::io, "OpenSSL could not sign it"});
    return;
  }
  if (!writes_results(memo.store().mode())) {
    return;
  }
  store_entry(memo, key, *entry.envelope, entry.info, replaced_size, inputs);
  if (RemoteTier* remote = store.remote()) {
    const EntryInfo& info = entry.info;
    const auto ttl = info.expires_ms != 0 ? Duration(info.expires_ms - info.created_ms) : remote->settings().default_ttl;
    if (lease) {
      remote->put_now(key, *entry.envelope, ttl);
    } else {
      remote->put(key, entry.envelope, ttl);
    }
  }
}

/// Computes the result, stores it and hands it to waiting threads; sends it
/// to the remote tier (at once when `lease` is held: other machines wait for it).
void compute_and_store(const MemoCore& memo, const std::string& key, std::string_view args,
                       const std::vector<RecordedInput>& inputs, ComputeFn compute, InflightTable::Ticket& ticket,
                       const Lookup& last, const std::optional<RemoteLease>& lease = std::nullopt) {
  StorePolicy& policy = *memo.store().core()->policy();
  policy.record_miss(*memo.state());
  if (policy.settings().explain) {
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
  keep_entry(memo, key, *entry, last.existing_size, inputs, lease);
  const std::string_view payload = finished_payload(*entry->envelope);
  ticket.finish(FlightResult{entry->envelope, payload});
}

/// Check mode: computes the call whose valid entry `stored` is, compares the
/// results' bytes, and on a difference reports it and replaces the entry.
/// The caller returns the fresh result. Throws what the function throws.
void check_stored(const MemoCore& memo, const std::string& key, std::string_view args,
                  const std::vector<RecordedInput>& inputs, ComputeFn compute, const StoredResult& stored) {
  const std::optional<NewEntry> entry = compute_entry(memo, key, args, compute);
  if (!entry) {
    return;  // not encodable now: nothing to compare (report_unstorable said so)
  }
  const std::string_view fresh = finished_payload(*entry->envelope);
  const std::optional<std::size_t> difference = first_difference(stored.payload, fresh);
  memo.store().core()->policy()->record_check(*memo.state(), difference.has_value());
  if (difference) {
    report_stale(memo, key, *difference, stored.payload.size(), fresh.size());
    keep_entry(memo, key, *entry, stored.size, inputs, std::nullopt);
  }
}

/// Asks the remote tier for the entry under `key`: one that passes every
/// check a local entry does is decoded, stored locally and counted as a hit.
/// True if it was; otherwise the caller computes.
bool result_from_remote(const MemoCore& memo, const std::string& key, std::string_view args,
                        const std::vector<RecordedInput>& inputs, DecodeFn decode, const Lookup& last) {
  StoreCore& store = *memo.store().core();
  RemoteTier* remote = store.remote();
  if (remote == nullptr) {
    return false;
  }
  std::optional<std::string> bytes = remote->get(key);
  if (!bytes) {
    return false;
  }
  StorePolicy& policy = *store.policy();
  const std::int64_t now = policy.now_ms();
  auto entry = read_envelope(*bytes);
  const Outcome outcome = entry ? judge_entry(memo, key, args, entry.value(), now) : Outcome::damaged;
  if (outcome == Outcome::expired) {
    return false;
  }
  bool decoded = outcome == Outcome::hit;
  if (decoded) {
    try {
      decode(entry->payload);
    } catch (const std::exception&) {
      decoded = false;
    }
  }
  if (!decoded) {
    remote->record_rejected();
    if (store.first_report_for(key)) {
      warn("an entry of {} (version {}) from the remote tier failed its checks; computing it", memo.name(),
           memo.version());
    }
    return false;
  }
  policy.record_hit(*memo.state(), key, entry->info.compute_ns, now);
  if (writes_results(memo.store().mode())) {
    store_entry(memo, key, *bytes, entry->info, last.existing_size, inputs, false);
  }
  return true;
}

/// Cross-process single flight: claims `key` for this process, or, while
/// another process holds the claim, waits for its result (catching up with
/// the store) until it arrives, the holder dies or finishes without it, or
/// the lease runs out. True if the result was found and decoded; otherwise
/// the caller computes, holding `claim` if it got one.
bool result_from_other_process(const MemoCore& memo, const std::string& key, std::string_view args, DecodeFn decode,
                               std::optional<ProcessClaim>& claim) {
  StoreCore& store = *memo.store().core();
  StorePolicy& policy = *store.policy();
  const auto found = [&] {
    (void)store.database()->catch_up();
    return lookup(memo, key, args, decode).outcome == Outcome::hit;
  };
  const std::int64_t give_up_ms = policy.now_ms() + memo.inflight_lease().count();
  bool seen_holder = false;
  for (;;) {
    auto tried = ProcessClaim::try_claim(store.dir(), key, seen_holder);
    if (!tried) {
      return false;  // no claim file possible (read-only folder?): compute unclaimed
    }
    if (auto* taken = std::get_if<ProcessClaim>(&*tried)) {
      const bool after_holder = taken->after_holder();
      claim.emplace(std::move(*taken));
      if (!seen_holder) {
        return false;
      }
      // A holder that finished stored its result; from another secondary it
      // reaches this process within two catch-up rounds.
      const auto deadline = std::chrono::steady_clock::now() + (after_holder ? 5 * k_catch_up_interval : Duration(0));
      for (;;) {
        if (found()) {
          return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          return false;
        }
        std::this_thread::sleep_for(k_claim_poll);
      }
    }
    const long holder = std::get<ProcessClaim::Held>(*tried).pid;
    if (!seen_holder) {
      log(LogLevel::debug, "{} (version {}): waiting for process {}, which is computing the same call", memo.name(),
          memo.version(), holder);
      seen_holder = true;
    }
    if (policy.now_ms() >= give_up_ms) {
      warn("{} (version {}): process {} has been computing the same call for longer than inflight_lease; "
           "computing it here too",
           memo.name(), memo.version(), holder);
      return false;
    }
    std::this_thread::sleep_for(k_claim_poll);
    if (found()) {
      return true;
    }
  }
}

/// Cross-machine single flight through the remote tier: takes the lease on
/// `key`, or, while another machine holds it, polls the remote tier for its
/// result until it arrives, the lease lapses or is given up without it, or
/// inflight_lease runs out. True if the result was found; otherwise the
/// caller computes, holding `lease` if it got it.
bool result_from_other_machine(const MemoCore& memo, const std::string& key, std::string_view args,
                               const std::vector<RecordedInput>& inputs, DecodeFn decode, const Lookup& last,
                               std::optional<RemoteLease>& lease) {
  RemoteTier* remote = memo.store().core()->remote();
  if (remote == nullptr || remote->settings().read_only) {
    return false;
  }
  StorePolicy& policy = *memo.store().core()->policy();
  const std::int64_t give_up_ms = policy.now_ms() + memo.inflight_lease().count();
  bool seen_holder = false;
  for (;;) {
    auto attempt = remote->try_lease(key);
    if (!attempt) {
      return false;  // the remote tier is unavailable: compute without a lease
    }
    if (attempt->taken) {
      lease.emplace(*remote, key);
      // A holder that gave the lease up (between our remote lookup and now,
      // or while we waited) sent its result just before.
      return result_from_remote(memo, key, args, inputs, decode, last);
    }
    if (attempt->foreign) {  // not set by memostore (longer than its own leases, or no expiry): planted
      if (attempt->first_foreign) {
        warn("{} (version {}): ignored a lease on this call in the remote cache that memostore did not set (it "
             "lasts longer than memostore's {} s leases, or forever); computing it here. Later ones are not reported",
             memo.name(), memo.version(), k_remote_lease.count() / 1000);
      }
      return false;
    }
    if (!seen_holder) {
      log(LogLevel::debug, "{} (version {}): waiting for {}, which is computing the same call (remote lease)",
          memo.name(), memo.version(), attempt->holder);
      seen_holder = true;
    }
    if (policy.now_ms() >= give_up_ms) {
      warn("{} (version {}): {} has been computing the same call for longer than inflight_lease; computing it "
           "here too",
           memo.name(), memo.version(), attempt->holder);
      return false;
    }
    std::this_thread::sleep_for(k_claim_poll);
    if (result_from_remote(memo, key, args, inputs, decode, last)) {
      return true;
    }
  }
}

}  // namespace

MemoCore::MemoCore(Store store, std::string name, const MemoPolicy& policy, Hash128 type)
    : m_store(std::move(store)),
      m_name(std::move(name)),
      m_version(policy.version),
      m_type(type),
      m_share_inflight(policy.share_inflight),
      m_inflight_lease(policy.inflight_lease),
      m_depends_on(policy.depends_on) {
  value_or_throw(check_function_name(m_name));
  m_key_prefix = version_prefix(m_name, m_version);
  if (StorePolicy* store_policy = m_store.core()->policy()) {
    m_state = &store_policy->function(m_name);
    m_state->set_limits(FunctionLimits{policy.ttl, policy.max_entries, policy.max_bytes});
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
  StorePolicy& policy = *m_store.core()->policy();
  auto compute_uncached = [&] {
    policy.record_miss(*m_state);
    std::string unused;
    compute(unused);
  };
  if (args.size() > k_max_arguments_size) {
    warn("the arguments of a call to {} (version {}) encode to {} bytes, more than an entry can hold; "
         "computing it without the cache",
         m_name, m_version, args.size());
    compute_uncached();
    return;
  }
  InflightTable& inflight = m_store.core()->inflight();
  const std::string key = key_for(args);
  if (should_check(*this)) {
    if (const std::optional<StoredResult> stored = stored_result(*this, key, args)) {
      check_stored(*this, key, args, inputs, compute, *stored);
      return;
    }
  }
  const bool use_hits = !computes_every_call(m_store.mode());
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t epoch = inflight.epoch();
    Lookup last;
    if (use_hits && (last = lookup(*this, key, args, decode)).outcome == Outcome::hit) {
      return;
    }
    InflightTable::Ticket ticket = inflight.join(key);
    if (ticket.leader()) {
      // A flight that ended between our lookup and join may have stored it.
      if (use_hits && inflight.epoch() != epoch && (last = lookup(*this, key, args, decode)).outcome == Outcome::hit) {
        return;  // the ticket releases any waiters to look up themselves
      }
      if (use_hits && result_from_remote(*this, key, args, inputs, decode, last)) {
        return;  // waiters look it up locally
      }
      std::optional<ProcessClaim> claim;  // held until the result is stored
      if (m_share_inflight && use_hits && writes_results(m_store.mode()) &&
          result_from_other_process(*this, key, args, decode, claim)) {
        return;
      }
      std::optional<RemoteLease> lease;  // likewise, across machines
      if (m_share_inflight && use_hits && writes_results(m_store.mode()) &&
          result_from_other_machine(*this, key, args, inputs, decode, last, lease)) {
        return;
      }
      compute_and_store(*this, key, args, inputs, compute, ticket, last, lease);
      return;
    }
    const FlightResult shared = ticket.wait();  // rethrows the leader's exception
    if (shared.envelope && decode_shared(*this, shared.payload, decode)) {
      policy.record_hit(*m_state, key, 0, policy.now_ms());  // computed once, for both callers
      return;
    }
    if (!shared.envelope && attempt == 0) {
      continue;  // the leader found it stored, or could not encode it: look again
    }
    compute_uncached();
    return;
  }
}

bool MemoCore::cached(std::string_view args) const {
  bool valid = false;
  (void)read_valid_entry(*this, key_for(args), args, [&valid](const EntryView&, std::uint64_t) { valid = true; });
  return valid;
}

void MemoCore::forget(std::string_view args) const {
  if (!writes_results(m_store.mode())) {
    return;
  }
  StoreCore& store = *m_store.core();
  const std::string key = key_for(args);
  const auto size = store.policy()->stored_size(key);
  if (!size) {
    value_or_throw(store.database()->remove(Family::entries, key));  // no bookkeeping: nothing to count
    return;
  }
  Batch batch(*store.database());
  const LiveChange change = store.policy()->stage_remove(batch, *m_state, key, *size, std::nullopt);
  value_or_throw(store.policy()->commit(batch, change));
}

void MemoCore::clear() const {
  if (writes_results(m_store.mode())) {
    (void)value_or_throw(m_store.core()->policy()->clear(m_name));
  }
}

void MemoCore::report_unstorable(std::string_view reason) const {
  warn("a result of {} (version {}) cannot be encoded ({}); it was returned but not stored", m_name, m_version,
       reason);
}

}  // namespace memostore::detail
