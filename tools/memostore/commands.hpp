// The tool's commands, one function each, over the public admin API. Each
// returns the process's exit code (docs/cli.md): 0 ok, 1 problems found.
// Usage errors and an unavailable store are thrown (see main.cpp).
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace memostore::cli {

enum ExitCode : int { k_ok = 0, k_problems = 1, k_usage = 2, k_unavailable = 3 };

/// The command could not do what was asked (e.g. no such entry): exit code 1.
class CommandFailed : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The store could not be opened: exit code 3.
class StoreUnavailable : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Context {
  std::filesystem::path dir;
  bool json = false;
};

struct LsOptions {
  std::string function;
  std::string input;  // "" : any
  std::string sort;  // "", "size", "age" or "hits"
  std::optional<std::size_t> limit;
};

struct GcArguments {
  std::string max_size;    // "" : the store's budget
  std::string older_than;  // "" : no age limit
  bool changed_inputs = false;  // also remove entries whose input files changed
  std::string timeout = "10s";  // on a store another process holds: the longest wait for it to carry the gc out
};

/// How `stats` prints: a table (or JSON with --json), or metrics.
enum class StatsFormat { table, openmetrics, prometheus };

int stats(const Context& context, bool zero, StatsFormat format = StatsFormat::table);
int ls(const Context& context, const LsOptions& options);
int show(const Context& context, const std::string& key, const std::string& function);
/// `timeout`: on a store another process holds, the longest wait for it to carry the clear out.
int clear(const Context& context, const std::string& function, std::optional<std::uint32_t> version,
          const std::string& timeout);
int gc(const Context& context, const GcArguments& arguments);
int clear_remote(const Context& context);
int ping_remote(const Context& context);
int compact(const Context& context);
int verify(const Context& context, bool fix);
int repair(const Context& context);
int export_to(const Context& context, const std::filesystem::path& file);
int import_from(const Context& context, const std::filesystem::path& file);
int merge(const Context& context, const std::vector<std::filesystem::path>& dirs);

}  // namespace memostore::cli

namespace memostore {
class Store;
}

namespace memostore::cli {

/// read: readonly (works while another process uses the store);
/// read_counts: the same, after applying the hit counts and access times
/// that processes which only hit left waiting, when no process holds the
/// store (stats, ls, show); write: readwrite; create: readwrite, creating the
/// store if missing (import, merge).
enum class Access { read, read_counts, write, create };

/// Throws StoreUnavailable, saying why in words, if `dir` does not exist, is
/// not a directory or is empty: no store is there, and a write command must
/// not create one in a mistyped directory. Anything else (a store, one being
/// created, other files) is for opening to judge.
void require_store(const std::filesystem::path& dir);

/// Opens the store in `context.dir` for `access`. Throws
/// StoreUnavailable with memostore's message (which names the directory and,
/// for a store in use, the process holding it).
Store open_store(const Context& context, Access access);

}  // namespace memostore::cli
