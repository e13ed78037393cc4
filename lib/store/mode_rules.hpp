// What each Mode means for the memo path, said once.
#pragma once

#include <filesystem>
#include <string_view>

#include <memostore/store.hpp>

namespace memostore::detail {

/// True in the modes that write results: readwrite, refresh and check.
constexpr bool writes_results(Mode mode) noexcept {
  return mode == Mode::readwrite || mode == Mode::refresh || mode == Mode::check;
}

/// True in the modes that compute every call instead of returning a stored
/// result: refresh (to overwrite it) and check (to compare with it).
constexpr bool computes_every_call(Mode mode) noexcept { return mode == Mode::refresh || mode == Mode::check; }

/// Throws `Error` (usage) when `mode` is readonly: `operation` ("clear") was
/// asked of the store in `dir`, which was opened readonly. Every public
/// function that changes a store asks this first, so all refuse alike.
void require_writable(Mode mode, const std::filesystem::path& dir, std::string_view operation);

}  // namespace memostore::detail
