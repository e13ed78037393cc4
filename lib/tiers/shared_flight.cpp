#include "tiers/shared_flight.hpp"

#include <chrono>
#include <thread>
#include <variant>

#include <fmt/std.h>

#include "remote/remote_tier.hpp"
#include "tiers/tiers.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// How often a caller waiting for another's computation looks for its result.
constexpr std::chrono::milliseconds k_claim_poll{50};

/// The processes sharing this directory: a flock'ed file in <dir>/inflight/.
class FileClaim final : public ClaimBackend {
 public:
  FileClaim(const std::filesystem::path& dir, std::string_view key, Claims& claims)
      : m_dir(dir), m_key(key), m_claims(claims) {}

  Attempt try_take(bool seen_holder) override {
    auto tried = ProcessClaim::try_claim(m_dir, m_key, seen_holder);
    if (!tried) {
      return {};  // no claim file possible (read-only folder?): compute unclaimed
    }
    if (auto* taken = std::get_if<ProcessClaim>(&*tried)) {
      const bool after_holder = taken->after_holder();
      m_claims.hold_file(std::move(*taken));
      // A holder that finished stored its result; from another secondary it
      // reaches this process within two catch-up rounds.
      std::optional<Duration> look_for;
      if (seen_holder) {
        look_for = after_holder ? 5 * k_catch_up_interval : Duration(0);
      }
      return Attempt{Attempt::State::taken, {}, look_for};
    }
    return Attempt{Attempt::State::held, fmt::format("process {}", std::get<ProcessClaim::Held>(*tried).pid)};
  }

 private:
  const std::filesystem::path& m_dir;
  std::string_view m_key;
  Claims& m_claims;
};

/// Other machines: a lease in the remote tier (SET NX with an expiry).
class RemoteLeaseClaim final : public ClaimBackend {
 public:
  RemoteLeaseClaim(RemoteTier& remote, std::string_view key, Claims& claims, const Caller& caller)
      : m_remote(remote), m_key(key), m_claims(claims), m_caller(caller) {}

  Attempt try_take(bool) override {
    auto attempt = m_remote.try_lease(m_key);
    if (!attempt) {
      return {};  // the remote tier is unavailable: compute without a lease
    }
    if (attempt->taken) {
      m_claims.hold_lease(m_remote, std::string(m_key));
      // A holder that gave the lease up (since this caller last looked) sent
      // its result just before: look once.
      return Attempt{Attempt::State::taken, {}, Duration(0)};
    }
    if (attempt->foreign) {  // not set by memostore (longer than its own leases, or no expiry): planted
      if (attempt->first_foreign) {
        warn("{} (version {}): ignored a lease on this call in the remote cache that memostore did not set (it "
             "lasts longer than memostore's {} s leases, or forever); computing it here. Later ones are not reported",
             m_caller.name, m_caller.version, k_remote_lease.count() / 1000);
      }
      return {};
    }
    return Attempt{Attempt::State::held, fmt::format("{} (remote lease)", attempt->holder)};
  }

 private:
  RemoteTier& m_remote;
  std::string_view m_key;
  Claims& m_claims;
  const Caller& m_caller;
};

}  // namespace

Claims::~Claims() {
  if (m_lease_tier != nullptr) {
    m_lease_tier->release_lease(m_lease_key);
  }
}

void Claims::hold_lease(RemoteTier& tier, std::string key) {
  m_lease_tier = &tier;
  m_lease_key = std::move(key);
}

bool Tiers::found_elsewhere_or_claim(const Caller& caller, const std::string& key, ClaimReach reach,
                                     Duration lease_bound, Judge judge, const Lookup& last,
                                     std::string_view inputs_record, Claims& claims) {
  if (!writable()) {
    return false;  // a reader stores nothing another reader could wait for
  }
  FileClaim file(dir(), key, claims);
  const auto stored_here = [&] {
    (void)m_database->catch_up();
    return find(caller, key, judge).outcome == Outcome::hit;
  };
  if (wait_or_take(file, caller, lease_bound, stored_here) == Waited::found) {
    return true;
  }
  if (reach != ClaimReach::processes_and_machines || m_remote == nullptr || m_remote->settings().read_only) {
    return false;
  }
  RemoteLeaseClaim lease(*m_remote, key, claims, caller);
  return wait_or_take(lease, caller, lease_bound,
                      [&] { return find_lower(caller, key, judge, last, inputs_record); }) == Waited::found;
}

bool Tiers::claim_for_refresh(const Caller& caller, const std::string& key, ClaimReach reach, Claims& claims) {
  if (!writable()) {
    return false;
  }
  FileClaim file(dir(), key, claims);
  if (file.try_take(false).state == ClaimBackend::Attempt::State::held) {
    return false;
  }
  if (reach != ClaimReach::processes_and_machines || m_remote == nullptr || m_remote->settings().read_only) {
    return true;
  }
  RemoteLeaseClaim lease(*m_remote, key, claims, caller);
  return lease.try_take(false).state != ClaimBackend::Attempt::State::held;
}

Tiers::Waited Tiers::wait_or_take(ClaimBackend& backend, const Caller& caller, Duration lease_bound,
                                  FunctionRef<bool()> look) {
  const std::int64_t give_up_ms = now_ms() + lease_bound.count();
  bool seen_holder = false;
  for (;;) {
    const ClaimBackend::Attempt attempt = backend.try_take(seen_holder);
    switch (attempt.state) {
      case ClaimBackend::Attempt::State::unavailable: return Waited::compute;
      case ClaimBackend::Attempt::State::taken: {
        if (!attempt.look_for) {
          return Waited::compute;
        }
        const auto deadline = std::chrono::steady_clock::now() + *attempt.look_for;
        for (;;) {
          if (look()) {
            return Waited::found;
          }
          if (std::chrono::steady_clock::now() >= deadline) {
            return Waited::compute;
          }
          std::this_thread::sleep_for(k_claim_poll);
        }
      }
      case ClaimBackend::Attempt::State::held: break;
    }
    if (!seen_holder) {
      log(LogLevel::debug, "{} (version {}): waiting for {}, which is computing the same call", caller.name,
          caller.version, attempt.holder);
      seen_holder = true;
    }
    if (now_ms() >= give_up_ms) {
      warn("{} (version {}): {} has been computing the same call for longer than inflight_lease; computing it "
           "here too",
           caller.name, caller.version, attempt.holder);
      return Waited::compute;
    }
    std::this_thread::sleep_for(k_claim_poll);
    if (look()) {
      return Waited::found;
    }
  }
}

}  // namespace memostore::detail
