// The remote tier's servers: which server holds a key (rendezvous hashing),
// running a command on it through a pooled connection, and backing off a
// server that failed (one warning per outage, one notice when it is back).
// A lookup is one GET through here.
#include "remote/remote_tier.hpp"
#include "remote/remote_tier_internals.hpp"

#include "policy/expiry.hpp"
#include "util/log.hpp"

namespace memostore::detail {

std::int64_t RemoteTier::now_ms() const { return unix_ms(m_settings.clock->now()); }

std::string RemoteTier::remote_key(std::string_view key) const {
  std::string out = m_settings.prefix;
  out.append(key);
  return out;
}

RemoteTier::Shard& RemoteTier::shard_for(std::string_view key) {
  Shard* best = m_shards.front().get();
  std::uint64_t best_weight = 0;
  for (const auto& shard : m_shards) {
    const std::uint64_t weight = XXH3_64bits_withSeed(key.data(), key.size(), shard->seed);
    if (weight >= best_weight) {
      best_weight = weight;
      best = shard.get();
    }
  }
  return *best;
}

Result<RedisReply> RemoteTier::run(Shard& shard, std::initializer_list<std::string_view> arguments,
                                   ReplyKinds expected) {
  const std::int64_t now = now_ms();
  const std::int64_t down_until = shard.down_until_ms.load(std::memory_order_relaxed);
  if (down_until != 0 && now < down_until) {
    return Failure{ErrorCode::io, "backed off"};
  }
  std::unique_ptr<RedisConnection> connection;
  {
    std::lock_guard lock(shard.pool_mutex);
    if (!shard.idle.empty()) {
      connection = std::move(shard.idle.back());
      shard.idle.pop_back();
    }
  }
  if (!connection) {
    connection = std::make_unique<RedisConnection>(shard.endpoint, m_settings.timeouts, m_reply_limits, &m_cutoff);
  }
  auto reply = connection->command(arguments, expected);
  {
    std::lock_guard lock(shard.pool_mutex);
    shard.idle.push_back(std::move(connection));  // a failed one reconnects on its next use
  }
  if (!reply) {
    report_failure(shard, now, reply.failure());
    return reply;
  }
  if (down_until != 0) {
    shard.down_until_ms.store(0, std::memory_order_relaxed);
    if (shard.outage_reported.exchange(false)) {
      log(LogLevel::info, "remote cache {} is available again", shard.endpoint.display);
    }
  }
  return reply;
}

/// A server that failed, or sent a reply memostore refuses (it never stores
/// one: the server is broken, hostile, or holds a planted value), is left
/// alone for the backoff, with one warning per outage. A refused reply
/// counts as rejected (what the server sent failed memostore's checks), the
/// rest as errors. Commands cut short by close() are neither.
void RemoteTier::report_failure(Shard& shard, std::int64_t now, const Failure& failure) {
  if (m_cutoff.load(std::memory_order_acquire) != k_no_cutoff) {
    return;  // closing: the server is not at fault
  }
  const bool refused = failure.code == k_reply_refused;
  (refused ? m_rejected : m_errors).fetch_add(1, std::memory_order_relaxed);
  shard.down_until_ms.store(now + m_settings.backoff.count(), std::memory_order_relaxed);
  if (!shard.outage_reported.exchange(true)) {
    warn("remote cache {}: {}; results are computed and kept locally, and the server is tried again every {} s",
         refused ? "sent a reply memostore does not accept" : "unavailable", failure.message,
         m_settings.backoff.count() / 1000);
  }
}

std::optional<std::string> RemoteTier::get(std::string_view key) {
  auto reply = run(shard_for(key), {"GET", remote_key(key)}, {ReplyKind::string, ReplyKind::nil});
  if (!reply || reply->kind != RedisReply::Kind::string) {
    m_misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  m_hits.fetch_add(1, std::memory_order_relaxed);
  return std::move(reply->text);
}

}  // namespace memostore::detail
