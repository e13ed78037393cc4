// memostore::singleton: one shared object per distinct arguments, created on
// first use and kept in memory only, never on disk: connections, sessions,
// loaded models, thread pools (Streamlit's cache_resource). A Singleton is a
// cheap handle (copies share state) and is safe to call from many threads;
// concurrent first calls with equal arguments create the object once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <memostore/callable.hpp>
#include <memostore/detail/archive.hpp>
#include <memostore/detail/call_key.hpp>
#include <memostore/detail/signature.hpp>
#include <memostore/detail/singleton_core.hpp>
#include <memostore/error.hpp>
#include <memostore/policy.hpp>
#include <memostore/unhashed.hpp>

namespace memostore {

/// Settings of a singleton whose objects are `T`s. A handle's settings apply
/// to the objects it looks up and creates.
template <class T>
struct SingletonOptions {
  /// How long an object is handed out after its creation; the first call
  /// after that creates a new one. Default: forever.
  std::optional<Duration> ttl = std::nullopt;

  /// At most this many objects (distinct arguments) are kept; creating one
  /// more drops the least recently used. 0: no limit. Default: 0.
  std::size_t max_entries = 0;

  /// Runs on every hit, possibly from several threads at once. Returning
  /// false drops the object and the call creates a new one. Default: none.
  std::function<bool(T&)> validate = nullptr;

  /// What `ttl` is measured with. Default (null): the system clock.
  std::shared_ptr<const Clock> clock = nullptr;

  /// A hit on an object older than this returns it at once and creates its
  /// replacement in the background (one thread for all singletons of the
  /// process); later calls get the new object, and the old one lives on
  /// while its holders keep it. At most one replacement per object at a
  /// time; a factory that throws keeps the old object (until `ttl`), is
  /// logged once per singleton until a replacement succeeds, and is retried
  /// on a later hit after a backoff (1 s, doubling up to 10 min). At process
  /// exit a replacement still running after 2 s is abandoned. The factory and
  /// the arguments are copied for it, so they must be copy-constructible
  /// (else the Singleton constructor throws Error (config)). Default: none.
  std::optional<Duration> refresh_after = std::nullopt;
};

namespace detail {
/// The object type of a factory result: `T` for `T`, `std::unique_ptr<T>` and
/// `std::shared_ptr<T>`.
template <class R>
struct singleton_object {
  using type = R;
  static constexpr bool by_pointer = false;
};
template <>
struct singleton_object<void> {  // rejected with a message by Singleton's static_assert
  struct invalid {};
  using type = invalid;
  static constexpr bool by_pointer = false;
};
template <class T, class D>
struct singleton_object<std::unique_ptr<T, D>> {
  using type = T;
  static constexpr bool by_pointer = true;
};
template <class T>
struct singleton_object<std::shared_ptr<T>> {
  using type = T;
  static constexpr bool by_pointer = true;
};
template <class F>
using singleton_object_t = typename singleton_object<std::remove_cv_t<typename callable_traits<std::remove_cvref_t<F>>::result>>::type;
}  // namespace detail

template <class F, class Signature = detail::signature_of<F>>
class Singleton;

class File;
class Dir;

namespace detail {

/// Why singleton refuses a factory: the first of its problems, in this
/// order, so that one static_assert names it and nothing else is instantiated.
enum class SingletonProblem {
  none, generic, stateful, returns_void, unowned_result, content_argument, path_argument, unkeyable_argument
};

/// memostore::File and memostore::Dir: keyed by content, which needs a store.
template <class T>
inline constexpr bool is_content_input = std::is_same_v<T, File> || std::is_same_v<T, Dir>;

template <class R, class... Args>
consteval SingletonProblem singleton_signature_problem(std::type_identity<R(Args...)>) {
  if constexpr (std::is_void_v<R>) {
    return SingletonProblem::returns_void;
  } else if constexpr (std::is_reference_v<R> || std::is_pointer_v<R>) {
    return SingletonProblem::unowned_result;
  } else if constexpr ((is_content_input<std::remove_cvref_t<Args>> || ...)) {
    return SingletonProblem::content_argument;
  } else if constexpr ((is_path_like<std::remove_cvref_t<Args>> || ...)) {
    return SingletonProblem::path_argument;
  } else if constexpr (!((is_unhashed_v<Args> || is_keyable<std::remove_cvref_t<Args>>) && ...)) {
    return SingletonProblem::unkeyable_argument;
  } else {
    return SingletonProblem::none;
  }
}

template <class F>
consteval SingletonProblem singleton_problem() {
  if constexpr (!has_fixed_signature<F>) {
    return SingletonProblem::generic;
  } else if constexpr (!has_no_unkeyed_state<F>) {
    return SingletonProblem::stateful;
  } else {
    return singleton_signature_problem(std::type_identity<signature_of<F>>{});
  }
}

}  // namespace detail

/// Wraps the factory `fn` so that `s(args...)` returns the one shared object
/// for `args`, calling `fn(args...)` only when there is none (or it expired,
/// was dropped, or failed `validate`). `fn` returns the object by value (built
/// in place, so it need not be movable), as `std::unique_ptr<T>` or as
/// `std::shared_ptr<T>`; a null pointer is an `Error` (usage). Arguments
/// follow memo's rules: cereal-serializable, or `Unhashed<T>`. Objects
/// created through any handle of the same `name` are shared.
///
/// Throws `Error` (config) for an invalid name or one used by a singleton
/// with other types.
///
/// **Example**
/// ```cpp
/// auto get_db = memostore::singleton("db", [](const std::string& url) { return Connection(url); },
///                                    {.ttl = std::chrono::minutes(30), .max_entries = 4});
/// std::shared_ptr<Connection> c = get_db("postgres://...");   // the same object for equal urls
/// ```
///
/// Returns a `Singleton<std::decay_t<F>>`. A factory it cannot take fails to
/// compile with one error, which says what to pass instead.
template <class F>
auto singleton(std::string name, F&& fn, SingletonOptions<detail::singleton_object_t<F>> options = {});

/// Drops every object of every singleton in the process, newest first
/// (Streamlit's "Clear all"). Holders keep theirs until they let go. The same
/// release happens at process exit, when the registry is destroyed.
void clear_singletons();

template <class F, class R, class... Args>
class Singleton<F, R(Args...)> {
  static_assert(!std::is_void_v<R>,
                "memostore::singleton: the factory returns void. It must return the object: by value, as "
                "std::unique_ptr<T> or as std::shared_ptr<T>.");
  static_assert(!std::is_reference_v<R> && !std::is_pointer_v<R>,
                "memostore::singleton: the factory returns a reference or raw pointer, so nobody owns the "
                "object. Return it by value, as std::unique_ptr<T> (the singleton owns it) or as "
                "std::shared_ptr<T>.");
  static_assert(((detail::is_unhashed_v<Args> || detail::is_keyable<std::remove_cvref_t<Args>>) && ...),
                "memostore::singleton: an argument type cannot be part of the key. Make it "
                "cereal-serializable (a serialize(Archive&) member, or the cereal header for a standard "
                "type), or wrap it as memostore::Unhashed<T> to pass it without keying on it.");

