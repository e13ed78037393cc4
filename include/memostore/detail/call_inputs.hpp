// The inputs of one memoized call: fingerprints its File and Dir arguments
// (and the function's depends_on paths) through the store, and records which
// inputs with which hashes made its key, for the entry's input record.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memostore/detail/input_hasher.hpp>

namespace memostore::detail {

class MemoCore;

/// One input of a call as the entry records it.
struct RecordedInput {
  InputKind kind = InputKind::file;
  std::string path;     // absolute, lexically normal
  std::string pattern;  // a Dir's filter; empty for a file
  Hash128 hash;
};

class CallInputs final : public InputHasher {
 public:
  explicit CallInputs(const MemoCore& memo) noexcept : m_memo(&memo) {}

  Hash128 fingerprint(InputKind kind, const std::filesystem::path& path, std::string_view pattern) override;

  /// Appends the fingerprints of the function's depends_on paths to the
  /// encoded arguments `args`, then lets the store remember the file hashes
  /// it computed on the way. Call once, after encoding the arguments.
  void finish(std::string& args);

  const std::vector<RecordedInput>& recorded() const noexcept { return m_recorded; }

 private:
  const MemoCore* m_memo;
  std::vector<RecordedInput> m_recorded;
  std::vector<std::pair<std::string, std::string>> m_learnt;  // file hash records for the store
};

}  // namespace memostore::detail
