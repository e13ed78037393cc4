// FlightTable<Value>: makes concurrent requests for the same key in one process
// do the work once. The first caller (the leader) works; the others wait on its
// flight and receive its value, or its exception. Thread-safe.
// Used by memo (the value is the finished entry) and by singletons (the object).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace memostore::detail {

template <class Value>
class FlightTable {
  struct Flight;

 public:
  /// A caller's place in a flight. The leader finishes or fails it once; if
  /// it does neither (it found the value stored after all, or an unexpected
  /// exception), the destructor releases the waiters with a default-constructed
  /// value, and they look again.
  class Ticket {
   public:
    Ticket(Ticket&&) noexcept = default;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (m_leader && !m_done && m_flight) {
        finish(Value{});
      }
    }

    bool leader() const noexcept { return m_leader; }

    /// Waiter: blocks until the leader is done; rethrows its exception.
    /// Waiters sleep on the table's one mutex: flights are short, and a
    /// value is a pointer or two to copy.
    Value wait() const {
      std::unique_lock lock(m_table->m_mutex);
      ++m_flight->sleepers;
      m_flight->done.wait(lock, [&] { return m_flight->finished; });
      --m_flight->sleepers;
      if (m_flight->error) {
        std::rethrow_exception(m_flight->error);
      }
      return m_flight->value;
    }

    /// Leader: removes the flight from the table, bumps the epoch and
    /// publishes `value`, in one step: a caller arriving after it starts a
    /// new flight, sees the epoch moved and finds what the leader stored.
    void finish(Value value) { publish(std::move(value), nullptr); }

    /// Leader: hands `error` (the work's exception) to every waiter.
    void fail(std::exception_ptr error) { publish(Value{}, std::move(error)); }

   private:
    friend class FlightTable;
    Ticket(FlightTable& table, std::string key, std::shared_ptr<Flight> flight, bool leader)
        : m_table(&table), m_key(std::move(key)), m_flight(std::move(flight)), m_leader(leader) {}

    // One lock for the removal, the epoch and the result, so that a caller
    // that joins after the removal always sees the epoch moved. A flight
    // nobody sleeps on wakes nobody: no system call on the uncontended path.
    // (std::promise::set_value goes through std::call_once, and glibc's
    // pthread_once ends with a futex wake whether or not anyone waits.)
    void publish(Value value, std::exception_ptr error) {
      if (m_done) {
        return;  // published already: the first result stands
      }
      bool sleeping = false;
      {
        std::lock_guard lock(m_table->m_mutex);
        // Only this flight: a second call must not remove a newer one.
        if (const auto it = m_table->m_flights.find(m_key); it != m_table->m_flights.end() && it->second == m_flight) {
          m_table->m_flights.erase(it);
        }
        m_table->m_epoch.fetch_add(1, std::memory_order_acq_rel);
        m_flight->value = std::move(value);
        m_flight->error = std::move(error);
        m_flight->finished = true;
        sleeping = m_flight->sleepers > 0;
      }
      m_done = true;
      if (sleeping) {
        m_flight->done.notify_all();  // m_flight keeps the condition variable alive
      }
    }

    FlightTable* m_table;
    std::string m_key;
    std::shared_ptr<Flight> m_flight;
    bool m_leader;
    bool m_done = false;
  };

  /// Joins the flight for `key`, becoming its leader if there is none.
  Ticket join(std::string_view key) {
    std::lock_guard lock(m_mutex);
    auto [it, inserted] = m_flights.try_emplace(std::string(key));
    if (inserted) {
      it->second = std::make_shared<Flight>();
    } else {
      ++it->second->waiters;
    }
    return Ticket(*this, it->first, it->second, inserted);
  }

  /// Increases every time a flight ends. A leader that saw it change since its
  /// own lookup looks up again: another flight may have stored the result.
  std::uint64_t epoch() const noexcept { return m_epoch.load(std::memory_order_acquire); }

  /// How many callers are waiting on the flight for `key` (for tests).
  std::size_t waiters(std::string_view key) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_flights.find(std::string(key));
    return it == m_flights.end() ? 0 : it->second->waiters;
  }

 private:
  struct Flight {
    // All guarded by FlightTable::m_mutex.
    std::condition_variable done;  // signalled once `finished`
    bool finished = false;
    Value value;
    std::exception_ptr error;  // the leader's exception, if it failed
    std::size_t waiters = 0;   // callers that joined it, for waiters()
    std::size_t sleepers = 0;  // callers blocked in wait()
  };

  mutable std::mutex m_mutex;
  std::unordered_map<std::string, std::shared_ptr<Flight>> m_flights;  // guarded by m_mutex
  std::atomic<std::uint64_t> m_epoch{0};
};

}  // namespace memostore::detail