 public:
  using object_type = typename detail::singleton_object<std::remove_cv_t<R>>::type;

  Singleton(std::string name, F fn, SingletonOptions<object_type> options);

  /// The shared object for `args`. A hit costs one encode of `args`, a hash,
  /// a shared lock and a shared_ptr copy (plus `validate`, and a clock read
  /// when there is a ttl); a miss calls the factory, once across threads.
  /// Throws what the factory throws (nothing is kept; the next call tries
  /// again), and `Error` (usage) if it returns a null pointer.
  std::shared_ptr<object_type> operator()(Args... args) const;

  /// Drops the object for `args`. Holders keep it until they let go.
  void forget(Args... args) const { m_core.forget(encode_key_arguments(args...)); }

  /// Drops every object of this singleton.
  void clear() const { m_core.clear(); }

  /// How many objects this singleton holds.
  std::size_t size() const { return m_core.size(); }

  const std::string& name() const noexcept { return m_core.name(); }

 private:
  static std::string encode_key_arguments(const std::remove_reference_t<Args>&... args) {
    return detail::encode_key_arguments<std::remove_reference_t<Args>...>(args...);
  }
  std::shared_ptr<void> create(Args&&... args) const;
  /// Copies of the factory, the arguments and the clock that create the
  /// object again later (a background replacement); empty when they cannot be copied.
  detail::OwnedCreate owned_create(const std::remove_reference_t<Args>&... args) const;

  static constexpr bool k_copyable = std::is_copy_constructible_v<F> &&
                                     (std::is_copy_constructible_v<std::decay_t<Args>> && ...);

