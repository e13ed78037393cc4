#include <fmt/std.h>
#include <memostore/admin.hpp>
#include <memostore/store.hpp>

#include "commands.hpp"

namespace memostore::cli {

void require_store(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(dir, ec);
  if (fs::is_symlink(status)) {
    return;  // refused by the library, which says why a link is unsafe
  }
  const auto refuse = [&](const std::string& why) {
    throw StoreUnavailable(fmt::format("no memostore store in {} ({}). Give the cache directory with --dir or "
                                       "MEMOSTORE_DIR; a program creates its store on its first call",
                                       dir.string(), why));
  };
  if (!fs::exists(status)) {
    refuse("the directory does not exist");
  }
  if (!fs::is_directory(status)) {
    refuse("it is not a directory");
  }
  if (!fs::is_empty(dir, ec) || ec) {
    // The library tells a store, one being created (it waits for it) and a
    // directory of other files apart, and says which.
    return;
  }
  refuse("it is empty");
}

Store open_store(const Context& context, Access access) {
  if (access != Access::create) {
    require_store(context.dir);
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
