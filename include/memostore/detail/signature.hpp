// The call signature of a memoizable callable: a function, a function pointer,
// or an object with exactly one non-template operator() (a lambda).
#pragma once

#include <type_traits>

namespace memostore::detail {

template <class T, class = void>
struct callable_traits {
  static constexpr bool valid = false;
  using signature = void();
  using result = void;
};

template <class R, class... A>
struct callable_traits<R(A...)> {
  static constexpr bool valid = true;
  using signature = R(A...);
  using result = R;
};
template <class R, class... A>
struct callable_traits<R(A...) noexcept> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...)> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R(A...)> {};

template <class T>
struct callable_traits<T, std::void_t<decltype(&T::operator())>> : callable_traits<decltype(&T::operator())> {};

template <class F>
using signature_of = typename callable_traits<std::remove_cvref_t<F>>::signature;

template <class F>
inline constexpr bool has_fixed_signature = callable_traits<std::remove_cvref_t<F>>::valid;

}  // namespace memostore::detail
