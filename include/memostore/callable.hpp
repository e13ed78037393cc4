// What memo and singleton accept as the function, and what of it joins the key.
//
// A key holds the function's name, version, types and arguments: nothing of
// the callable object itself. So a callable that carries state (a lambda
// capture, a functor's data members) is refused at compile time, unless the
// caller says its state cannot change results (`state_not_keyed`). And the
// function's code is not in the key unless asked for: `MEMOSTORE_SOURCE(fn)`
// folds a hash of its source text in, so an edit gives new keys without a
// hand-kept `version`. Both wrappers are plain values, safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <memostore/detail/signature.hpp>

namespace memostore {

/// A callable whose state (captures, data members) is declared not to change
/// its results, so it may be memoized although the key cannot see that state:
/// a logger, a counter, a reference to a thread pool. Made by `state_not_keyed`.
template <class F>
class StateNotKeyed {
 public:
  explicit StateNotKeyed(F fn) : m_fn(std::move(fn)) {}

  template <class... A>
  decltype(auto) operator()(A&&... args) const {
    return std::invoke(m_fn, std::forward<A>(args)...);
  }

  const F& callable() const noexcept { return m_fn; }

 private:
  F m_fn;
};

/// Declares that `fn`'s state cannot change its results, so memo and
/// singleton accept it although the key does not hold that state.
///
/// **Example**
/// ```cpp
/// std::atomic<int> calls = 0;
/// auto f = memostore::memo(store, "square",
///     memostore::state_not_keyed([&calls](int x) { ++calls; return x * x; }));
/// ```
/// Anything that can change a result must be an argument instead (keyed), or
/// an `Unhashed<T>` argument when it provably does not (not keyed).
template <class F>
StateNotKeyed<std::decay_t<F>> state_not_keyed(F&& fn) {
  return StateNotKeyed<std::decay_t<F>>(std::forward<F>(fn));
}

/// A callable with a hash of its source text, made by `MEMOSTORE_SOURCE`. Its
/// keys hold that hash as well as the name, version, types and arguments.
template <class F>
class WithSource {
 public:
  WithSource(std::uint64_t source_hash, F fn) : m_fn(std::move(fn)), m_source_hash(source_hash) {}

  template <class... A>
  decltype(auto) operator()(A&&... args) const {
    return std::invoke(m_fn, std::forward<A>(args)...);
  }

  const F& callable() const noexcept { return m_fn; }
  std::uint64_t source_hash() const noexcept { return m_source_hash; }

 private:
  F m_fn;
  std::uint64_t m_source_hash;
};

namespace detail {

/// A 64-bit FNV-1a hash of the tokens of `text`, as the preprocessor's
/// stringizing spells them: whitespace between tokens does not count, except
/// that a space is kept where it separates two identifier characters (`int x`
/// is not `intx`) or two characters that can join into one operator (`- -x`
/// is not `--x`), and string and character literals count byte for byte.
/// Comments never reach it (the preprocessor replaced them by spaces). Erring
/// this way, reformatting between two operator characters (`a = -b` against
/// `a=-b`) counts as an edit: a needless recomputation, never a stale result.
consteval std::uint64_t source_token_hash(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  auto add = [&hash](char c) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  };
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  auto joins = [](char c) { return std::string_view("+-*/%<>=!&|^:.#").find(c) != std::string_view::npos; };
  auto separated = [&](char before, char after) {  // would removing the space between them change the tokens?
    return (is_word(before) && is_word(after)) || (joins(before) && joins(after));
  };
  char previous = '\0';  // the last character hashed outside a literal
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (is_space(c)) {
      while (i < text.size() && is_space(text[i])) {
        ++i;
      }
      if (i < text.size() && previous != '\0' && separated(previous, text[i])) {
        add(' ');
      }
      continue;
    }
    if (c == '"' || c == '\'') {  // a literal, escapes included, byte for byte
      add(c);
      ++i;
      while (i < text.size() && text[i] != c) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          add(text[i++]);
        }
        add(text[i++]);
      }
      if (i < text.size()) {
        add(text[i++]);
      }
      previous = c;
      continue;
    }
    add(c);
    previous = c;
    ++i;
  }
  return hash;
}

/// The callable a wrapper holds, unwrapped through every layer.
template <class F>
struct innermost_callable {
  using type = F;
};
template <class F>
struct innermost_callable<StateNotKeyed<F>> : innermost_callable<F> {};
template <class F>
struct innermost_callable<WithSource<F>> : innermost_callable<F> {};

