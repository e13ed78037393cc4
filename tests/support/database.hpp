// Opening lib/storage's Database directly, for tests of the storage layer and
// of what sharing processes hand over (an internal of lib/, on purpose).
#pragma once

#include <filesystem>
#include <memory>

#include "storage/database.hpp"

namespace memostore::test {

/// Opens the database in `dir` with `options`; fails the test (with the
/// library's message) if it does not open.
std::unique_ptr<detail::Database> open_database(const std::filesystem::path& dir,
                                                detail::DatabaseOptions options = {});

}  // namespace memostore::test
