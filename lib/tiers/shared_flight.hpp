// Computing a call once beyond this process (MemoOptions::share_inflight):
// one mechanism, two backends. A process about to compute a key takes a claim
// on it: a file claim in this directory (tiers/process_claim.hpp) for the
// processes sharing it, then a lease in the remote tier for other machines.
// Whoever finds a claim held waits for the holder's result, polling the tier
// the holder writes to, in one loop (Tiers::wait_or_take) whichever the
// backend; the wait ends with the result, with the claim (the holder died or
// gave it up), or after inflight_lease.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <memostore/policy.hpp>

#include "tiers/process_claim.hpp"

namespace memostore::detail {

class RemoteTier;

/// What a caller holds while it computes a call that others may wait for.
/// Given up when destroyed: after the result was kept, or when the function threw.
class Claims {
 public:
  Claims() = default;
  ~Claims();
  Claims(const Claims&) = delete;
  Claims& operator=(const Claims&) = delete;

  /// True while a remote lease is held: the result is sent at once, since
  /// other machines poll for it.
  bool holds_lease() const noexcept { return m_lease_tier != nullptr; }

  void hold_file(ProcessClaim claim) { m_file.emplace(std::move(claim)); }
  void hold_lease(RemoteTier& tier, std::string key);
  /// Forgets the remote lease without releasing it (it runs out by itself):
  /// for a background refresh abandoned while its store closed, whose remote
  /// tier may be gone. The file claim is still released (it needs only its file).
  void abandon_lease() noexcept { m_lease_tier = nullptr; }

 private:
  std::optional<ProcessClaim> m_file;
  RemoteTier* m_lease_tier = nullptr;
  std::string m_lease_key;
};

/// One backend: how to try to take the claim on a key.
class ClaimBackend {
 public:
  struct Attempt {
    enum class State { taken, held, unavailable } state = State::unavailable;
    std::string holder = {};  // who holds it, when held ("process 42", "host:42 (remote lease)")
    /// When taken: how long to look for a result before computing it (a
    /// holder that finished or gave up left it, possibly still on its way);
    /// none: do not look.
    std::optional<Duration> look_for = std::nullopt;
  };

  virtual ~ClaimBackend() = default;
  /// Tries once, without waiting; a taken claim goes into the caller's Claims.
  /// `seen_holder`: an earlier try found it held.
  virtual Attempt try_take(bool seen_holder) = 0;
};

}  // namespace memostore::detail
