// Real child processes: the helper program (tests/helpers/memo_child.cpp), the
// memostore tool, and the reading of what they print. The one way tests spawn
// and wait for processes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace memostore::test {

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

/// Reads a `key=value` line value from a child's output, or "" if absent.
std::string output_value(const std::string& output, const std::string& key);

/// Single flight between processes: starts `memo_child CACHE claimed-square 7`
/// in `owner_cache`, and once it computes, in `waiter_cache`; checks that the
/// waiter says `waiting_line(owner's pid)` instead of computing, lets the owner
/// finish, and checks that the waiter returns its result without computing it.
void check_waiter_takes_owners_result(const std::string& owner_cache, const std::string& waiter_cache,
                                      const std::function<std::string(int owner_pid)>& waiting_line,
                                      const std::map<std::string, std::string>& environment = {});

/// Runs `memo_child DIR args...` (the helper program on the store in `dir`) to completion.
ProcessResult run_child(const std::filesystem::path& dir, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& environment = {});

/// Runs `memostore --dir DIR args...` (the built tool) to completion.
ProcessResult run_tool(const std::filesystem::path& dir, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& environment = {});

/// The next line of a memo_child writer, which must be `returned=N`; returns N.
int next_returned(ChildProcess& child);

/// The `returned=N` numbers `child` printed, until `stop` of them (0: all, to
/// the end of its output); its other lines go to `others` when given.
std::vector<int> returned_numbers(ChildProcess& child, std::size_t stop = 0, std::string* others = nullptr);

}  // namespace memostore::test
