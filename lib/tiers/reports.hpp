// Reports: what an open store warns about once rather than on every call. A
// full disk or a store full of foreign entries would otherwise produce one
// line per call. Thread-safe.
#pragma once

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "util/result.hpp"

namespace memostore::detail {

class Reports {
 public:
  explicit Reports(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  /// Logs a failed write of `what` ("a result of f", "the statistics") the
  /// first time only.
  void write_failure(std::string_view what, const Failure& failure);

  /// True the first time it is called for `key`: a damaged entry that cannot
  /// be removed (readonly mode) or cannot be read is warned about once, not
  /// on every call. The damage paths call it with entry keys; the changed
  /// layout warning with a text of its own per function (no entry key has a newline).
  bool first_report_for(std::string_view key);

  /// Logs, once per store, that entries of `function` were ignored for lacking
  /// a valid signature (a store that just got a secret has many).
  void rejected(std::string_view function);

 private:
  std::filesystem::path m_dir;
  std::atomic<bool> m_write_failure_reported{false};
  std::atomic<bool> m_rejected_reported{false};
  std::mutex m_reported_mutex;
  std::unordered_set<std::string> m_reported_keys;  // guarded by m_reported_mutex
};

}  // namespace memostore::detail
