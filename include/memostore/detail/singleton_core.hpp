// The compiled half of singleton<F>: everything that does not depend on the
// user's types (the table of objects, compute-once creation, ttl, eviction,
// validation, release order) works on type-erased objects here, so the
// template in singleton.hpp only encodes arguments and casts.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <memostore/detail/function_ref.hpp>
#include <memostore/detail/hash128.hpp>
#include <memostore/policy.hpp>

namespace memostore::detail {

class SingletonTable;  // lib/singleton/singleton_table.hpp

/// The calling handle's policy: it applies to the objects it looks up and creates.
struct SingletonPolicy {
  std::optional<Duration> ttl;
  std::size_t max_entries = 0;  // 0: no limit
  const Clock* clock = nullptr;  // never null
  std::optional<Duration> refresh_after = std::nullopt;
};

/// What a background replacement (SingletonOptions::refresh_after) runs:
/// owned copies, since it runs after the call returned. Empty `create`: none.
struct OwnedCreate {
  std::function<std::shared_ptr<void>()> create;
  std::shared_ptr<const Clock> clock;
};

/// Makes the OwnedCreate of the current call; called only for an old object.
using MakeOwnedCreateFn = FunctionRef<OwnedCreate()>;

/// Creates the object; never returns null (the template throws instead).
using CreateFn = FunctionRef<std::shared_ptr<void>()>;

/// Checks an object on a hit; false drops it.
using ValidateFn = FunctionRef<bool(void*)>;

class SingletonCore {
 public:
  /// Joins the process-wide table for `name`, creating it on first use.
  /// Throws Error (config) for an invalid name, or one already used by a
  /// singleton of another object or argument type.
  SingletonCore(std::string_view name, const Hash128& type);

  /// The live object for the encoded arguments `args`: an existing one (if
  /// unexpired and `validate`, when given, accepts it), or the one another
  /// thread is creating, or a new one from `create`. Throws what `create` throws.
  /// An object older than policy.refresh_after is returned and replaced in
  /// the background through `make_refresh`.
  std::shared_ptr<void> get(std::string_view args, const SingletonPolicy& policy, const ValidateFn* validate,
                            CreateFn create, MakeOwnedCreateFn make_refresh) const;

  /// Drops the object for `args`; holders keep theirs.
  void forget(std::string_view args) const;

  /// Drops every object of this singleton, newest first.
  void clear() const;

  /// How many objects the table holds.
  std::size_t size() const;

  const std::string& name() const noexcept;

  /// How many callers wait for the object for `args` being created (for tests).
  std::size_t waiters(std::string_view args) const;

 private:
  std::shared_ptr<SingletonTable> m_table;
};

}  // namespace memostore::detail
