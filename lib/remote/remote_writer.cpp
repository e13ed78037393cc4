// Writes to the remote tier: the background writer's bounded queue (a call
// never waits on the network to store; what does not fit is dropped and
// counted), draining it, and the immediate write of a lease holder's result.
#include "remote/remote_tier.hpp"

#include <algorithm>

namespace memostore::detail {

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

bool RemoteTier::put_now(std::string_view key, const std::string& envelope, std::chrono::milliseconds ttl) {
  if (m_settings.read_only || envelope.size() > m_settings.max_value_bytes) {
    return false;
  }
  const std::string ttl_text = std::to_string(std::max<std::int64_t>(ttl.count(), 1));
  auto written = run(shard_for(key), {"SET", remote_key(key), envelope, "PX", ttl_text}, {ReplyKind::status});
  (written ? m_writes : m_dropped).fetch_add(1, std::memory_order_relaxed);
  return written.ok();
}

}  // namespace memostore::detail
