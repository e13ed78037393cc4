#include "memo/inflight.hpp"

namespace memostore::detail {

InflightTable::Ticket::Ticket(InflightTable& table, std::string key, std::shared_ptr<Flight> flight, bool leader)
    : m_table(&table), m_key(std::move(key)), m_flight(std::move(flight)), m_leader(leader) {}

InflightTable::Ticket::~Ticket() {
  if (m_leader && !m_done && m_flight) {
    finish(FlightResult{});
  }
}

FlightResult InflightTable::Ticket::wait() const { return m_flight->future.get(); }

void InflightTable::Ticket::retire() {
  {
    std::lock_guard lock(m_table->m_mutex);
    m_table->m_flights.erase(m_key);
  }
  m_table->m_epoch.fetch_add(1, std::memory_order_acq_rel);
  m_done = true;
}

void InflightTable::Ticket::finish(FlightResult result) {
  // Removed from the table first: a caller arriving now starts a new flight,
  // sees the epoch moved and finds the stored entry.
  retire();
  m_flight->promise.set_value(std::move(result));
}

void InflightTable::Ticket::fail(std::exception_ptr error) {
  retire();
  m_flight->promise.set_exception(std::move(error));
}

InflightTable::Ticket InflightTable::join(std::string_view key) {
  std::lock_guard lock(m_mutex);
  auto [it, inserted] = m_flights.try_emplace(std::string(key));
  if (inserted) {
    it->second = std::make_shared<Flight>();
  } else {
    ++it->second->waiters;
  }
  return Ticket(*this, it->first, it->second, inserted);
}

std::size_t InflightTable::waiters(std::string_view key) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_flights.find(std::string(key));
  return it == m_flights.end() ? 0 : it->second->waiters;
}

}  // namespace memostore::detail
