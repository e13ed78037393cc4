// Wakeup: what a periodic worker sleeps on. Another thread may wake it early
// (raise) or for good (stop); a worker below the one that owns the thread
// raises it without knowing who waits (no callback runs on its behalf).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace memostore::detail {

class Wakeup {
 public:
  /// Wakes the waiter before its timeout (once; raising twice is raising once).
  void raise() {
    {
      std::lock_guard lock(m_mutex);
      m_raised = true;
    }
    m_changed.notify_all();
  }

  /// Wakes the waiter for good: every later wait returns false at once.
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_stopped = true;
    }
    m_changed.notify_all();
  }

  /// Sleeps until raised, stopped or `timeout` passed, and lowers the flag.
  /// False once stopped: the worker ends.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, timeout, [this] { return m_raised || m_stopped; });
    m_raised = false;
    return !m_stopped;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_raised = false;   // guarded by m_mutex
  bool m_stopped = false;  // guarded by m_mutex
};

}  // namespace memostore::detail
