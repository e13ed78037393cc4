#include "storage/warning_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <system_error>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/std.h>
#include <rocksdb/env.h>

#include "storage/safe_files.hpp"
#include "util/escape.hpp"
#include "util/log.hpp"

namespace memostore::detail {

namespace {

namespace fs = std::filesystem;

class WarningLog final : public rocksdb::Logger {
 public:
  explicit WarningLog(fs::path file) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), m_file(std::move(file)) {}

  ~WarningLog() override {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }

  using rocksdb::Logger::Logv;

  // RocksDB's Logger filters by level, prefixes "[WARN]" and the like, and
  // calls this for every message it keeps.
  void Logv(const char* format, va_list ap) override {
    char message[1024];
    std::vsnprintf(message, sizeof message, format, ap);
    const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    const std::string line = fmt::format("{:%Y/%m/%d-%H:%M:%S} pid {} {}\n", now, ::getpid(), escaped(message));
    std::lock_guard lock(m_mutex);
    if (m_fd < 0 && !m_failed) {
      open_file();
    }
    if (m_fd >= 0) {
      (void)!::write(m_fd, line.data(), line.size());  // one append per line; nothing to do if it fails
    }
  }

  // The options dump at every open: the OPTIONS file holds the same.
  void LogHeader(const char*, va_list) override {}

 private:
  void open_file() {
    std::error_code ec;
    if (fs::file_size(m_file, ec) > k_warning_log_bytes && !ec) {
      fs::rename(m_file, fs::path(m_file) += ".old", ec);  // another process may have done it: fine
    }
    // Never through a link planted at LOG (one there at the store's open
    // refuses the store; this is for one planted since).
    m_fd = ::open(m_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    m_failed = m_fd < 0;
    if (m_failed && errno == ELOOP) {
      warn("not writing RocksDB's warnings to {}: {}", m_file, link_refused(m_file).message);
    }
  }

  fs::path m_file;
  std::mutex m_mutex;
  int m_fd = -1;         // guarded by m_mutex
  bool m_failed = false;  // guarded by m_mutex: the file could not be opened; do not retry per message
};

class ForwardingLog final : public rocksdb::Logger {
 public:
  explicit ForwardingLog(fs::path dir) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), m_dir(std::move(dir)) {}

  using rocksdb::Logger::Logv;

  void Logv(const char* format, va_list ap) override {
    if (!logging_enabled()) {
      return;
    }
    char message[1024];
    std::vsnprintf(message, sizeof message, format, ap);
    log(LogLevel::info, "RocksDB, reading {}: {}", m_dir, escaped(message));
  }

  void LogHeader(const char*, va_list) override {}

 private:
  fs::path m_dir;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> warning_log(fs::path file) { return std::make_shared<WarningLog>(std::move(file)); }

std::shared_ptr<rocksdb::Logger> forwarding_log(fs::path dir) { return std::make_shared<ForwardingLog>(std::move(dir)); }

}  // namespace memostore::detail
