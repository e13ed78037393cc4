// SingletonTable: the objects of one named singleton, by encoded arguments.
// Hits take a shared lock and copy a shared_ptr, so threads hitting the same
// object do not wait for each other; creation, dropping and eviction take the
// exclusive lock briefly. Objects are always released (their last reference
// here dropped) after the lock is let go, so a slow or re-entrant destructor
// never blocks the table.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <memostore/detail/hash128.hpp>
#include <memostore/detail/singleton_core.hpp>

#include "util/flight_table.hpp"
#include "util/striped_shared_mutex.hpp"

namespace memostore::detail {

/// An object on its way out, with its process-wide creation number.
struct Released {
  std::uint64_t creation_number = 0;
  std::shared_ptr<void> object;
};

/// Process-wide order in which objects were created, across all singletons.
std::uint64_t next_singleton_creation_number() noexcept;

/// Blocks until no background replacement of a singleton object
/// (SingletonOptions::refresh_after) is queued or running. For tests.
void wait_for_singleton_refreshes();

/// Lets go of `objects` one by one, newest creation first (so an object made
/// from another is released before it).
void release_newest_first(std::vector<Released>& objects);

class SingletonTable : public std::enable_shared_from_this<SingletonTable> {
 public:
  SingletonTable(std::string name, const Hash128& type) : m_name(std::move(name)), m_type(type) {}

  std::shared_ptr<void> get(std::string_view args, const SingletonPolicy& policy, const ValidateFn* validate,
                            CreateFn create, MakeOwnedCreateFn make_refresh);
  void forget(std::string_view args);
  std::size_t size() const;
  std::size_t waiters(std::string_view args) const { return m_flights.waiters(args); }

  /// Moves every object out of the table into `out`.
  void take_all(std::vector<Released>& out);

  const std::string& name() const noexcept { return m_name; }
  const Hash128& type() const noexcept { return m_type; }

 private:
  struct Entry {
    Entry(std::shared_ptr<void> object, std::int64_t created_ms, std::uint64_t creation_number,
          std::uint64_t last_used)
        : object(std::move(object)),
          created_ms(created_ms),
          creation_number(creation_number),
          last_used(last_used) {}

    std::shared_ptr<void> object;
    std::int64_t created_ms;
    std::uint64_t creation_number;
    // m_tick at the latest hit: orders entries for LRU. The one field a hit
    // writes, under the shared lock.
    mutable std::atomic<std::uint64_t> last_used;
  };

  /// Encoded arguments hash with XXH3; lookups take a string_view.
  struct ArgumentsHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view args) const noexcept;
  };

  struct Lookup {
    std::shared_ptr<void> object;
    bool expired = false;
    std::int64_t created_ms = 0;
  };

  Lookup find(std::string_view args, const SingletonPolicy& policy) const;
  void mark_used(const Entry& entry) const noexcept;
  /// Removes the entry for `args`; with `only`, just if it still holds that object.
  void remove(std::string_view args, const void* only);
  std::shared_ptr<void> create(std::string_view args, const SingletonPolicy& policy, CreateFn create,
                               FlightTable<std::shared_ptr<void>>::Ticket& ticket);
  /// After a hit on `found`: starts its background replacement when it is
  /// older than policy.refresh_after (singleton_refresh.cpp).
  void refresh_if_old(std::string_view args, const Lookup& found, const SingletonPolicy& policy,
                      MakeOwnedCreateFn make_refresh);
  /// Puts `fresh` in place of `stale` for `args` (created at `now_ms`), unless
  /// the entry was dropped or replaced meanwhile; the old object goes to its holders.
  void replace(const std::string& args, const void* stale, std::shared_ptr<void> fresh, std::int64_t now_ms);
  void evict_over(std::size_t max_entries, std::vector<Released>& out);  // REQUIRES: m_mutex held exclusively

  const std::string m_name;
  const Hash128 m_type;
  mutable StripedSharedMutex m_mutex;  // hits lock one stripe; changes lock all
  std::unordered_map<std::string, Entry, ArgumentsHash, std::equal_to<>> m_entries;  // guarded by m_mutex
  // Advances when a hit lands on an entry other than the most recent one, so a
  // run of hits on one object writes nothing shared.
  mutable std::atomic<std::uint64_t> m_tick{0};
  FlightTable<std::shared_ptr<void>> m_flights;
};

}  // namespace memostore::detail
