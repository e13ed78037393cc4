#include <fmt/std.h>
#include <memostore/store.hpp>

#include "commands.hpp"

namespace memostore::cli {

Store open_store(const Context& context, Access access) {
  std::error_code ec;
  if (access != Access::create && !std::filesystem::exists(context.dir, ec)) {
    throw StoreUnavailable(
        fmt::format("no store at {}: the directory does not exist. Give the cache directory "
                    "with --dir or MEMOSTORE_DIR",
                    context.dir.string()));
  }
  if (access == Access::read) {
    // Processes that only hit hand their access times and hit counts over
    // for the next one that writes. When no process holds the store, apply
    // them first, so that what is read is complete; a store in use, or one
    // this user cannot write, is read as it is.
    try {
      Store::open(StoreOptions{.dir = context.dir, .mode = Mode::readwrite}).catch_up();
    } catch (const Error&) {
    }
  }
  try {
    return Store::open(
        StoreOptions{.dir = context.dir, .mode = access == Access::read ? Mode::readonly : Mode::readwrite});
  } catch (const Error& e) {
    throw StoreUnavailable(e.what());
  }
}

}  // namespace memostore::cli
