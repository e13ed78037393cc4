// Shared test fixtures: a fresh temporary directory per case, a log capture,
// files, expected errors; and (through the headers it includes) opened stores,
// counted functions and real child processes. Helpers that reach lib/
// internals have their own headers: keys.hpp (entry keys), database.hpp.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <memostore/error.hpp>
#include <memostore/log.hpp>

#include "support/children.hpp"
#include "support/counting.hpp"
#include "support/stores.hpp"

namespace memostore::test {

/// Sets an environment variable for one scope, then restores its old value
/// (or unsets it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

/// A new empty directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

/// Collects memostore's log messages while alive (restores the previous handler).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> warnings() const;
  /// Info-level messages (e.g. explained misses).
  std::vector<std::string> infos() const;
  /// Number of warnings that contain `text`.
  std::size_t count(const std::string& text) const;

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_warnings;  // guarded by m_mutex
  std::vector<std::string> m_infos;     // guarded by m_mutex
  LogHandler m_previous;
};

/// Returns once `condition()` holds, polling without sleeping (for counts
/// another thread raises); throws std::runtime_error("`what` never happened")
/// after 30 s.
void wait_until(const std::function<bool()>& condition, const std::string& what);

/// Writes `text` to `path` (creating its folders), replacing what was there.
void write_file(const std::filesystem::path& path, const std::string& text);
/// The bytes of `path`; empty if it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// Reads the store format record of the closed store in `dir` with RocksDB
/// directly, after replacing it with `replace` when one is given.
std::string format_record(const std::filesystem::path& dir, const std::optional<std::string>& replace = {});

/// Runs `call`, which must throw memostore::Error (of `code`, when given);
/// returns its message for the caller's checks. Fails the test otherwise.
std::string error_message(const std::function<void()>& call, std::optional<ErrorCode> code = std::nullopt);

}  // namespace memostore::test
