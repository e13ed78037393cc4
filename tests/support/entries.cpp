#include "support/entries.hpp"

#include <string_view>

#include <doctest/doctest.h>

#include "storage/database.hpp"
#include "store/store_core.hpp"

namespace memostore::test {

std::optional<std::string> stored_entry(const Store& store, const std::string& key) {
  std::optional<std::string> bytes;
  const auto found = detail::core_of(store)->database()->get(detail::Family::entries, key,
                                                             [&](std::string_view v) { bytes = std::string(v); });
  REQUIRE_MESSAGE(found, (found ? "" : found.failure().message));
  return bytes;
}

void put_stored_entry(const Store& store, const std::string& key, const std::string& bytes) {
  REQUIRE(detail::core_of(store)->database()->put(detail::Family::entries, key, bytes));
}

void tamper_entry(const Store& store, const std::string& key, const std::function<void(std::string&)>& change) {
  std::optional<std::string> bytes = stored_entry(store, key);
  REQUIRE_MESSAGE(bytes, "no entry stored under the key to tamper with");
  change(*bytes);
  put_stored_entry(store, key, *bytes);
}

}  // namespace memostore::test