/// True if some layer of `F` is StateNotKeyed.
template <class F>
inline constexpr bool declares_state_not_keyed = false;
template <class F>
inline constexpr bool declares_state_not_keyed<StateNotKeyed<F>> = true;
template <class F>
inline constexpr bool declares_state_not_keyed<WithSource<F>> = declares_state_not_keyed<F>;

/// True when a callable holds nothing a key would miss: a function, a
/// function pointer, or a class without data members (a lambda without
/// captures). A function pointer's value is not its state: the name and
/// version say which function it is.
template <class F>
inline constexpr bool is_stateless_callable =
    std::is_function_v<std::remove_pointer_t<F>> || (std::is_class_v<F> && std::is_empty_v<F>);

/// True when memo and singleton accept `F`: stateless, or declared so.
template <class F>
inline constexpr bool has_no_unkeyed_state =
    declares_state_not_keyed<std::remove_cvref_t<F>> ||
    is_stateless_callable<typename innermost_callable<std::remove_cvref_t<F>>::type>;

/// The source hash a callable carries (MEMOSTORE_SOURCE), if any.
template <class F>
constexpr std::uint64_t source_hash_of(const F&) noexcept {
  return 0;
}
template <class F>
constexpr std::uint64_t source_hash_of(const WithSource<F>& fn) noexcept {
  return fn.source_hash();
}
template <class F>
constexpr std::uint64_t source_hash_of(const StateNotKeyed<F>& fn) noexcept {
  return source_hash_of(fn.callable());
}

/// True for argument types that name a file or refer to text held elsewhere:
/// none can be keyed (a path is not its file's content, a view or pointer is
/// not its text), and "make it serializable" would be the wrong advice.
template <class T>
inline constexpr bool is_path_like = std::is_same_v<T, std::filesystem::path> || std::is_same_v<T, std::string_view> ||
                                     std::is_same_v<T, const char*> || std::is_same_v<T, char*>;

/// What memo and singleton return for a callable they refused at compile
/// time (their static_assert says why and what to do instead). It accepts
/// every common use of a handle and of its results, so that the refusal is
/// the only error the compiler prints. Never defined: nothing runs it.
struct Refused {
  template <class... A>
  Refused operator()(A&&...) const;
  template <class T>
  operator T() const;
  template <class... A>
  bool cached(A&&...) const;
  template <class... A>
  void forget(A&&...) const;
  void clear() const;
  std::size_t size() const;
  const std::string& name() const;
  std::uint32_t version() const;
  std::uint64_t source_hash() const;
  template <class T>
  friend bool operator==(const Refused&, const T&);
  template <class T>
  friend bool operator<(const Refused&, const T&);
  template <class T>
  friend bool operator>(const Refused&, const T&);
};

inline constexpr const char* k_state_not_keyed_message =
    "the callable carries state (a lambda capture or data members) that is not part of the key";

// The wrappers have the signature of what they wrap.
template <class F>
struct callable_traits<StateNotKeyed<F>> : callable_traits<F> {};
template <class F>
struct callable_traits<WithSource<F>> : callable_traits<F> {};

}  // namespace detail
}  // namespace memostore

/// Wraps a lambda or function so that a hash of its source text (its tokens as
/// the preprocessor sees them: comments and whitespace do not count) joins the
/// key of every call, computed at compile time: editing the lambda's body
/// gives new keys, with no hand-kept `version`. Equal text gives equal keys,
/// in any translation unit or build.
///
/// **Example**
/// ```cpp
/// auto mean = memostore::memo(store, "mean",
///     MEMOSTORE_SOURCE([](const std::vector<double>& v) { return sum(v) / v.size(); }));
/// ```
/// Its limits: only the text inside the parentheses is hashed. Functions it
/// calls, types and constants defined elsewhere, and macros it uses are not
/// covered: changing `sum` above does not change the keys (bump `version`, or
/// run a check: `MEMOSTORE_MODE=check`). Wrapping a function's name
/// (`MEMOSTORE_SOURCE(parse_csv)`) hashes the name only, which is no help.
#define MEMOSTORE_SOURCE(...) \
  ::memostore::WithSource(::memostore::detail::source_token_hash(#__VA_ARGS__), __VA_ARGS__)
