#include "remote/remote_tier.hpp"

#include <algorithm>
#include <random>

#include <unistd.h>
#include <xxhash.h>

#include <fmt/format.h>

#include "policy/expiry.hpp"
#include "util/log.hpp"

namespace memostore::detail {

struct RemoteTier::Shard {
  explicit Shard(RemoteEndpoint server) : endpoint(std::move(server)), seed(XXH3_64bits(endpoint.display.data(), endpoint.display.size())) {}

  RemoteEndpoint endpoint;
  std::uint64_t seed;  // rendezvous hashing: the server's weight for a key is the key's hash with this seed
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<RedisConnection>> idle;  // guarded by pool_mutex
  std::atomic<std::int64_t> down_until_ms{0};          // 0: in use
  std::atomic<bool> outage_reported{false};
};

namespace {

/// `prefix` with the characters SCAN's MATCH treats as a pattern escaped.
std::string glob_escaped(std::string_view prefix) {
  std::string out;
  for (const char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

/// This process's name in leases: host:pid:random (a restarted process with
/// the same pid does not inherit a lease).
std::string lease_token() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, ::getpid(), random());
}

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

RemoteTier::RemoteTier(RemoteSettings settings)
    : m_settings(std::move(settings)),
      m_reply_limits(reply_limits_for(m_settings.max_value_bytes)),
      m_lease_token(lease_token()) {
  for (const RemoteEndpoint& endpoint : m_settings.endpoints) {
    m_shards.push_back(std::make_unique<Shard>(endpoint));
  }
  if (!m_settings.read_only) {
    m_writer = std::thread([this] { run_writer(); });
  }
}

RemoteTier::~RemoteTier() { close(); }

void RemoteTier::close() {
  std::call_once(m_closed, [this] {
    const auto deadline = std::chrono::steady_clock::now() + m_settings.close_flush;
    {
      std::lock_guard lock(m_queue_mutex);
      m_stopping = true;
      m_close_deadline = deadline;
    }
    // Commands still in flight then (the writer's, the renewer's) stop waiting for their servers.
    m_cutoff.store(deadline.time_since_epoch().count(), std::memory_order_release);
    m_queue_changed.notify_all();
    stop_threads();
  });
}

void RemoteTier::stop_threads() {
  {
    std::lock_guard lock(m_lease_mutex);
    m_lease_stopping = true;
  }
  m_lease_changed.notify_all();
  if (m_writer.joinable()) {
    m_writer.join();
  }
  if (m_renewer.joinable()) {
    m_renewer.join();
  }
}

std::string RemoteTier::lease_key(std::string_view key) const {
  std::string out = m_settings.prefix;
  out.append("lease:");
  out.append(key);
  return out;
}

bool RemoteTier::put_now(std::string_view key, const std::string& envelope, std::chrono::milliseconds ttl) {
  if (m_settings.read_only || envelope.size() > m_settings.max_value_bytes) {
    return false;
  }
  const std::string ttl_text = std::to_string(std::max<std::int64_t>(ttl.count(), 1));
  auto written = run(shard_for(key), {"SET", remote_key(key), envelope, "PX", ttl_text}, {ReplyKind::status});
  (written ? m_writes : m_dropped).fetch_add(1, std::memory_order_relaxed);
  return written.ok();
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

void RemoteTier::put(std::string_view key, std::shared_ptr<const std::string> envelope,
                     std::chrono::milliseconds ttl) {
  if (m_settings.read_only || envelope->size() > m_settings.max_value_bytes) {
    return;  // large results stay local
  }
  {
    std::lock_guard lock(m_queue_mutex);
    if (!m_stopping && m_queue.size() < m_settings.queue_entries &&
        m_queued_bytes + envelope->size() <= m_settings.queue_bytes) {
      m_queued_bytes += envelope->size();
      m_queue.push_back(Job{remote_key(key), std::move(envelope), ttl});
      m_queue_changed.notify_all();
      return;
    }
  }
  m_dropped.fetch_add(1, std::memory_order_relaxed);
}

void RemoteTier::run_writer() {
  std::unique_lock lock(m_queue_mutex);
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set once stopping
  for (;;) {
    m_queue_changed.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    if (m_stopping && !deadline) {
      deadline = m_close_deadline;
    }
    if (m_queue.empty() || (deadline && std::chrono::steady_clock::now() >= *deadline)) {
      m_dropped.fetch_add(m_queue.size(), std::memory_order_relaxed);  // at close, past the limit
      m_queue.clear();
      m_queued_bytes = 0;
      m_queue_changed.notify_all();
      if (m_stopping) {
        return;
      }
      continue;
    }
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    m_queued_bytes -= job.envelope->size();
    m_writing = true;
    lock.unlock();
    const std::string ttl = std::to_string(std::max<std::int64_t>(job.ttl.count(), 1));
    auto written = run(shard_for(std::string_view(job.key).substr(m_settings.prefix.size())),
                       {"SET", job.key, *job.envelope, "PX", ttl}, {ReplyKind::status});
    (written ? m_writes : m_dropped).fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    m_writing = false;
    m_queue_changed.notify_all();
  }
}

bool RemoteTier::drain(std::chrono::milliseconds limit) {
  std::unique_lock lock(m_queue_mutex);
  return m_queue_changed.wait_for(lock, limit, [this] { return m_queue.empty() && !m_writing; });
}

RemoteStats RemoteTier::stats() const noexcept {
  return RemoteStats{m_hits.load(std::memory_order_relaxed),    m_misses.load(std::memory_order_relaxed),
                     m_writes.load(std::memory_order_relaxed),  m_dropped.load(std::memory_order_relaxed),
                     m_rejected.load(std::memory_order_relaxed), m_errors.load(std::memory_order_relaxed)};
}

RemoteStats RemoteTier::take_unsaved() {
  std::lock_guard lock(m_saved_mutex);
  const RemoteStats now = stats();
  const RemoteStats delta{now.hits - m_saved.hits,     now.misses - m_saved.misses,
                          now.writes - m_saved.writes, now.dropped_writes - m_saved.dropped_writes,
                          now.rejected - m_saved.rejected, now.errors - m_saved.errors};
  m_saved = now;
  return delta;
}

std::vector<RemoteTier::Ping> RemoteTier::ping() {
  std::vector<Ping> pings;
  for (const auto& shard : m_shards) {
    Ping ping{shard->endpoint.display};
    RedisConnection connection(shard->endpoint, m_settings.timeouts, m_reply_limits);
    if (auto connected = connection.command({"PING"}, {ReplyKind::status}); !connected) {
      ping.version = connected.failure();
      pings.push_back(std::move(ping));
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    auto info = connection.command({"INFO", "server"}, {ReplyKind::string});
    ping.round_trip =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (!info) {
      ping.version = info.failure();
    } else {
      const std::string& text = info->text;
      const auto at = text.find("redis_version:");
      ping.version = at == std::string::npos ? std::string("unknown")
                                             : text.substr(at + 14, text.find_first_of("\r\n", at) - at - 14);
    }
    pings.push_back(std::move(ping));
  }
  return pings;
}

Result<std::uint64_t> RemoteTier::clear() {
  std::uint64_t removed = 0;
  const std::string pattern = glob_escaped(m_settings.prefix) + "*";
  for (const auto& shard : m_shards) {
    RedisConnection connection(shard->endpoint, m_settings.timeouts, m_reply_limits);
    std::string cursor = "0";
    do {
      auto page = connection.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, {ReplyKind::array});
      if (!page) {
        return page.failure();
      }
      if (page->kind != RedisReply::Kind::array || page->elements.size() != 2) {
        return Failure{ErrorCode::io, "Redis at " + shard->endpoint.display + ": unexpected SCAN reply"};
      }
      cursor = page->elements[0].text;
      for (const RedisReply& key : page->elements[1].elements) {
        auto deleted = connection.command({"UNLINK", key.text}, {ReplyKind::integer});
        if (!deleted) {
          return deleted.failure();
        }
        removed += static_cast<std::uint64_t>(deleted->integer);
      }
    } while (cursor != "0");
  }
  return removed;
}

}  // namespace memostore::detail
