// Cross-process single flight (MemoOptions::share_inflight): a process about
// to compute a key first claims it with an exclusive flock on a small file in
// <dir>/inflight/. Another process that finds the claim held waits for the
// result instead of computing it too. The kernel releases a flock when its
// holder dies, so a killed owner never leaves a claim behind; a lease bounds
// how long anyone waits for a live one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace memostore::detail {

/// The name of `key`'s claim file in <dir>/inflight/ (keys can be longer than
/// a file name: an XXH3-128 hash of the key, in hex).
std::string claim_name(std::string_view key);

class ProcessClaim {
 public:
  /// Another live process holds the claim.
  struct Held {
    long pid = 0;  // 0 if unreadable
  };

  /// Tries to claim `key` of the store in `dir` without waiting. `seen_holder`:
  /// whether an earlier try found it held (see Taken). Nullopt if the claim
  /// file cannot be made at all (the caller then computes unclaimed), e.g.
  /// a link planted under its name, which is never followed (warned about
  /// once per process).
  static std::optional<std::variant<ProcessClaim, Held>> try_claim(const std::filesystem::path& dir,
                                                                   std::string_view key, bool seen_holder);

  ProcessClaim(ProcessClaim&& other) noexcept;
  ProcessClaim& operator=(ProcessClaim&&) = delete;
  ProcessClaim(const ProcessClaim&) = delete;
  ~ProcessClaim();

  /// True when this process waited for another holder that then finished
  /// normally: its result should appear shortly (it may still be on its way
  /// from a secondary). False after a holder that died, or when nobody held it.
  bool after_holder() const noexcept { return m_after_holder; }

 private:
  ProcessClaim(int folder, std::string name, int fd, bool after_holder) noexcept
      : m_folder(folder), m_name(std::move(name)), m_fd(fd), m_after_holder(after_holder) {}

  int m_folder = -1;  // <dir>/inflight, opened without following a link
  std::string m_name;
  int m_fd = -1;
  bool m_after_holder = false;
};

}  // namespace memostore::detail
