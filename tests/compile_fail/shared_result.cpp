// expect: the function returns a memostore::Shared<R>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>
void use(memostore::Store& store, const memostore::Shared<std::vector<int>>& table) {
  auto f = memostore::memo(store, "f", [](const memostore::Shared<std::vector<int>>& t) { return t; });
  (void)f(table);
}
