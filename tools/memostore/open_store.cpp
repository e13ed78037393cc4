#include <fmt/std.h>
#include <memostore/admin.hpp>
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
  if (access == Access::read_counts) {
    // Processes that only hit leave their access times and hit counts for
    // the next one that writes: apply them first (when no process holds the
    // store), so that what is read is complete.
    (void)apply_waiting_bookkeeping(context.dir);
  }
  try {
    return Store::open(
        StoreOptions{.dir = context.dir, .mode = access == Access::read || access == Access::read_counts ? Mode::readonly
                                                                                   : Mode::readwrite});
  } catch (const Error& e) {
    throw StoreUnavailable(e.what());
  }
}

}  // namespace memostore::cli
