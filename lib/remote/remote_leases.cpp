// Cross-machine single flight: leases on keys (SET NX with an expiry), who
// holds one when it is not ours, which leases memostore did not set, and the
// background renewer that keeps ours alive while held. Scripts change a
// lease only while its value is still this process's token.
#include "remote/remote_tier.hpp"
#include "remote/remote_tier_internals.hpp"

#include <random>

#include <unistd.h>

#include <fmt/format.h>

namespace memostore::detail {

namespace {

// Deletes / extends a lease only if its value is still ours.
constexpr std::string_view k_release_script =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
constexpr std::string_view k_renew_script =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
// A lease's holder and remaining lifetime (PTTL: -1 without expiry, -2 gone),
// in one round trip; a value that is not a string (planted) reads as nil.
constexpr std::string_view k_lease_info_script =
    "local v = redis.pcall('get', KEYS[1]) if type(v) ~= 'string' then v = false end "
    "return {v, redis.call('pttl', KEYS[1])}";

}  // namespace

std::string lease_token() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, ::getpid(), random());
}

std::string RemoteTier::lease_key(std::string_view key) const {
  std::string out = m_settings.prefix;
  out.append("lease:");
  out.append(key);
  return out;
}

Result<RemoteTier::LeaseAttempt> RemoteTier::try_lease(std::string_view key) {
  const std::string lease = lease_key(key);
  Shard& shard = shard_for(key);
  auto set = run(shard, {"SET", lease, m_lease_token, "NX", "PX", std::to_string(k_remote_lease.count())},
                 {ReplyKind::status, ReplyKind::nil});
  if (!set) {
    return set.failure();
  }
  if (set->kind == RedisReply::Kind::status) {  // OK: ours
    {
      std::lock_guard lock(m_lease_mutex);
      m_leases.push_back(lease);
      if (!m_renewer.joinable() && !m_lease_stopping) {
        m_renewer = std::thread([this] { run_renewer(); });
      }
    }
    return LeaseAttempt{true, {}};
  }
  auto info = run(shard, {"EVAL", k_lease_info_script, "1", lease}, {ReplyKind::array});
  if (!info) {
    return info.failure();
  }
  LeaseAttempt attempt{false, "another process"};
  if (info->elements.size() == 2 && info->elements[1].kind == RedisReply::Kind::integer) {
    const long long left_ms = info->elements[1].integer;  // -1: no expiry; -2: gone since (try again)
    attempt.foreign = left_ms == -1 || left_ms > (k_remote_lease + k_remote_lease_margin).count();
    attempt.first_foreign = attempt.foreign && !m_foreign_lease_reported.exchange(true);
  }
  if (!info->elements.empty() && info->elements[0].kind == RedisReply::Kind::string) {
    attempt.holder = info->elements[0].text;
    const auto last_colon = attempt.holder.rfind(':');
    if (last_colon != std::string::npos && attempt.holder.find(':') != last_colon) {
      attempt.holder.resize(last_colon);  // host:pid, without the random part
    }
  }
  return attempt;
}

void RemoteTier::release_lease(std::string_view key) {
  const std::string lease = lease_key(key);
  {
    std::lock_guard lock(m_lease_mutex);
    std::erase(m_leases, lease);
  }
  (void)run(shard_for(key), {"EVAL", k_release_script, "1", lease, m_lease_token}, {ReplyKind::integer});
}

void RemoteTier::run_renewer() {
  std::unique_lock lock(m_lease_mutex);
  while (!m_lease_stopping) {
    m_lease_changed.wait_for(lock, k_remote_lease / 3);
    const std::vector<std::string> held = m_leases;
    lock.unlock();
    for (const std::string& lease : held) {
      const std::string_view key = std::string_view(lease).substr(m_settings.prefix.size() + 6);  // "lease:"
      (void)run(shard_for(key),
                {"EVAL", k_renew_script, "1", lease, m_lease_token, std::to_string(k_remote_lease.count())},
                {ReplyKind::integer});
    }
    lock.lock();
  }
}

}  // namespace memostore::detail
