// A progress bar on stderr for long commands, drawn only when stderr is a
// terminal (never in logs or pipes), at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <memostore/admin.hpp>

namespace memostore::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  /// Erases the bar.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// The callback to hand to an admin function; empty when not drawing.
  Progress callback();

 private:
  void draw(std::uint64_t done, std::uint64_t total);

  std::string m_label;
  bool m_enabled;
  bool m_drawn = false;
  std::chrono::steady_clock::time_point m_last_draw{};
};

}  // namespace memostore::cli
