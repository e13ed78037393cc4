// memostore::memo: wraps a function so each distinct call is computed once and
// its result kept in a Store, across restarts, processes and machines.
// A Memo is a cheap handle (copies share state) and is safe to call from many
// threads; concurrent calls with equal arguments compute once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <memostore/callable.hpp>
#include <memostore/inflight.hpp>
#include <memostore/detail/archive.hpp>
#include <memostore/detail/call_inputs.hpp>
#include <memostore/detail/call_key.hpp>
#include <memostore/detail/memo_core.hpp>
#include <memostore/detail/signature.hpp>
#include <memostore/inputs.hpp>
#include <memostore/shared.hpp>
#include <memostore/store.hpp>
#include <memostore/unhashed.hpp>

namespace memostore {

/// Per-function settings.
struct MemoOptions {
  /// Bump when the function's logic (or its result's serialization) changes:
  /// entries of other versions are then never returned, are evicted first and
  /// are removed by Store::gc. Default: 0.
  std::uint32_t version = 0;

  /// How long a result stays valid after it was computed; an older one is a
  /// miss and is computed again. Checked on every read against the store's
  /// clock. Default: the store's `default_ttl` (none: forever).
  std::optional<Duration> ttl = std::nullopt;

  /// At most this many entries of this function are kept; beyond it the least
  /// recently used go (down to about 90 %). 0: no limit. Default: 0.
  std::uint64_t max_entries = 0;

  /// At most this many live bytes of this function, likewise. 0: no limit. Default: 0.
  std::uint64_t max_bytes = 0;

  /// Compute once across processes: when another process sharing the store
  /// is computing the same call, wait for its result instead of computing it
  /// too (threads of one process always do). Costs a few file operations per
  /// miss, 0.2-0.4 ms (and, with a remote tier, a Redis round trip). A killed owner
  /// releases its claim at once (an flock). Default: automatic (shared with
  /// processes for functions whose latest computation took 50 ms or more, or
  /// that were not computed yet; see Inflight).
  Inflight inflight = Inflight::automatic;

  /// The first spelling of `inflight = Inflight::shared` (either shares).
  /// Kept, and not marked [[deprecated]]: earlier releases promised this
  /// name, and a deprecation warning is an error in every build with
  /// -Werror, this project's own among them. New code says `inflight`.
  bool share_inflight = false;

  /// When shared: the longest wait for another process's computation;
  /// after it, this process computes the result itself. Default: 10 minutes.
  Duration inflight_lease = std::chrono::minutes(10);

  /// Files and directories whose content joins the key of every call: inputs
  /// the arguments do not show, such as a configuration file the function
  /// reads. A directory counts as memostore::Dir(path) (every file in its
  /// tree). Relative paths are taken against the working directory at each
  /// call. Checked like File arguments (memostore/inputs.hpp); a missing one
  /// is an Error (io) at the call. Default: none.
  std::vector<std::filesystem::path> depends_on = {};

  /// Stale-while-revalidate: a hit on an entry older than this returns the
  /// stored result at once and starts one background recomputation of the
  /// call on the store's pool (StoreOptions::refresh_threads); its result
  /// replaces the entry (locally and in the remote tier) and later hits see
  /// it. At most one refresh of a key runs in a process; with
  /// Inflight::shared, at most one across the processes sharing the store
  /// and the machines sharing its remote tier (the claim and lease a miss
  /// takes; a refresh never waits for them, it leaves the call to their
  /// holder). `ttl` stays the hard limit: an entry past it is a miss,
  /// however its refresh went. A refresh that throws is logged once per
  /// function until one succeeds, counted in FunctionStats::refresh_failures,
  /// and retried on a later hit after a backoff (1 s, doubling up to 10 min);
  /// the stored result is served meanwhile. Readwrite mode only (readonly and
  /// off never refresh, refresh and check modes compute every call anyway).
  /// The function and the arguments are copied for the refresh, so every
  /// argument type must be copy-constructible (else the Memo constructor
  /// throws Error (config)). Default: none (never refreshed in the background).
  std::optional<Duration> refresh_after = std::nullopt;

