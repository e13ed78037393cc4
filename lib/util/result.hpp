// Result<T>: the value of an operation that can fail as a normal outcome
// (a read error, a refused write). Inside lib/ failures are values; they become
// a memostore::Error in one place, value_or_throw(), at the API boundary.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <memostore/error.hpp>

namespace memostore::detail {

struct Failure {
  ErrorCode code;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_state(std::move(value)) {}         // NOLINT: implicit on purpose
  Result(Failure failure) : m_state(std::move(failure)) {}  // NOLINT: implicit on purpose

  bool ok() const noexcept { return m_state.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(m_state); }
  T&& value() && { return std::get<0>(std::move(m_state)); }
  T* operator->() { return &value(); }
  const Failure& failure() const { return std::get<1>(m_state); }

 private:
  std::variant<T, Failure> m_state;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure failure) : m_failure(std::move(failure)) {}  // NOLINT: implicit on purpose

  bool ok() const noexcept { return !m_failure; }
  explicit operator bool() const noexcept { return ok(); }
  const Failure& failure() const { return *m_failure; }

 private:
  std::optional<Failure> m_failure;
};

/// The value, or throws the failure as a memostore::Error.
template <class T>
T value_or_throw(Result<T> result) {
  if (!result) {
    throw Error(result.failure().code, result.failure().message);
  }
  if constexpr (!std::is_void_v<T>) {
    return std::move(result).value();
  }
}

}  // namespace memostore::detail
