// expect: the result type cannot be stored
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>
struct Holder {
  memostore::Shared<std::vector<int>> table;
  template <class Archive>
  void serialize(Archive& ar) { ar(table); }
};
void use(memostore::Store& store, const memostore::Shared<std::vector<int>>& table) {
  auto f = memostore::memo(store, "f", [](const memostore::Shared<std::vector<int>>& t) { return Holder{t}; });
  (void)f(table);
}
