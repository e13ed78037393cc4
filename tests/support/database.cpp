#include "support/database.hpp"

#include <utility>

#include <doctest/doctest.h>

namespace memostore::test {

std::unique_ptr<detail::Database> open_database(const std::filesystem::path& dir, detail::DatabaseOptions options) {
  auto database = detail::Database::open(dir, std::move(options));
  REQUIRE_MESSAGE(database, (database ? "" : database.failure().message));
  return std::move(database).value();
}

}  // namespace memostore::test
