// The remote tier: one cache for a fleet, on Redis. Beneath the local store:
// a local miss asks Redis, and a verified remote entry is stored locally and
// returned; a new local entry is sent to Redis by a background writer with a
// bounded queue, so no call waits on the network to store. Entries are the
// same envelope bytes as locally, so every check is the same code.
//
// Keys are spread over several servers by rendezvous hashing. A server that
// fails is backed off for a while (one warning per outage) and tried again
// after it, so Redis coming back is picked up without a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <memostore/policy.hpp>
#include <memostore/stats.hpp>

#include "remote/redis_connection.hpp"
#include "remote/remote_url.hpp"
#include "util/result.hpp"

namespace memostore::detail {

struct RemoteSettings {
  std::vector<RemoteEndpoint> endpoints;  // at least one
  bool read_only = false;                 // MEMOSTORE_REMOTE_MODE=readonly: never write
  std::string prefix = "memostore:";      // before every key, so one Redis serves several projects
  std::chrono::milliseconds default_ttl = std::chrono::hours(24 * 7);  // for entries without their own
  RemoteTimeouts timeouts;
  std::uint64_t max_value_bytes = std::uint64_t{64} << 20;  // larger entries stay local; larger replies are refused
  std::size_t queue_entries = 1024;                         // the writer's queue, in entries...
  std::uint64_t queue_bytes = std::uint64_t{256} << 20;     // ...and bytes
  std::chrono::milliseconds backoff{10'000};                // a failed server is left alone this long
  std::chrono::milliseconds close_flush{2'000};             // at close, the longest wait, commands in flight included
  std::shared_ptr<const Clock> clock;                       // for the backoff; never null
};

class RemoteTier {
 public:
  explicit RemoteTier(RemoteSettings settings);
  /// Calls close().
  ~RemoteTier();
  RemoteTier(const RemoteTier&) = delete;
  RemoteTier& operator=(const RemoteTier&) = delete;

  /// The entry stored under `key` on its server; none on a miss, a failure
  /// or while its server is backed off. Never throws, never waits longer
  /// than the timeouts. A reply larger than max_value_bytes or other than a
  /// string is refused on its header, before it is read (counted rejected).
  std::optional<std::string> get(std::string_view key);

  /// Queues the entry for its server, to expire after `ttl`; drops it
  /// (counted) when the queue is full, the entry too large or the tier
  /// read-only. Never waits.
  void put(std::string_view key, std::shared_ptr<const std::string> envelope, std::chrono::milliseconds ttl);

  /// Counts an entry that came from the remote tier and failed its checks.
  void record_rejected() noexcept { m_rejected.fetch_add(1, std::memory_order_relaxed); }

  /// Writes the entry now, waiting for the server (a lease holder's result,
  /// which others are polling for); false if it could not be written.
  bool put_now(std::string_view key, const std::string& envelope, std::chrono::milliseconds ttl);

  /// Cross-machine single flight (MemoOptions::share_inflight): the lease on
  /// `key` is this process's (SET NX with an expiry, renewed in the
  /// background while held), or someone else's, or the server is unavailable.
  struct LeaseAttempt {
    bool taken = false;
    std::string holder = {};  // who holds it, when not taken ("host:pid")
    /// Not taken, and not a lease memostore sets: it lives longer than
    /// k_remote_lease (plus a margin) or has no expiry (planted); not worth waiting for.
    bool foreign = false;
    bool first_foreign = false;  // the first foreign lease this tier met: warn about it
  };
  Result<LeaseAttempt> try_lease(std::string_view key);
  /// Gives up a lease this process holds (only if it still holds it).
  void release_lease(std::string_view key);

  /// Waits (at most `limit`) until the writer's queue is empty; true if it is.
  bool drain(std::chrono::milliseconds limit);

  /// Sends what is queued for at most close_flush, whatever the servers do
  /// (a command still in flight then is cut short), and stops the writer
  /// and the lease renewer; later puts are dropped. Runs once.
  void close();

  /// This process's counts so far.
  RemoteStats stats() const noexcept;
  /// What was counted since the last call: for the store's persistent counters.
  RemoteStats take_unsaved();

  /// Each server's Redis version and round-trip time, or why it failed.
  struct Ping {
    std::string server;  // the URL without its password
    Result<std::string> version = std::string();
    std::chrono::microseconds round_trip{0};
  };
  std::vector<Ping> ping();

  /// Deletes every key under the prefix on every server (SCAN, never KEYS);
  /// returns how many.
  Result<std::uint64_t> clear();

  const RemoteSettings& settings() const noexcept { return m_settings; }

 private:
  struct Shard;
  struct Job {
    std::string key;  // with the prefix
    std::shared_ptr<const std::string> envelope;
    std::chrono::milliseconds ttl;
  };

  Shard& shard_for(std::string_view key);
  std::string remote_key(std::string_view key) const;
  /// Runs `arguments` on `shard` through a pooled connection, unless it is
  /// backed off; a failure backs it off and is warned about once per outage.
  Result<RedisReply> run(Shard& shard, std::initializer_list<std::string_view> arguments,
                         ReplyKinds expected = ReplyKinds::any());
  void report_failure(Shard& shard, std::int64_t now, const Failure& failure);
  std::int64_t now_ms() const;
  void run_writer();
  void run_renewer();
  void stop_threads();
  std::string lease_key(std::string_view key) const;

  RemoteSettings m_settings;
  ReplyLimits m_reply_limits;
  Cutoff m_cutoff{k_no_cutoff};  // set by close(): commands in flight stop then (declared before the connections)
  std::vector<std::unique_ptr<Shard>> m_shards;
  std::atomic<std::uint64_t> m_hits{0};
  std::atomic<std::uint64_t> m_misses{0};
  std::atomic<std::uint64_t> m_writes{0};
  std::atomic<std::uint64_t> m_dropped{0};
  std::atomic<std::uint64_t> m_rejected{0};
  std::atomic<std::uint64_t> m_errors{0};
  std::atomic<bool> m_foreign_lease_reported{false};
  std::mutex m_saved_mutex;
  RemoteStats m_saved;  // guarded by m_saved_mutex: stats() at the last take_unsaved()

  std::mutex m_queue_mutex;
  std::condition_variable m_queue_changed;
  std::deque<Job> m_queue;            // guarded by m_queue_mutex
  std::uint64_t m_queued_bytes = 0;   // guarded by m_queue_mutex
  bool m_writing = false;             // a job is being sent; guarded by m_queue_mutex
  bool m_stopping = false;            // guarded by m_queue_mutex
  std::chrono::steady_clock::time_point m_close_deadline;  // guarded by m_queue_mutex; set with m_stopping
  std::once_flag m_closed;
  std::thread m_writer;

  // Leases this process holds, renewed by m_renewer (started with the first).
  const std::string m_lease_token;  // host:pid:random, the value of our leases
  std::mutex m_lease_mutex;
  std::condition_variable m_lease_changed;
  std::vector<std::string> m_leases;  // guarded by m_lease_mutex; keys with the prefix
  bool m_lease_stopping = false;      // guarded by m_lease_mutex
  std::thread m_renewer;
};

/// How long a lease lives without renewal: a crashed holder's lease lapses
/// after this. Renewed every third of it.
inline constexpr std::chrono::milliseconds k_remote_lease{15'000};
/// A lease found with more time left than k_remote_lease plus this (or
/// with no expiry) was not set by memostore: it is ignored.
inline constexpr std::chrono::milliseconds k_remote_lease_margin{1'000};

}  // namespace memostore::detail
