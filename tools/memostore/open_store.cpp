#include <fmt/std.h>
#include <memostore/admin.hpp>
#include <memostore/store.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace memostore::cli {

void require_store(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
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
  if (fs::exists(dir / "CURRENT", ec)) {
    return;  // RocksDB's: the library checks the rest (format record, owner, links)
  }
  std::size_t files = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++files;
  }
  if (ec) {
    refuse(fmt::format("it cannot be listed: {}", ec.message()));
  }
  refuse(files == 0 ? std::string("it is empty")
                    : fmt::format("it holds {} and no store", count(files, "other file", "other files")));
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
