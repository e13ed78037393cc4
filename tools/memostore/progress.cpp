#include "progress.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace memostore::cli {

ProgressBar::ProgressBar(std::string label) : m_label(std::move(label)), m_enabled(::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
  if (m_drawn) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

Progress ProgressBar::callback() {
  if (!m_enabled) {
    return {};
  }
  return [this](std::uint64_t done, std::uint64_t total) { draw(done, total); };
}

void ProgressBar::draw(std::uint64_t done, std::uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  const bool finished = total != 0 && done >= total;
  if (!finished && now - m_last_draw < std::chrono::milliseconds(100)) {
    return;
  }
  m_last_draw = now;
  constexpr int k_width = 30;
  const double fraction = total == 0 ? 0.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const int filled = static_cast<int>(fraction * k_width);
  fmt::print(stderr, "\r{} [{:=<{}}{:<{}}] {:3.0f}% ({}/{})\033[K", m_label, "", filled, "", k_width - filled,
             100.0 * fraction, done, total);
  std::fflush(stderr);
  m_drawn = true;
}

}  // namespace memostore::cli
