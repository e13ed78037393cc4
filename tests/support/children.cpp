#include "support/children.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <sstream>
#include <stdexcept>

extern char** environ;

namespace memostore::test {

namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    all[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  for (const auto& [k, v] : overrides) {
    if (v.empty()) {
      all.erase(k);
    } else {
      all[k] = v;
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : all) {
    out.push_back(k + "=" + v);
  }
  return out;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& environment) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> env = merged_environment(environment);
  std::vector<char*> env_pointers, arg_pointers;
  for (auto& e : env) env_pointers.push_back(e.data());
  env_pointers.push_back(nullptr);
  std::vector<std::string> args = argv;
  for (auto& a : args) arg_pointers.push_back(a.data());
  arg_pointers.push_back(nullptr);

  m_pid = fork();
  if (m_pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (m_pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  m_stdin = in[1];
  m_stdout = out[0];
  m_stderr = err[0];
}

ChildProcess::~ChildProcess() {
  if (m_status < 0 && m_pid > 0) {
    kill(m_pid, SIGKILL);
    wait();
  }
  for (int fd : {m_stdin, m_stdout, m_stderr}) {
    if (fd >= 0) close(fd);
  }
}

bool wait_for_line(ChildProcess& child, const std::string& text, const std::string& instead) {
  for (std::string line = child.read_line(); !line.empty(); line = child.read_line()) {
    if (line.find(text) != std::string::npos) {
      return true;
    }
    if (line.find(instead) != std::string::npos) {
      return false;
    }
  }
  return false;
}

std::string ChildProcess::read_line() {
  for (;;) {
    const auto nl = m_buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = m_buffer.substr(0, nl);
      m_buffer.erase(0, nl + 1);
      return line;
    }
    char chunk[4096];
    const ssize_t n = read(m_stdout, chunk, sizeof chunk);
    if (n <= 0) {
      std::string rest = std::move(m_buffer);
      m_buffer.clear();
      return rest;
    }
    m_buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

void ChildProcess::write_line(const std::string& line) {
  const std::string text = line + "\n";
  REQUIRE(m_stdin >= 0);
  REQUIRE(write(m_stdin, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

void ChildProcess::close_stdin() {
  if (m_stdin >= 0) {
    close(m_stdin);
    m_stdin = -1;
  }
}

int ChildProcess::wait() {
  if (m_status >= 0) {
    return WIFEXITED(m_status) ? WEXITSTATUS(m_status) : 128 + WTERMSIG(m_status);
  }
  close_stdin();
  // Drain both pipes while waiting so a chatty child cannot block on a full pipe.
  pollfd fds[2] = {{m_stdout, POLLIN, 0}, {m_stderr, POLLIN, 0}};
  std::string* sinks[2] = {&m_out, &m_err};
  m_out = std::move(m_buffer);
  int open_pipes = 2;
  while (open_pipes > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char chunk[4096];
        const ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
        if (n > 0) {
          sinks[i]->append(chunk, static_cast<std::size_t>(n));
        } else {
          fds[i].fd = -1;
          --open_pipes;
        }
      }
    }
  }
  waitpid(m_pid, &m_status, 0);
  return wait();
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment) {
  ChildProcess child(argv, environment);
  const int code = child.wait();
  return ProcessResult{code, child.out(), child.err()};
}

std::string program_from_environment(const char* variable) {
  const char* path = std::getenv(variable);
  if (path == nullptr) {
    throw std::runtime_error(std::string(variable) + " is not set (run the tests through meson test)");
  }
  return path;
}

std::string child_program() { return program_from_environment("MEMOSTORE_TEST_CHILD"); }

std::string tool() { return program_from_environment("MEMOSTORE_TOOL"); }

std::string output_value(const std::string& output, const std::string& key) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + "=", 0) == 0) {
      return line.substr(key.size() + 1);
    }
  }
  return "";
}

void check_waiter_takes_owners_result(const std::string& owner_cache, const std::string& waiter_cache,
                                      const std::function<std::string(int owner_pid)>& waiting_line,
                                      const std::map<std::string, std::string>& environment) {
  ChildProcess owner({child_program(), owner_cache, "claimed-square", "7"}, environment);
  REQUIRE(wait_for_line(owner, "computing"));
  ChildProcess waiter({child_program(), waiter_cache, "claimed-square", "7"}, environment);
  REQUIRE(wait_for_line(waiter, waiting_line(owner.pid()), "computing"));
  owner.close_stdin();  // the owner's function returns; it stores (or sends) the result and gives up its claim
  CHECK(owner.wait() == 0);
  CHECK(output_value(owner.out(), "computed") == "1");
  waiter.close_stdin();  // had it computed after all, this would let it finish (and the check below fail)
  CHECK(waiter.wait() == 0);
  CHECK(output_value(waiter.out(), "result") == "49");
  CHECK(output_value(waiter.out(), "computed") == "0");
}

ProcessResult run_child(const std::filesystem::path& dir, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& environment) {
  std::vector<std::string> argv{child_program(), dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, environment);
}

ProcessResult run_tool(const std::filesystem::path& dir, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& environment) {
  std::vector<std::string> argv{tool(), "--dir", dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, environment);
}

int next_returned(ChildProcess& child) {
  const std::string line = child.read_line();
  REQUIRE_MESSAGE(line.rfind("returned=", 0) == 0, "the child said: " << line);
  return std::stoi(line.substr(9));
}

std::vector<int> returned_numbers(ChildProcess& child, std::size_t stop, std::string* others) {
  std::vector<int> numbers;
  for (std::string line = child.read_line(); !line.empty(); line = child.read_line()) {
    if (others != nullptr && line.rfind("returned=", 0) != 0) {
      *others += line + "\n";
    }
    if (line.rfind("returned=", 0) == 0) {
      numbers.push_back(std::stoi(line.substr(9)));
      if (stop != 0 && numbers.size() == stop) {
        break;
      }
    }
  }
  return numbers;
}

}  // namespace memostore::test
