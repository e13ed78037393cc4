// A result type in an anonymous namespace of its own translation unit, with
// the same name as one in shared_test.cpp: typeid gives both one name, so
// memos of both with one function name share keys (tests/shared_test.cpp).
#include "shared_other_type.hpp"

#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

namespace {

struct Confusable {
  std::vector<double> numbers;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(numbers);
  }
};

}  // namespace

std::size_t shared_of_other_type(const memostore::Store& store, int n) {
  auto memo = memostore::memo(store, "confusable", [](int count) {
    return Confusable{std::vector<double>(static_cast<std::size_t>(count), 1.5)};
  });
  return memo.shared(n)->numbers.size();
}
