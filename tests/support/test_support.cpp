#include "support/test_support.hpp"

#include <stdlib.h>

#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <cstring>
#include <stdexcept>
#include <thread>

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

void wait_until(const std::function<bool()>& condition, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(what + " never happened");
    }
    std::this_thread::yield();
  }
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