  F m_fn;
  SingletonOptions<object_type> m_options;
  detail::SingletonCore m_core;
};

// --- Inline implementations ---

template <class F>
auto singleton(std::string name, F&& fn, SingletonOptions<detail::singleton_object_t<F>> options) {
  // Checked here, before Singleton<F> is instantiated, and one problem at a
  // time: the compiler's first error is the one that says what to do.
  using detail::SingletonProblem;
  constexpr SingletonProblem problem = detail::singleton_problem<F>();
  static_assert(problem != SingletonProblem::generic,
                "memostore::singleton needs a factory with one fixed signature: a function, a function "
                "pointer or a non-generic lambda (no `auto` parameters). Write the parameter types out, "
                "e.g. [](const std::string& url) instead of [](auto url).");
  static_assert(problem != SingletonProblem::stateful,
                "memostore::singleton: the callable carries state (a lambda capture or data members) that is "
                "not part of the key, so a changed value would return objects made with the old one. Pass "
                "the values as arguments (keyed) or as memostore::Unhashed<T> (not keyed), or wrap the "
                "callable in memostore::state_not_keyed(fn) when its state cannot change results (a logger, "
                "a counter).");
  static_assert(problem != SingletonProblem::returns_void,
                "memostore::singleton: the factory returns void. It must return the object: by value, as "
                "std::unique_ptr<T> or as std::shared_ptr<T>.");
  static_assert(problem != SingletonProblem::unowned_result,
                "memostore::singleton: the factory returns a reference or raw pointer, so nobody owns the "
                "object. Return it by value, as std::unique_ptr<T> (the singleton owns it) or as "
                "std::shared_ptr<T>.");
  static_assert(problem != SingletonProblem::content_argument,
                "memostore::singleton: a memostore::File or memostore::Dir argument is keyed by the file's "
                "content, which only memostore::memo does (it needs a store). Take the path as a std::string "
                "(one object per path), or load the file's content with memostore::memo.");
  static_assert(problem != SingletonProblem::path_argument,
                "memostore::singleton: an argument is a std::filesystem::path, std::string_view or const "
                "char*, which cannot be part of the key. Take a std::string instead (one object per "
                "distinct text).");
  static_assert(problem != SingletonProblem::unkeyable_argument,
                "memostore::singleton: an argument type cannot be part of the key. Make it "
                "cereal-serializable (a serialize(Archive&) member, or the cereal header for a standard "
                "type), or wrap it as memostore::Unhashed<T> to pass it without keying on it.");
  if constexpr (problem == SingletonProblem::none) {
    return Singleton<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
  } else {
    return detail::Refused{};
  }
}

template <class F, class R, class... Args>
Singleton<F, R(Args...)>::Singleton(std::string name, F fn, SingletonOptions<object_type> options)
    : m_fn(std::move(fn)),
      m_options(std::move(options)),
      m_core(name, detail::type_fingerprint<R, Args...>()) {
  if (!m_options.clock) {
    m_options.clock = system_clock();
  }
  if (m_options.refresh_after && !k_copyable) {
    throw Error(ErrorCode::config,
                "singleton \"" + m_core.name() +
                    "\": refresh_after is set, but the factory or an argument type cannot be copied, and a "
                    "background replacement runs on copies after the call returned. Make them copyable, or "
                    "drop refresh_after");
  }
}

template <class F, class R, class... Args>
detail::OwnedCreate Singleton<F, R(Args...)>::owned_create(const std::remove_reference_t<Args>&... args) const {
  if constexpr (k_copyable) {
    // A copy of this handle: the factory, its options and its table.
    auto create = [self = *this, copies = std::tuple<std::decay_t<Args>...>(args...)]() mutable {
      return std::apply([&](auto&... copy) { return self.create(static_cast<Args&&>(copy)...); }, copies);
    };
    return detail::OwnedCreate{std::move(create), m_options.clock};
  } else {
    ((void)args, ...);
    return {};
  }
}

template <class F, class R, class... Args>
std::shared_ptr<void> Singleton<F, R(Args...)>::create(Args&&... args) const {
  std::shared_ptr<object_type> object;
  if constexpr (detail::singleton_object<std::remove_cv_t<R>>::by_pointer) {
    object = std::invoke(m_fn, std::forward<Args>(args)...);
    if (!object) {
      throw Error(ErrorCode::usage, "singleton \"" + name() +
                                        "\": the factory returned a null pointer; return an object, or throw "
                                        "to report that it cannot be made");
    }
  } else {
    // Not make_shared: `new T(prvalue)` constructs in place (guaranteed copy
    // elision), so objects that can be neither copied nor moved work too.
    object = std::shared_ptr<object_type>(new object_type(std::invoke(m_fn, std::forward<Args>(args)...)));
  }
  void* address = const_cast<void*>(static_cast<const void*>(object.get()));
  return std::shared_ptr<void>(std::move(object), address);
}

template <class F, class R, class... Args>
auto Singleton<F, R(Args...)>::operator()(Args... args) const -> std::shared_ptr<object_type> {
  const std::string key_arguments = encode_key_arguments(args...);
  const detail::SingletonPolicy policy{m_options.ttl, m_options.max_entries, m_options.clock.get(),
                                      m_options.refresh_after};
  auto validate = [this](void* object) { return m_options.validate(*static_cast<object_type*>(object)); };
  const detail::ValidateFn validate_ref(validate);
  auto create = [&]() { return this->create(std::forward<Args>(args)...); };
  auto make_refresh = [&] { return owned_create(args...); };
  std::shared_ptr<void> object =
      m_core.get(key_arguments, policy, m_options.validate ? &validate_ref : nullptr, create, make_refresh);
  auto* typed = static_cast<object_type*>(object.get());
  return std::shared_ptr<object_type>(std::move(object), typed);
}

}  // namespace memostore