  /// True when every call is shared across processes (by either field).
  bool shares_inflight() const noexcept { return inflight == Inflight::shared || share_inflight; }
};

template <class F, class Signature = detail::signature_of<F>>
class Memo;

namespace detail {

/// Why memo refuses a callable: the first of its problems, in this order, so
/// that one static_assert names it and nothing else is instantiated.
enum class MemoProblem {
  none, generic, stateful, returns_void, shared_result, unstorable_result, path_argument, unkeyable_argument
};

template <class R, class... Args>
consteval MemoProblem memo_signature_problem(std::type_identity<R(Args...)>) {
  if constexpr (std::is_void_v<R>) {
    return MemoProblem::returns_void;
  } else if constexpr (is_shared_v<std::remove_cvref_t<R>>) {
    return MemoProblem::shared_result;
  } else if constexpr (!is_storable<std::remove_cvref_t<R>>) {
    return MemoProblem::unstorable_result;
  } else if constexpr ((is_path_like<std::remove_cvref_t<Args>> || ...)) {
    return MemoProblem::path_argument;
  } else if constexpr (!((is_unhashed_v<Args> || is_keyable<std::remove_cvref_t<Args>>) && ...)) {
    return MemoProblem::unkeyable_argument;
  } else {
    return MemoProblem::none;
  }
}

template <class F>
consteval MemoProblem memo_problem() {
  if constexpr (!has_fixed_signature<F>) {
    return MemoProblem::generic;
  } else if constexpr (!has_no_unkeyed_state<F>) {
    return MemoProblem::stateful;
  } else {
    return memo_signature_problem(std::type_identity<signature_of<F>>{});
  }
}

}  // namespace detail

/// Wraps `fn` so that `memo(args...)` returns the result stored in `store`
/// for (`name`, `options.version`, result type, `args`), computing and storing
/// it on a miss.
///
/// `fn` is a function, function pointer or non-generic lambda, callable
/// concurrently, that holds no state the key cannot see: a lambda with
/// captures or a functor with data members does not compile (pass those
/// values as arguments, or see `state_not_keyed`); `MEMOSTORE_SOURCE(fn)`
/// also keys on its source text (memostore/callable.hpp). Its result type and its arguments (other than
/// `memostore::Unhashed<T>` ones) must be cereal-serializable; the result
/// type must also be default-constructible. `name` identifies the function in
/// the store, so keep it stable and unique. Throws `Error` (config) for an
/// empty name, one over 256 bytes, or one containing a NUL byte.
///
/// **Example**
/// ```cpp
/// auto load = memostore::memo(store, "load_prices",
///     [](const memostore::File& csv) { return parse_csv(csv.path()); }, {.version = 2});
/// std::vector<double> v = load(memostore::File("prices.csv"));   // computes once, then hits
///                                                     // until the bytes of prices.csv change
/// ```
///
/// Returns a `Memo<std::decay_t<F>>`. A callable it cannot take fails to
/// compile with one error, which says what to pass instead.
template <class F>
auto memo(Store store, std::string name, F&& fn, MemoOptions options = {});

/// The same, on `default_store()`.
template <class F>
auto memo(std::string name, F&& fn, MemoOptions options = {});

template <class F, class R, class... Args>
class Memo<F, R(Args...)> {
  static_assert(!std::is_void_v<R>,
                "memostore::memo: the function returns void. A memoized function must return the value "
                "to cache; for side effects with no result, memoization is the wrong tool.");

 public:
  using result_type = std::remove_cvref_t<R>;

  static_assert(detail::is_storable<result_type>,
                "memostore::memo: the result type cannot be stored. It must be default-constructible "
                "and cereal-serializable: give it a serialize(Archive&) member, or include the cereal "
                "header for a standard type (e.g. <cereal/types/vector.hpp>).");
  static_assert(((detail::is_unhashed_v<Args> || detail::is_keyable<std::remove_cvref_t<Args>>) && ...),
                "memostore::memo: an argument type cannot be part of the key. Make it cereal-serializable "
                "(a serialize(Archive&) member, or the cereal header for a standard type), or wrap it "
                "as memostore::Unhashed<T> to pass it without keying on it.");

  Memo(Store store, std::string name, F fn, MemoOptions options);

