// A small benchmark harness: per-operation timings, medians and tails, and one
// JSON line per result so that report.py can build the ratio tables.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline int bench_sink = 0;  // defeats dead-code elimination of decoded values

inline double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

/// Per-operation times in nanoseconds.
struct Samples {
  std::vector<double> ns;

  double percentile(double p) {
    if (ns.empty()) return 0;
    std::sort(ns.begin(), ns.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(ns.size() - 1));
    return ns[i];
  }
  double median() { return percentile(0.5); }
  double p99() { return percentile(0.99); }
};

/// One result line: {"workload":..,"system":..,"metric":value,...}.
class Result {
 public:
  Result(std::string workload, std::string system) : m_text("{\"workload\":\"" + workload + "\",\"system\":\"" + system + "\"") {}
  Result& add(const char* metric, double value) {
    char number[64];
    std::snprintf(number, sizeof number, "%.6g", value);
    m_text += std::string(",\"") + metric + "\":" + number;
    return *this;
  }
  Result& note(const std::string& text) {
    m_text += ",\"note\":\"" + text + "\"";
    return *this;
  }
  void print() const {
    std::printf("%s}\n", m_text.c_str());
    std::fflush(stdout);
  }

 private:
  std::string m_text;
};

/// A fast deterministic generator (splitmix64) for keys and values.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

/// The W1/W3 result: 100 bytes that depend on the key.
inline std::string small_value(int key) {
  std::string v(100, '\0');
  Random r{static_cast<std::uint64_t>(key)};
  for (auto& c : v) c = static_cast<char>('a' + r.below(26));
  return v;
}

/// The M result: 1,000 random (incompressible) bytes that depend on the key,
/// so that a store of 1,000,000 of them holds about 1 GB.
inline std::string kilobyte_value(int key) {
  std::string v(1000, '\0');
  Random r{static_cast<std::uint64_t>(key) * 7919 + 1};
  for (std::size_t i = 0; i < v.size(); i += 8) {
    const std::uint64_t bits = r.next();
    std::memcpy(v.data() + i, &bits, std::min<std::size_t>(8, v.size() - i));
  }
  return v;
}

/// The W2 result: 1,250,000 doubles (10 MB).
inline std::vector<double> large_value(int key) {
  std::vector<double> v(1'250'000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(key) + static_cast<double>(i) * 0.5;
  return v;
}

/// Peak resident set of this process, in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace bench
