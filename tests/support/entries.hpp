// The stored bytes of one entry, read and written past memo: for tests that
// damage, plant or forge entries (the public API never writes raw bytes, so
// this reaches the store's own database through lib/ internals).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <memostore/store.hpp>

namespace memostore::test {

/// The bytes stored under the entry key `key` in `store`, or none.
std::optional<std::string> stored_entry(const Store& store, const std::string& key);

/// Stores `bytes` under the entry key `key` as they are (no envelope, no checks).
void put_stored_entry(const Store& store, const std::string& key, const std::string& bytes);

/// Replaces the stored bytes of the entry `key`, which must exist, with what
/// `change` makes of them.
void tamper_entry(const Store& store, const std::string& key, const std::function<void(std::string&)>& change);

}  // namespace memostore::test