  /// Returns fn(args...), from the store when an entry exists; `fn` is not
  /// called on a hit. A hit costs one encode of `args` (with a stat of each
  /// File, Dir and depends_on input) and one decode, and the entry comes from
  /// the first tier that holds it: the in-process hot tier (a lookup in
  /// memory, for small entries this process read recently;
  /// StoreOptions::hot_cache_bytes), else one point read of the store (plus
  /// a signature check with a secret), else, with a remote tier, one round
  /// trip to Redis (the entry is checked and copied into the store). A miss
  /// calls `fn`, then one encode and one write (sent to the remote tier in
  /// the background). Throws whatever `fn` throws (nothing is stored), and
  /// `Error` (io) for a File, Dir or depends_on input that cannot be read
  /// (before `fn` runs). Storage trouble is a miss and a warning.
  result_type operator()(Args... args) const;

  /// Returns fn(args...) like operator(), shared instead of copied: in this
  /// process, repeated hits on one entry return the same object, decoded
  /// once, while the hot tier keeps it (from the entry's first shared read,
  /// within StoreOptions::hot_cache_bytes, or blob_cache_bytes for results
  /// over 16 KiB, at the result's encoded size; it is retired like the hot
  /// tier's copy: forget, clear, a new result, ttl, eviction, a change made
  /// by another process once this process sees it). A repeated hit costs the
  /// key and a lookup, no decode; a miss returns the computed result itself
  /// (encoded once, to store it, never decoded). The Shared carries the
  /// result's Digest, stored in its entry: passed to another memoized
  /// function, it is keyed by that digest (memostore/shared.hpp).
  /// Throws what operator() throws.
  Shared<result_type> shared(Args... args) const;

  /// Computes fn(args...) now, in this thread, and stores the result in
  /// place of any entry for `args`, whatever its age (for schedulers and
  /// warm-up jobs); counted in FunctionStats::refreshes. Costs what a miss
  /// costs. Returns the fresh result. Readonly mode stores nothing; off mode
  /// only calls `fn`. Throws whatever `fn` throws (the stored entry stays),
  /// and `Error` (io) for an input that cannot be read.
  result_type refresh(Args... args) const;

  /// True if a valid entry for `args` is stored. Computes nothing. Throws
  /// `Error` (io) for a File, Dir or depends_on input that cannot be read.
  bool cached(Args... args) const {
    detail::CallInputs inputs(*m_core);
    return m_core->cached(key_arguments(inputs, args...));
  }

  /// Deletes the entry for `args`. No-op in readonly and off modes. Throws
  /// `Error` (io) for an input that cannot be read or a deletion that cannot
  /// be written.
  void forget(Args... args) const {
    detail::CallInputs inputs(*m_core);
    m_core->forget(key_arguments(inputs, args...));
  }

  /// Deletes every entry of this function, all versions. Does nothing in
  /// readonly and off modes (like `forget`; a store-wide clear throws in
  /// readonly mode instead, see Store::clear). Throws `Error` (io) if the
  /// deletion cannot be written.
  void clear() const { m_core->clear(); }

  const std::string& name() const noexcept { return m_core->name(); }
  std::uint32_t version() const noexcept { return m_core->version(); }
  /// The store its results are kept in.
  const Store& store() const noexcept { return m_core->store(); }
  /// The hash of the function's source text that joins its keys
  /// (MEMOSTORE_SOURCE); 0 when it was not wrapped.
  std::uint64_t source_hash() const noexcept { return detail::source_hash_of(m_fn); }

 private:
  /// The key bytes of a call: its keyed arguments, then the fingerprints of
  /// the function's depends_on inputs.
  std::string key_arguments(detail::CallInputs& inputs, const std::remove_reference_t<Args>&... args) const {
    std::string out = detail::encode_key_arguments<std::remove_reference_t<Args>...>(inputs, args...);
    inputs.finish(out);
    return out;
  }

  /// Copies of `fn` and `args` that compute the call again later (a
  /// background refresh); empty when an argument type cannot be copied.
  detail::OwnedCompute owned_compute(const std::remove_reference_t<Args>&... args) const;

