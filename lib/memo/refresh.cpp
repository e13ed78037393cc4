#include "memo/refresh.hpp"

#include <chrono>
#include <exception>
#include <utility>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/input_records.hpp"
#include "memo/judge.hpp"
#include "policy/expiry.hpp"
#include "store/store_core.hpp"
#include "tiers/shared_flight.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// Everything a background refresh needs, owned: it runs after the call that
/// started it returned. It holds no Store handle, so that it never keeps a
/// store open; `tiers` and `state` are touched only inside the pool's gate,
/// which guarantees the store is still open.
struct RefreshJob {
  Tiers* tiers = nullptr;
  FunctionState* state = nullptr;
  std::string name;
  std::uint32_t version = 0;
  Hash128 type;
  std::string key;
  std::string args;
  std::string inputs_record;
  std::int64_t seen_created_ms = 0;  // the stale entry's: a newer one makes this refresh moot
  std::optional<Tiers::ClaimReach> reach;  // claim_reach(): none, only this process refreshes it once
  OwnedCompute compute;

  Caller caller() const noexcept { return Caller{state, name, version}; }
};

/// True if this directory holds an entry for the job's call newer than the
/// stale one it saw: another process refreshed it meanwhile.
bool newer_stored(const RefreshJob& job) {
  Tiers& tiers = *job.tiers;
  (void)tiers.database().catch_up();
  const auto ttl = tiers.ttl_for(*job.state);
  const auto newer = [&](const EntryView& entry, std::int64_t now) {
    const bool current = entry.info.type == job.type && arguments_match(entry, job.args) &&
                         !expired(entry.info.expires_ms, now) &&
                         !(ttl && expired(deadline_ms(entry.info.created_ms, ttl), now)) &&
                         entry.info.created_ms > job.seen_created_ms;
    return Verdict{current ? Outcome::hit : Outcome::expired};
  };
  bool found = false;
  (void)tiers.read_stored(job.key, newer, [&found](const EntryView&, std::uint64_t) { found = true; });
  return found;
}

/// Counts and reports the outcome of a refresh that ran (inside the gate).
/// `failure`: what the function threw, if it did.
void settle(const RefreshJob& job, RefreshGate& gate, const std::optional<std::string>& failure) {
  Tiers& tiers = *job.tiers;
  const bool turned = gate.record(job.name, job.key, failure.has_value(), tiers.now_ms());
  if (failure) {
    tiers.policy().record_refresh(*job.state, true);
    if (turned) {
      warn("{} (version {}) in {}: a background refresh threw ({}); the stored result is served until its ttl "
           "and the refresh is retried on later hits, waiting {} s, then twice as long after each failure (up to "
           "{} min). Further failures of this function are not reported until one of its refreshes succeeds",
           job.name, job.version, tiers.dir(), *failure, k_refresh_backoff_first.count(),
           k_refresh_backoff_max.count());
    }
  } else if (turned) {
    log(LogLevel::info, "{} (version {}) in {}: background refreshes succeed again", job.name, job.version,
        tiers.dir());
  }
}

/// The pool's job: claims the call (as far as a miss would, so that other
/// processes and machines do not refresh it too), computes it outside the
/// gate, and keeps the result if the store is still open.
void run_refresh(RefreshJob& job, RefreshGate& gate) {
  std::optional<Claims> claims(std::in_place);
  {
    const RefreshGate::Inside inside = gate.enter();
    if (!inside) {
      return;
    }
    if (job.reach && (!job.tiers->claim_for_refresh(job.caller(), job.key, *job.reach, *claims) || newer_stored(job))) {
      claims.reset();  // another holder refreshes it, or just did
      return;
    }
  }
  std::string envelope;
  start_envelope(envelope, job.args);
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::string> failure;
  bool encoded = false;
  try {
    encoded = job.compute(envelope);
  } catch (const std::exception& e) {  // the user's function threw: the stored result stays
    failure = e.what();
  } catch (...) {  // likewise, with a type we cannot describe; recorded by settle
    failure = "an exception not derived from std::exception";
  }
  const auto compute_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
  const RefreshGate::Inside inside = gate.enter();
  if (!inside) {  // the store closed past its wait: write nothing, touch nothing of it
    claims->abandon_lease();
    claims.reset();
    return;
  }
  settle(job, gate, failure);
  if (!failure && encoded) {  // an unencodable result was reported by the compute function
    const NewEntry entry =
        finish_entry(*job.tiers, *job.state, job.type, job.key, std::move(envelope), compute_ns);
    job.tiers->keep(job.caller(), job.key, entry, Replacing{}, job.inputs_record, *claims);
    job.tiers->policy().record_refresh(*job.state, false);
  }
  claims.reset();  // inside the gate: releasing a lease talks to the remote tier
}

}  // namespace

