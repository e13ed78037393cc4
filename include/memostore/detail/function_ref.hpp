// A non-owning reference to a callable, so compiled code can call back into a
// template without std::function's allocation. Valid only while the referenced
// callable lives: pass it down, never store it.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace memostore::detail {

template <class Signature>
class FunctionRef;

template <class R, class... A>
class FunctionRef<R(A...)> {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && std::is_invocable_r_v<R, F&, A...>)
  FunctionRef(F&& f) noexcept  // NOLINT: implicit on purpose
      : m_object(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        m_call([](void* object, A... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<A>(args)...);
        }) {}

  R operator()(A... args) const { return m_call(m_object, std::forward<A>(args)...); }

 private:
  void* m_object;
  R (*m_call)(void*, A...);
};

}  // namespace memostore::detail