  /// Calls `fn` with `args` into `result`, and appends its encoding to
  /// `buffer`; false (reported) if it cannot be encoded.
  template <class... Given>
  bool compute_into(std::optional<result_type>& result, std::string& buffer, Given&&... args) const;

  static constexpr bool k_copyable_arguments = (std::is_copy_constructible_v<std::decay_t<Args>> && ...);

  F m_fn;
  std::shared_ptr<const detail::MemoCore> m_core;
};

// --- Inline implementations ---

template <class F>
auto memo(Store store, std::string name, F&& fn, MemoOptions options) {
  // Checked here, before Memo<F> is instantiated, and one problem at a time:
  // the compiler's first error is the one that says what to do.
  using detail::MemoProblem;
  constexpr MemoProblem problem = detail::memo_problem<F>();
  static_assert(problem != MemoProblem::generic,
                "memostore::memo needs a callable with one fixed signature: a function, a function "
                "pointer or a non-generic lambda (no `auto` parameters). Write the parameter types out, "
                "e.g. [](int x) instead of [](auto x).");
  static_assert(problem != MemoProblem::stateful,
                "memostore::memo: the callable carries state (a lambda capture or data members) that is not "
                "part of the key, so a changed value would return results computed with the old one. Pass "
                "the values as arguments (keyed) or as memostore::Unhashed<T> (not keyed), or wrap the "
                "callable in memostore::state_not_keyed(fn) when its state cannot change results (a logger, "
                "a counter).");
  static_assert(problem != MemoProblem::returns_void,
                "memostore::memo: the function returns void. A memoized function must return the value "
                "to cache; for side effects with no result, memoization is the wrong tool.");
  static_assert(problem != MemoProblem::shared_result,
                "memostore::memo: the function returns a memostore::Shared<R>, which is a handle, not a value "
                "to store. Return the R itself, and call .shared(args...) on the memo to get a Shared<R>.");
  static_assert(problem != MemoProblem::unstorable_result,
                "memostore::memo: the result type cannot be stored. It must be default-constructible "
                "and cereal-serializable: give it a serialize(Archive&) member, or include the cereal "
                "header for a standard type (e.g. <cereal/types/vector.hpp>).");
  static_assert(problem != MemoProblem::path_argument,
                "memostore::memo: an argument is a std::filesystem::path, std::string_view or const char*, "
                "which cannot be part of the key. Take a std::string for a name or text (keyed by its "
                "characters), or a memostore::File / memostore::Dir for a file or directory whose contents "
                "the result depends on (keyed by its bytes).");
  static_assert(problem != MemoProblem::unkeyable_argument,
                "memostore::memo: an argument type cannot be part of the key. Make it cereal-serializable "
                "(a serialize(Archive&) member, or the cereal header for a standard type), or wrap it "
                "as memostore::Unhashed<T> to pass it without keying on it.");
  if constexpr (problem == MemoProblem::none) {
    return Memo<std::decay_t<F>>(std::move(store), std::move(name), std::forward<F>(fn), options);
  } else {
    return detail::Refused{};
  }
}

template <class F>
auto memo(std::string name, F&& fn, MemoOptions options) {
  return memo(default_store(), std::move(name), std::forward<F>(fn), options);
}

template <class F, class R, class... Args>
Memo<F, R(Args...)>::Memo(Store store, std::string name, F fn, MemoOptions options)
    : m_fn(std::move(fn)),
      m_core(std::make_shared<const detail::MemoCore>(
          std::move(store), std::move(name),
          detail::MemoPolicy{options.version, options.ttl, options.max_entries, options.max_bytes,
                             options.share_inflight ? Inflight::shared : options.inflight, options.inflight_lease,
                             std::move(options.depends_on), options.refresh_after},
          detail::type_fingerprint<result_type, Args...>(detail::source_hash_of(m_fn)))) {
  if (options.refresh_after && !(k_copyable_arguments && std::is_copy_constructible_v<F>)) {
    throw Error(ErrorCode::config,
                "memostore::memo(\"" + m_core->name() +
                    "\"): refresh_after is set, but an argument type (or the function) cannot be copied, and a "
                    "background refresh runs on copies after the call returned. Make them copyable, or drop "
                    "refresh_after and call Memo::refresh from a scheduler instead");
  }
}

template <class F, class R, class... Args>
template <class... Given>
bool Memo<F, R(Args...)>::compute_into(std::optional<result_type>& result, std::string& buffer,
                                       Given&&... args) const {
  result.emplace(std::invoke(m_fn, std::forward<Given>(args)...));
  const std::size_t start = buffer.size();
  try {
    detail::encode_value(*result, buffer);
    return true;
  } catch (const std::exception& e) {  // cereal::Exception or the type's own save code
    buffer.resize(start);
    m_core->report_unstorable(e.what());
    return false;
  }
}

template <class F, class R, class... Args>
detail::OwnedCompute Memo<F, R(Args...)>::owned_compute(const std::remove_reference_t<Args>&... args) const {
  if constexpr (k_copyable_arguments && std::is_copy_constructible_v<F>) {
    // Copies of the function and the arguments only: no handle, so a queued
    // refresh never keeps the store open. A result that cannot be encoded
    // throws, and counts as a failed refresh.
    return [fn = m_fn, copies = std::tuple<std::decay_t<Args>...>(args...)](std::string& buffer) mutable {
      const result_type result =
          std::apply([&](auto&... copy) { return std::invoke(fn, static_cast<Args>(copy)...); }, copies);
      detail::encode_value(result, buffer);
      return true;
    };
  } else {
    ((void)args, ...);
    return {};
  }
}

template <class F, class R, class... Args>
auto Memo<F, R(Args...)>::operator()(Args... args) const -> result_type {
  if (m_core->bypass()) {
    return std::invoke(m_fn, std::forward<Args>(args)...);
  }
  detail::CallInputs inputs(*m_core);
  const std::string key_arguments = this->key_arguments(inputs, args...);
  std::optional<result_type> result;
  auto decode = [&result](std::string_view payload) {
    result.emplace(detail::decode_value<result_type>(payload));
  };
  auto compute = [&](std::string& buffer) -> bool { return compute_into(result, buffer, std::forward<Args>(args)...); };
  auto make_refresh = [&] { return owned_compute(args...); };
  m_core->call(key_arguments, inputs.recorded(), decode, compute, make_refresh);
  return std::move(*result);
}

template <class F, class R, class... Args>
auto Memo<F, R(Args...)>::shared(Args... args) const -> Shared<result_type> {
  if (m_core->bypass()) {
    return Shared<result_type>::of(std::invoke(m_fn, std::forward<Args>(args)...));
  }
  detail::CallInputs inputs(*m_core);
  const std::string key_arguments = this->key_arguments(inputs, args...);
  std::optional<result_type> computed;
  auto decode = [](std::string_view payload) -> std::shared_ptr<const void> {
    return std::make_shared<const result_type>(detail::decode_value<result_type>(payload));
  };
  auto compute = [&](std::string& buffer) -> bool {
    return compute_into(computed, buffer, std::forward<Args>(args)...);
  };
  auto make_refresh = [&] { return owned_compute(args...); };
  detail::SharedOutcome outcome;
  m_core->call_shared(key_arguments, inputs.recorded(), typeid(result_type), decode, compute, make_refresh, outcome);
  std::shared_ptr<const result_type> object =
      outcome.object != nullptr ? std::static_pointer_cast<const result_type>(std::move(outcome.object))
                                : std::make_shared<const result_type>(std::move(*computed));
  const Digest digest =
      outcome.digest ? Digest{outcome.digest->high, outcome.digest->low} : detail::unique_digest();
  return detail::make_shared_result(std::move(object), digest);
}

template <class F, class R, class... Args>
auto Memo<F, R(Args...)>::refresh(Args... args) const -> result_type {
  if (m_core->bypass()) {
    return std::invoke(m_fn, std::forward<Args>(args)...);
  }
  detail::CallInputs inputs(*m_core);
  const std::string key_arguments = this->key_arguments(inputs, args...);
  std::optional<result_type> result;
  auto compute = [&](std::string& buffer) -> bool { return compute_into(result, buffer, std::forward<Args>(args)...); };
  m_core->refresh(key_arguments, inputs.recorded(), compute);
  return std::move(*result);
}

}  // namespace memostore