std::optional<Tiers::ClaimReach> claim_reach(const MemoCore& memo) {
  switch (memo.inflight()) {
    case Inflight::per_process:
      return std::nullopt;
    case Inflight::shared:
      return Tiers::ClaimReach::processes_and_machines;
    case Inflight::automatic:
      break;
  }
  // Processes sharing the directory only: a lease in Redis costs a round trip
  // on every miss, a remote tier's users ask for it (Inflight::shared). A file
  // claim (create, flock, remove) cost 0.2-0.4 ms a miss in W3: worth it from
  // 50 ms up (under 1 % of the call), and for a function not computed yet,
  // which may be the expensive step a parallel build reaches in every job at once.
  constexpr std::uint64_t k_worth_a_claim_ns = 50'000'000;
  if (memo.state()->latest_compute_ns.load(std::memory_order_relaxed) < k_worth_a_claim_ns) {
    return std::nullopt;
  }
  return Tiers::ClaimReach::processes;
}

std::string inputs_record(const std::vector<RecordedInput>& inputs) {
  return inputs.empty() ? std::string() : encode_inputs(inputs);
}

NewEntry finish_entry(Tiers& tiers, const FunctionState& state, const Hash128& type, const std::string& key,
                      std::string envelope, std::uint64_t compute_ns) {
  NewEntry entry;
  entry.info.created_ms = tiers.now_ms();
  entry.info.expires_ms = deadline_ms(entry.info.created_ms, tiers.ttl_for(state));
  entry.info.compute_ns = compute_ns;
  entry.info.type = type;
  entry.finished = finish_envelope(envelope, entry.info, tiers.signer(), key);
  entry.envelope = std::make_shared<const std::string>(std::move(envelope));
  return entry;
}

void refresh_if_stale(const MemoCore& memo, const std::string& key, std::string_view args,
                      const std::vector<RecordedInput>& inputs, std::int64_t created_ms, std::int64_t now_ms,
                      MakeRefreshFn make_refresh) {
  const std::optional<Duration>& refresh_after = memo.refresh_after();
  if (!refresh_after || now_ms - created_ms < refresh_after->count()) {
    return;
  }
  Tiers& tiers = tiers_of(memo);
  RefreshPool& pool = core_of(memo.store())->refreshes();
  bool started = false;
  if (pool.wants(key, now_ms)) {
    OwnedCompute compute = make_refresh();
    if (compute) {
      RefreshJob job{&tiers,          memo.state(), memo.name(),         memo.version(),
                     memo.type(),     key,          std::string(args),   inputs_record(inputs),
                     created_ms,      claim_reach(memo),                 std::move(compute)};
      started = pool.submit(key, now_ms,
                            [job = std::move(job)](RefreshGate& gate) mutable { run_refresh(job, gate); });
    }
  }
  if (tiers.settings().explain) {
    log(LogLevel::info, "hit: {} (version {}) in {}: served a result {} old, {}", memo.name(), memo.version(),
        tiers.dir(), format_duration(std::chrono::milliseconds(now_ms - created_ms)), started ? "refreshing" : "its refresh is under way or backing off");
  }
}

}  // namespace memostore::detail
