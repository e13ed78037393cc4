// The process-wide singleton registry: one table per singleton name, so every
// handle made with the same name shares the same objects. It is destroyed
// with the other function-local statics at exit and releases the objects
// still in it then, newest first.
#include <map>
#include <mutex>

#include <fmt/format.h>

#include <memostore/singleton.hpp>

#include "codec/key.hpp"
#include "singleton/singleton_table.hpp"
#include "util/result.hpp"

namespace memostore {
namespace detail {
namespace {

class SingletonRegistry {
 public:
  ~SingletonRegistry() { clear_all(); }

  std::shared_ptr<SingletonTable> table(std::string_view name, const Hash128& type) {
    std::lock_guard lock(m_mutex);
    auto it = m_tables.find(name);
    if (it == m_tables.end()) {
      it = m_tables.emplace(std::string(name), std::make_shared<SingletonTable>(std::string(name), type)).first;
    } else if (it->second->type() != type) {
      throw Error(ErrorCode::config,
                  fmt::format("singleton \"{}\" already exists with another object or argument type; give each "
                              "singleton its own name",
                              name));
    }
    return it->second;
  }

  /// Drops every object of every singleton, newest first across all of them.
  void clear_all() {
    std::vector<Released> released;
    {
      std::lock_guard lock(m_mutex);
      for (auto& [name, table] : m_tables) {
        table->take_all(released);
      }
    }
    release_newest_first(released);
  }

 private:
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<SingletonTable>, std::less<>> m_tables;  // guarded by m_mutex
};

SingletonRegistry& registry() {
  static SingletonRegistry instance;
  return instance;
}

}  // namespace

SingletonCore::SingletonCore(std::string_view name, const Hash128& type) {
  value_or_throw(check_function_name(name, "singleton"));
  m_table = registry().table(name, type);
}

std::shared_ptr<void> SingletonCore::get(std::string_view args, const SingletonPolicy& policy,
                                         const ValidateFn* validate, CreateFn create,
                                         MakeOwnedCreateFn make_refresh) const {
  return m_table->get(args, policy, validate, create, make_refresh);
}

void SingletonCore::forget(std::string_view args) const { m_table->forget(args); }

void SingletonCore::clear() const {
  std::vector<Released> released;
  m_table->take_all(released);
  release_newest_first(released);
}

std::size_t SingletonCore::size() const { return m_table->size(); }

const std::string& SingletonCore::name() const noexcept { return m_table->name(); }

std::size_t SingletonCore::waiters(std::string_view args) const { return m_table->waiters(args); }

}  // namespace detail

void clear_singletons() { detail::registry().clear_all(); }

}  // namespace memostore
