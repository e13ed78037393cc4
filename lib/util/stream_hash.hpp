// A streaming XXH3 state, for hashing data that arrives in pieces (files,
// directory listings, export files).
#pragma once

#include <memory>
#include <new>

#include <xxhash.h>

namespace memostore::detail {

struct HashStateDeleter {
  void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
};
using HashState = std::unique_ptr<XXH3_state_t, HashStateDeleter>;

enum class HashWidth { bits64, bits128 };

/// A state ready for XXH3_64bits_update or XXH3_128bits_update. Throws
/// std::bad_alloc when it cannot be allocated.
inline HashState new_hash_state(HashWidth width = HashWidth::bits64) {
  HashState state(XXH3_createState());
  if (!state) {
    throw std::bad_alloc();
  }
  if (width == HashWidth::bits64) {
    XXH3_64bits_reset(state.get());
  } else {
    XXH3_128bits_reset(state.get());
  }
  return state;
}

}  // namespace memostore::detail
