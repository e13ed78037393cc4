// Replacing old singleton objects in the background
// (SingletonOptions::refresh_after): the refresh pool of memo entries
// (store/refresh_pool.hpp), one process-wide instance with one thread, since
// singletons belong to no store.
#include <exception>
#include <optional>
#include <string>

#include "policy/expiry.hpp"
#include "singleton/singleton_table.hpp"
#include "store/refresh_pool.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

/// Closed (bounded, like a store's) when static objects are destroyed at exit.
RefreshPool& singleton_refreshes() {
  static RefreshPool pool(1);
  return pool;
}

}  // namespace

void wait_for_singleton_refreshes() { singleton_refreshes().wait_idle(); }

void SingletonTable::refresh_if_old(std::string_view args, const Lookup& found, const SingletonPolicy& policy,
                                    MakeOwnedCreateFn make_refresh) {
  const std::int64_t now = unix_ms(policy.clock->now());
  if (now - found.created_ms < policy.refresh_after->count()) {
    return;
  }
  std::string key = m_name;
  key += '\0';
  key += args;
  RefreshPool& pool = singleton_refreshes();
  if (!pool.wants(key, now)) {
    return;
  }
  OwnedCreate owned = make_refresh();
  if (!owned.create) {
    return;
  }
  // The job keeps the table alive (a table outlives its handles anyway: the
  // registry holds it) and names the stale object by address only.
  pool.submit(key, now,
              [table = shared_from_this(), args = std::string(args), stale = found.object.get(), key,
               owned = std::move(owned)](RefreshGate& gate) {
                std::shared_ptr<void> fresh;
                std::optional<std::string> failure;
                try {
                  fresh = owned.create();
                } catch (const std::exception& e) {  // the factory's: the old object stays
                  failure = e.what();
                } catch (...) {  // likewise; recorded below
                  failure = "an exception not derived from std::exception";
                }
                const RefreshGate::Inside inside = gate.enter();
                if (!inside) {
                  return;  // the process is exiting
                }
                const std::int64_t done = unix_ms(owned.clock->now());
                if (gate.record(table->name(), key, failure.has_value(), done)) {
                  if (failure) {
                    warn("singleton \"{}\": a background replacement of an old object threw ({}); the old one is "
                         "kept until its ttl and replaced on a later call, after a backoff. Further failures "
                         "are not reported until a replacement succeeds",
                         table->name(), *failure);
                  } else {
                    log(LogLevel::info, "singleton \"{}\": background replacements succeed again", table->name());
                  }
                }
                if (fresh) {
                  table->replace(args, stale, std::move(fresh), done);
                }
              });
}

void SingletonTable::replace(const std::string& args, const void* stale, std::shared_ptr<void> fresh,
                             std::int64_t now_ms) {
  std::vector<Released> released;
  {
    std::unique_lock lock(m_mutex);
    const auto it = m_entries.find(args);
    if (it == m_entries.end() || it->second.object.get() != stale) {
      released.push_back({0, std::move(fresh)});  // forgotten or replaced meanwhile: theirs stands
    } else {
      released.push_back({it->second.creation_number, std::move(it->second.object)});
      it->second.object = std::move(fresh);
      it->second.created_ms = now_ms;
      it->second.creation_number = next_singleton_creation_number();
    }
  }
  release_newest_first(released);  // the old object lives on while callers hold it
}

}  // namespace memostore::detail
