// RefreshPool: the store's few threads that recompute stale results in the
// background (MemoOptions::refresh_after). It knows keys and jobs, not
// entries: at most one job per key is queued or running in a process, a key
// whose refresh failed waits out a backoff, and closing is bounded.
//
// Closing (the store closing) takes no more jobs, drops the queued ones,
// waits up to k_refresh_close_wait for the running ones, then abandons them:
// a job touches the store only inside a RefreshGate::Inside, which an
// abandoned pool refuses, so a job still in the user's function when the
// store goes writes nothing when it returns (its thread is detached, and
// keeps only the gate's shared state alive). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace memostore::detail {

/// How long closing a store waits for refreshes that are running. Part of
/// the documented contract (StoreOptions::refresh_threads).
inline constexpr std::chrono::seconds k_refresh_close_wait{2};
/// The first retry of a key whose refresh failed waits this long; each
/// further failure doubles it, up to k_refresh_backoff_max.
inline constexpr std::chrono::seconds k_refresh_backoff_first{1};
inline constexpr std::chrono::minutes k_refresh_backoff_max{10};

/// A job's permission to touch the store.
class RefreshGate {
 public:
  struct State;  // shared by the pool and its threads; in refresh_pool.cpp

  /// Held while a job reads or writes the store: closing waits for it.
  class Inside {
   public:
    explicit Inside(State* state) noexcept : m_state(state) {}
    Inside(Inside&& other) noexcept : m_state(std::exchange(other.m_state, nullptr)) {}
    Inside& operator=(Inside&&) = delete;
    ~Inside();
    /// False when the pool is abandoning its jobs: touch nothing, return.
    explicit operator bool() const noexcept { return m_state != nullptr; }

   private:
    State* m_state;
  };

  /// Enters, unless the store is gone or going past its wait.
  Inside enter();

  /// Records the outcome of `key`'s refresh of `function` at `now_ms`: a
  /// failure starts or doubles the key's backoff. True when this is the
  /// first failure of `function` since its refreshes last succeeded (the one
  /// to log), or, on success, when it ends such an outage.
  bool record(std::string_view function, const std::string& key, bool failed, std::int64_t now_ms);

 private:
  friend class RefreshPool;
  explicit RefreshGate(std::shared_ptr<State> state) : m_state(std::move(state)) {}
  std::shared_ptr<State> m_state;
};

class RefreshPool {
 public:
  using Job = std::function<void(RefreshGate& gate)>;

  /// `threads`: at most this many jobs run at once; 0 takes none. Threads
  /// start with the first job.
  explicit RefreshPool(unsigned threads);
  /// close().
  ~RefreshPool();
  RefreshPool(const RefreshPool&) = delete;
  RefreshPool& operator=(const RefreshPool&) = delete;

  /// True if a job for `key` would be taken at `now_ms`: none is queued or
  /// running, its backoff (if any) is over, and the pool is open with threads.
  /// Cheap: one lock and two lookups, so a stale hit can ask before it
  /// builds a job.
  bool wants(const std::string& key, std::int64_t now_ms) const;

  /// Queues `job` for `key`; false (and `job` dropped) if not wanted.
  bool submit(const std::string& key, std::int64_t now_ms, Job job);

  /// Blocks until no job is queued or running. For tests and warm-up code.
  void wait_idle() const;

  /// Takes no more jobs, drops the queued ones, waits up to
  /// k_refresh_close_wait for the running ones and abandons the rest. Idempotent.
  void close();

 private:
  std::shared_ptr<RefreshGate::State> m_state;
  const unsigned m_threads;
  std::vector<std::thread> m_workers;  // started by the first submit (under the state's mutex); joined or detached by close
};

}  // namespace memostore::detail
