// Opening stores in tests: one helper, so a test states only the options its
// case is about (the rest keep the library's defaults).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <memostore/store.hpp>

namespace memostore::test {

/// Opens the store in `dir` with `options` (their `dir` is replaced by `dir`).
Store open_store(const std::filesystem::path& dir, StoreOptions options = {});

/// Opens the store in `dir` with the remote tier at `remote` (a redis:// URL).
Store open_with_remote(const std::filesystem::path& dir, const std::string& remote, RemoteOptions options = {},
                       std::shared_ptr<const Clock> clock = nullptr, std::string secret = {});

}  // namespace memostore::test
