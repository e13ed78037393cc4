// Shared test fixtures: a fresh temporary directory per case, a log capture,
// and real child processes.
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

/// A child process with pipes on stdin and stdout (stderr goes to a pipe too).
class ChildProcess {
 public:
  /// Starts `argv` with `environment` added to (or replacing in) ours; a value
  /// of "" unsets the variable.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const noexcept { return m_pid; }
  /// Reads one line of stdout (without newline); empty at end of file.
  std::string read_line();
  /// Writes `line` and a newline to the child's stdin.
  void write_line(const std::string& line);
  void close_stdin();
  /// Waits for exit; returns the exit code, or 128 + signal number.
  int wait();
  /// Everything left on stdout / stderr after wait().
  const std::string& out() const noexcept { return m_out; }
  const std::string& err() const noexcept { return m_err; }

 private:
  int m_pid = -1;
  int m_stdin = -1;
  int m_stdout = -1;
  int m_stderr = -1;
  std::string m_buffer;
  std::string m_out;
  std::string m_err;
  int m_status = -1;
};

/// Returns once `condition()` holds, polling without sleeping (for counts
/// another thread raises); throws std::runtime_error("`what` never happened")
/// after 30 s.
void wait_until(const std::function<bool()>& condition, const std::string& what);

/// Reads `child`'s output until a line contains `text` (true) or `instead`,
/// or the output ends (false).
bool wait_for_line(ChildProcess& child, const std::string& text, const std::string& instead = "\x01");

struct ProcessResult {
  int exit_code;
  std::string out;
  std::string err;
};

/// Runs `argv` to completion.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& environment = {});

/// The path of a program meson test names in `variable`; throws if it is not set.
std::string program_from_environment(const char* variable);

/// The helper program tests spawn (path from MEMOSTORE_TEST_CHILD).
std::string child_program();

/// The built memostore tool (path from MEMOSTORE_TOOL).
std::string tool();

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

/// Reads a `key=value` line value from a child's output, or "" if absent.
std::string output_value(const std::string& output, const std::string& key);

/// Single flight between processes: starts `memo_child CACHE claimed-square 7`
/// in `owner_cache`, and once it computes, in `waiter_cache`; checks that the
/// waiter says `waiting_line(owner's pid)` instead of computing, lets the owner
/// finish, and checks that the waiter returns its result without computing it.
void check_waiter_takes_owners_result(const std::string& owner_cache, const std::string& waiter_cache,
                                      const std::function<std::string(int owner_pid)>& waiting_line,
                                      const std::map<std::string, std::string>& environment = {});

}  // namespace memostore::test
