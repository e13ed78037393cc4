#include "support/test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace memostore::test {

ScopedEnv::ScopedEnv(const char* name, const char* value) : m_name(name) {
  if (const char* old = std::getenv(name)) {
    m_old = old;
  }
  ::setenv(name, value, 1);
}

ScopedEnv::~ScopedEnv() {
  if (m_old) {
    ::setenv(m_name, m_old->c_str(), 1);
  } else {
    ::unsetenv(m_name);
  }
}
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "memostore-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  m_path = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::permissions(m_path, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(m_path, ec);
}

LogCapture::LogCapture() {
  m_previous = set_log_handler([this](LogLevel level, std::string_view message) {
    std::lock_guard lock(m_mutex);
    if (level >= LogLevel::warning) {
      m_warnings.emplace_back(message);
    } else if (level == LogLevel::info) {
      m_infos.emplace_back(message);
    }
  });
}

LogCapture::~LogCapture() { set_log_handler(std::move(m_previous)); }

std::vector<std::string> LogCapture::infos() const {
  std::lock_guard lock(m_mutex);
  return m_infos;
}

std::vector<std::string> LogCapture::warnings() const {
  std::lock_guard lock(m_mutex);
  return m_warnings;
}

std::size_t LogCapture::count(const std::string& text) const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& w : m_warnings) {
    n += w.find(text) != std::string::npos ? 1 : 0;
  }
  return n;
}

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

void wait_until(const std::function<bool()>& condition, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(what + " never happened");
    }
    std::this_thread::yield();
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

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string format_record(const std::filesystem::path& dir, const std::optional<std::string>& replace) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.string(), descriptors, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  if (replace) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), "memostore.format", *replace).ok());
  }
  std::string format;
  REQUIRE(db->Get(rocksdb::ReadOptions(), "memostore.format", &format).ok());
  for (auto* handle : handles) {
    REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  return format;
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

std::string error_message(const std::function<void()>& call, std::optional<ErrorCode> code) {
  try {
    call();
  } catch (const Error& e) {
    if (code) {
      CHECK_MESSAGE(e.code() == *code, "error code " << to_string(e.code()) << ", expected " << to_string(*code));
    }
    return e.what();
  }
  FAIL("expected a memostore::Error");
  return {};
}

}  // namespace memostore::test
