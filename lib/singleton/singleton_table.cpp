#include "singleton/singleton_table.hpp"

#include <algorithm>
#include <exception>
#include <mutex>

#include <xxhash.h>

#include "policy/eviction.hpp"
#include "policy/expiry.hpp"

namespace memostore::detail {
std::uint64_t next_singleton_creation_number() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

namespace {

std::int64_t now_ms(const SingletonPolicy& policy) { return unix_ms(policy.clock->now()); }

}  // namespace

void release_newest_first(std::vector<Released>& objects) {
  std::sort(objects.begin(), objects.end(),
            [](const Released& a, const Released& b) { return a.creation_number > b.creation_number; });
  for (Released& released : objects) {
    released.object.reset();  // runs the destructor unless a caller still holds it
  }
  objects.clear();
}

std::size_t SingletonTable::ArgumentsHash::operator()(std::string_view args) const noexcept {
  return static_cast<std::size_t>(XXH3_64bits(args.data(), args.size()));
}

std::shared_ptr<void> SingletonTable::get(std::string_view args, const SingletonPolicy& policy,
                                          const ValidateFn* validate, CreateFn create,
                                          MakeOwnedCreateFn make_refresh) {
  for (;;) {
    const std::uint64_t epoch = m_flights.epoch();
    Lookup found = find(args, policy);
    if (found.object && !found.expired) {
      if (validate == nullptr || (*validate)(found.object.get())) {
        if (policy.refresh_after) {
          refresh_if_old(args, found, policy, make_refresh);
        }
        return found.object;
      }
      remove(args, found.object.get());  // failed validation: this call makes a new one
    } else if (found.expired) {
      remove(args, found.object.get());
    }
    found.object.reset();

    auto ticket = m_flights.join(args);
    if (!ticket.leader()) {
      if (auto shared = ticket.wait()) {  // rethrows the creator's exception
        return shared;
      }
      continue;  // the leader found an object after all: look again
    }
    // A flight that ended between our lookup and join may have created it.
    if (m_flights.epoch() != epoch && find(args, policy).object) {
      continue;  // the ticket releases any waiters to look again too
    }
    return this->create(args, policy, create, ticket);
  }
}

SingletonTable::Lookup SingletonTable::find(std::string_view args, const SingletonPolicy& policy) const {
  std::shared_lock lock(m_mutex);
  const auto it = m_entries.find(args);
  if (it == m_entries.end()) {
    return {};
  }
  const Entry& entry = it->second;
  if (policy.ttl && expired(deadline_ms(entry.created_ms, policy.ttl), now_ms(policy))) {
    return {entry.object, true, entry.created_ms};
  }
  mark_used(entry);
  return {entry.object, false, entry.created_ms};
}

void SingletonTable::mark_used(const Entry& entry) const noexcept {
  const std::uint64_t tick = m_tick.load(std::memory_order_relaxed);
  if (entry.last_used.load(std::memory_order_relaxed) != tick) {
    entry.last_used.store(m_tick.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
}

void SingletonTable::remove(std::string_view args, const void* only) {
  std::vector<Released> released;
  {
    std::unique_lock lock(m_mutex);
    const auto it = m_entries.find(args);
    if (it == m_entries.end() || (only != nullptr && it->second.object.get() != only)) {
      return;  // another thread dropped or replaced it already
    }
    released.push_back({it->second.creation_number, std::move(it->second.object)});
    m_entries.erase(it);
  }
  release_newest_first(released);
}

std::shared_ptr<void> SingletonTable::create(std::string_view args, const SingletonPolicy& policy, CreateFn create,
                                             FlightTable<std::shared_ptr<void>>::Ticket& ticket) {
  std::shared_ptr<void> object;
  try {
    object = create();
  } catch (...) {  // the factory's exception: every waiter gets it, nothing is kept
    ticket.fail(std::current_exception());
    throw;
  }
  std::vector<Released> released;
  {
    std::unique_lock lock(m_mutex);
    const std::uint64_t stamp = m_tick.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto it = m_entries.find(args);
    if (it != m_entries.end()) {  // forgotten and re-created meanwhile: the newest wins
      released.push_back({it->second.creation_number, std::move(it->second.object)});
      m_entries.erase(it);
    }
    m_entries.try_emplace(std::string(args), object, now_ms(policy), next_singleton_creation_number(), stamp);
    if (policy.max_entries != 0) {
      evict_over(policy.max_entries, released);
    }
  }
  ticket.finish(object);
  release_newest_first(released);
  return object;
}

void SingletonTable::evict_over(std::size_t max_entries, std::vector<Released>& out) {
  if (m_entries.size() <= max_entries) {
    return;
  }
  std::vector<decltype(m_entries)::iterator> entries;
  std::vector<Candidate> candidates;
  entries.reserve(m_entries.size());
  candidates.reserve(m_entries.size());
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    entries.push_back(it);
    candidates.push_back({it->second.last_used.load(std::memory_order_relaxed), 0, false});
  }
  for (std::size_t victim : choose_evictions(candidates, Limits{max_entries, 0}, 1.0)) {
    out.push_back({entries[victim]->second.creation_number, std::move(entries[victim]->second.object)});
    m_entries.erase(entries[victim]);
  }
}

void SingletonTable::forget(std::string_view args) { remove(args, nullptr); }

std::size_t SingletonTable::size() const {
  std::shared_lock lock(m_mutex);
  return m_entries.size();
}

void SingletonTable::take_all(std::vector<Released>& out) {
  std::unique_lock lock(m_mutex);
  for (auto& [args, entry] : m_entries) {
    out.push_back({entry.creation_number, std::move(entry.object)});
  }
  m_entries.clear();
}

}  // namespace memostore::detail
