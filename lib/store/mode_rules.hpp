// What each Mode means for the memo path, said once.
#pragma once

#include <memostore/store.hpp>

namespace memostore::detail {

/// True in the modes that write results: readwrite, refresh and check.
constexpr bool writes_results(Mode mode) noexcept {
  return mode == Mode::readwrite || mode == Mode::refresh || mode == Mode::check;
}

/// True in the modes that compute every call instead of returning a stored
/// result: refresh (to overwrite it) and check (to compare with it).
constexpr bool computes_every_call(Mode mode) noexcept { return mode == Mode::refresh || mode == Mode::check; }

}  // namespace memostore::detail
