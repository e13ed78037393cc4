// InflightTable: makes concurrent calls with the same key in one process
// compute once. The first caller (the leader) computes; the others wait on its
// flight and receive the encoded result, or its exception. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace memostore::detail {

/// What the leader hands to the waiters.
struct FlightResult {
  /// The finished envelope, or null: the result could not be encoded, or the
  /// leader found the entry already stored. Waiters then look up or compute.
  std::shared_ptr<const std::string> envelope;
  std::string_view payload;  // into *envelope
};

class InflightTable {
  struct Flight;

 public:
  /// A caller's place in a flight. The leader must finish or fail it; if it
  /// does neither (an unexpected exception), the destructor releases the
  /// waiters with an empty result.
  class Ticket {
   public:
    Ticket(Ticket&&) noexcept = default;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

    bool leader() const noexcept { return m_leader; }

    /// Waiter: blocks until the leader is done; rethrows its exception.
    FlightResult wait() const;

    /// Leader: publishes `result` and removes the flight from the table.
    void finish(FlightResult result);

    /// Leader: hands `error` (the function's exception) to every waiter.
    void fail(std::exception_ptr error);

   private:
    friend class InflightTable;
    Ticket(InflightTable& table, std::string key, std::shared_ptr<Flight> flight, bool leader);
    void retire();

    InflightTable* m_table;
    std::string m_key;
    std::shared_ptr<Flight> m_flight;
    bool m_leader;
    bool m_done = false;
  };

  /// Joins the flight for `key`, becoming its leader if there is none.
  Ticket join(std::string_view key);

  /// Increases every time a flight ends. A leader that saw it change since its
  /// own lookup looks up again: another flight may have stored the entry.
  std::uint64_t epoch() const noexcept { return m_epoch.load(std::memory_order_acquire); }

  /// How many callers are waiting on the flight for `key` (for tests).
  std::size_t waiters(std::string_view key) const;

 private:
  struct Flight {
    std::promise<FlightResult> promise;
    std::shared_future<FlightResult> future = promise.get_future().share();
    std::size_t waiters = 0;  // guarded by InflightTable::m_mutex
  };

  mutable std::mutex m_mutex;
  std::unordered_map<std::string, std::shared_ptr<Flight>> m_flights;  // guarded by m_mutex
  std::atomic<std::uint64_t> m_epoch{0};
};

}  // namespace memostore::detail
