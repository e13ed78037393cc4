#include "source_variants.hpp"

#include <memostore/memostore.hpp>

namespace memostore::test {
namespace {

template <class Memo>
SourceCall call(const Memo& memo, int x) {
  SourceCall result;
  result.was_cached = memo.cached(x);
  result.value = memo(x);
  result.source_hash = memo.source_hash();
  return result;
}

}  // namespace

SourceCall plus_original(Store& store, int x) {
  return call(memostore::memo(store, "plus", MEMOSTORE_SOURCE([](int v) { return v + 1; })), x);
}

SourceCall plus_reformatted(Store& store, int x) {
  // clang-format off
  return call(memostore::memo(store, "plus", MEMOSTORE_SOURCE([](int   v)
                                                                {   /* still v + 1 */ return v+1 ; })), x);
  // clang-format on
}

SourceCall plus_edited(Store& store, int x) {
  return call(memostore::memo(store, "plus", MEMOSTORE_SOURCE([](int v) { return v + 2; })), x);
}

SourceCall plain_original(Store& store, int x) {
  return call(memostore::memo(store, "plain", [](int v) { return v + 1; }), x);
}

SourceCall plain_edited(Store& store, int x) {
  return call(memostore::memo(store, "plain", [](int v) { return v + 2; }), x);
}

}  // namespace memostore::test
