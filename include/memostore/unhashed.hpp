// memostore::Unhashed<T>: an argument that reaches the function but is not part
// of the cache key (Streamlit's leading underscore, joblib's `ignore`). Use it
// for connections, loggers and other things that do not change the result.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace memostore {

/// Holds a `T` by value, or refers to one when `T` is a reference type.
/// Converts implicitly from `T`, so callers pass the plain value.
///
/// **Example**
/// ```cpp
/// auto q = memostore::memo(store, "query",
///     [](memostore::Unhashed<Db&> db, const std::string& sql) { return db->run(sql); });
/// q(my_db, "select 1");   // keyed on the SQL only
/// ```
template <class T>
class Unhashed {
 public:
  Unhashed(T value) : m_value(std::move(value)) {}  // NOLINT: implicit on purpose

  T& get() noexcept { return m_value; }
  const T& get() const noexcept { return m_value; }
  T& operator*() noexcept { return m_value; }
  const T& operator*() const noexcept { return m_value; }
  T* operator->() noexcept { return std::addressof(m_value); }
  const T* operator->() const noexcept { return std::addressof(m_value); }

 private:
  T m_value;
};

template <class T>
class Unhashed<T&> {
 public:
  Unhashed(T& value) noexcept : m_value(std::addressof(value)) {}  // NOLINT: implicit on purpose

  T& get() const noexcept { return *m_value; }
  T& operator*() const noexcept { return *m_value; }
  T* operator->() const noexcept { return m_value; }

 private:
  T* m_value;
};

namespace detail {
template <class T>
struct is_unhashed : std::false_type {};
template <class T>
struct is_unhashed<Unhashed<T>> : std::true_type {};
template <class T>
inline constexpr bool is_unhashed_v = is_unhashed<std::remove_cvref_t<T>>::value;
}  // namespace detail

}  // namespace memostore
