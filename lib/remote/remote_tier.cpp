// The remote tier's lifecycle and counters: starting the background writer,
// closing (a bounded flush of the queue, then cutting off commands in flight
// and stopping the writer and the lease renewer), and this process's counts.
// Servers, writes, leases and maintenance commands have their own files.
#include "remote/remote_tier.hpp"
#include "remote/remote_tier_internals.hpp"

namespace memostore::detail {

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

}  // namespace memostore::detail
