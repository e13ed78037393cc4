#include "store/refresh_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/log.hpp"

namespace memostore::detail {

/// Shared by the pool and its threads: a thread abandoned at close outlives
/// the pool and touches nothing else.
struct RefreshGate::State {
  struct Backoff {
    int failures = 0;
    std::int64_t not_before_ms = 0;
  };
  /// More keys in backoff than this: those whose backoff is over are dropped.
  static constexpr std::size_t k_max_backoffs = 4096;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  // Everything below is guarded by mutex.
  std::deque<std::pair<std::string, RefreshPool::Job>> queue;
  std::unordered_set<std::string> active;  // keys queued or running
  std::unordered_map<std::string, Backoff> backoff;
  std::unordered_set<std::string> failing;  // functions whose last refresh failed
  std::vector<char> busy;                   // per thread: running a job
  std::size_t running = 0;
  std::size_t inside = 0;  // jobs touching the store now
  bool closing = false;
  bool abandoned = false;  // closing gave up waiting: no job may touch the store

  bool in_backoff(const std::string& key, std::int64_t now_ms) const {
    const auto it = backoff.find(key);
    return it != backoff.end() && now_ms < it->second.not_before_ms;
  }
};

RefreshGate::Inside::~Inside() {
  if (m_state != nullptr) {
    std::lock_guard lock(m_state->mutex);
    --m_state->inside;
    m_state->changed.notify_all();
  }
}

RefreshGate::Inside RefreshGate::enter() {
  std::lock_guard lock(m_state->mutex);
  if (m_state->abandoned) {
    return Inside(nullptr);
  }
  ++m_state->inside;
  return Inside(m_state.get());
}

bool RefreshGate::record(std::string_view function, const std::string& key, bool failed, std::int64_t now_ms) {
  std::lock_guard lock(m_state->mutex);
  State& s = *m_state;
  if (!failed) {
    s.backoff.erase(key);
    return s.failing.erase(std::string(function)) > 0;
  }
  if (s.backoff.size() >= State::k_max_backoffs) {
    std::erase_if(s.backoff, [&](const auto& entry) { return entry.second.not_before_ms <= now_ms; });
  }
  State::Backoff& b = s.backoff[key];
  b.failures = std::min(b.failures + 1, 30);
  const std::chrono::milliseconds first = k_refresh_backoff_first;
  const std::chrono::milliseconds most = k_refresh_backoff_max;
  const std::int64_t delay = std::min<std::int64_t>(first.count() << (b.failures - 1), most.count());
  b.not_before_ms = now_ms + delay;
  return s.failing.insert(std::string(function)).second;
}

namespace {

/// A pool thread: runs jobs until the pool closes. Holds only the shared
/// state, so that an abandoned thread may outlive the pool.
void run_jobs(std::shared_ptr<RefreshGate::State> state, RefreshGate gate, std::size_t index) {
  std::unique_lock lock(state->mutex);
  for (;;) {
    state->changed.wait(lock, [&] { return state->closing || !state->queue.empty(); });
    if (state->closing) {
      return;
    }
    auto [key, job] = std::move(state->queue.front());
    state->queue.pop_front();
    state->busy[index] = 1;
    ++state->running;
    lock.unlock();
    try {
      job(gate);
    } catch (const std::exception& e) {  // a job handles its function's exceptions; this is a bug of ours
      warn("a background refresh stopped with an error ({}); the stored result stays", e.what());
    } catch (...) {  // thread entry: recorded, never let out of the thread
      warn("a background refresh stopped with an unknown exception; the stored result stays");
    }
    job = nullptr;  // the function's copies go outside the lock
    lock.lock();
    state->active.erase(key);
    --state->running;
    state->busy[index] = 0;
    state->changed.notify_all();
  }
}

}  // namespace

RefreshPool::RefreshPool(unsigned threads) : m_state(std::make_shared<RefreshGate::State>()), m_threads(threads) {}

RefreshPool::~RefreshPool() { close(); }

bool RefreshPool::wants(const std::string& key, std::int64_t now_ms) const {
  std::lock_guard lock(m_state->mutex);
  return m_threads != 0 && !m_state->closing && !m_state->active.contains(key) && !m_state->in_backoff(key, now_ms);
}

bool RefreshPool::submit(const std::string& key, std::int64_t now_ms, Job job) {
  std::lock_guard lock(m_state->mutex);
  RefreshGate::State& s = *m_state;
  if (m_threads == 0 || s.closing || s.active.contains(key) || s.in_backoff(key, now_ms)) {
    return false;
  }
  if (m_workers.empty()) {  // the first refresh starts the threads
    s.busy.assign(m_threads, 0);
    for (std::size_t i = 0; i < m_threads; ++i) {
      m_workers.emplace_back(run_jobs, m_state, RefreshGate(m_state), i);
    }
  }
  s.active.insert(key);
  s.queue.emplace_back(key, std::move(job));
  s.changed.notify_all();
  return true;
}

void RefreshPool::wait_idle() const {
  std::unique_lock lock(m_state->mutex);
  m_state->changed.wait(lock, [&] { return m_state->queue.empty() && m_state->running == 0; });
}

void RefreshPool::close() {
  std::deque<std::pair<std::string, Job>> dropped;
  std::vector<char> busy;
  {
    std::unique_lock lock(m_state->mutex);
    RefreshGate::State& s = *m_state;
    if (s.closing) {
      return;
    }
    s.closing = true;
    dropped.swap(s.queue);
    for (const auto& queued : dropped) {
      s.active.erase(queued.first);
    }
    s.changed.notify_all();
    if (!s.changed.wait_for(lock, k_refresh_close_wait, [&] { return s.running == 0; })) {
      s.abandoned = true;
      // A job already writing finishes its write (a batch, no user code).
      s.changed.wait(lock, [&] { return s.inside == 0; });
      warn("closing the store: {} background refresh(es) still computing after {} s were abandoned; "
           "nothing of them is written and the stored results stay",
           s.running, k_refresh_close_wait.count());
    }
    busy = s.busy;
  }
  for (std::size_t i = 0; i < m_workers.size(); ++i) {
    if (busy[i] != 0) {
      m_workers[i].detach();  // still in the user's function; it can no longer write
    } else {
      m_workers[i].join();
    }
  }
  m_workers.clear();
}

}  // namespace memostore::detail
