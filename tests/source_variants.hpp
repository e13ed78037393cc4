// Memoized functions defined in another translation unit than keys_test.cpp,
// so that MEMOSTORE_SOURCE is shown to give the same keys for the same text in
// two translation units, and new keys for an edit.
#pragma once

#include <cstdint>

#include <memostore/store.hpp>

namespace memostore::test {

/// What one call of a variant did.
struct SourceCall {
  int value = 0;
  bool was_cached = false;       // an entry existed before the call
  std::uint64_t source_hash = 0;  // the memo handle's MEMOSTORE_SOURCE hash
};

/// "plus", wrapped in MEMOSTORE_SOURCE: `x + 1` as first written.
SourceCall plus_original(Store& store, int x);
/// The same text, reformatted: other whitespace and a comment.
SourceCall plus_reformatted(Store& store, int x);
/// The same function with one token edited: `x + 2`.
SourceCall plus_edited(Store& store, int x);
/// "plain": x + 1 without MEMOSTORE_SOURCE, and its edit x + 2: the stale case.
SourceCall plain_original(Store& store, int x);
SourceCall plain_edited(Store& store, int x);

}  // namespace memostore::test
