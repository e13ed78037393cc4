// The compiled half of File, Dir and MemoOptions::depends_on: fingerprints
// through the store, and the errors a user sees for inputs that cannot be read.
#include <memostore/detail/call_inputs.hpp>
#include <memostore/detail/memo_core.hpp>
#include <memostore/error.hpp>
#include <memostore/inputs.hpp>

#include <fmt/std.h>

#include "inputs/tree.hpp"
#include "store/store_core.hpp"

namespace memostore {
namespace detail {
namespace {

namespace fs = std::filesystem;

/// `path` made absolute against the working directory and lexically normal,
/// without a trailing separator: how inputs are recorded and remembered.
fs::path normal_absolute(const fs::path& path) {
  std::error_code error;
  fs::path normal = fs::absolute(path, error).lexically_normal();
  if (error) {
    normal = path.lexically_normal();  // no working directory: keep it as given
  }
  if (!normal.has_filename() && normal.has_relative_path()) {
    normal = normal.parent_path();
  }
  return normal;
}

class NoInputs final : public InputHasher {
 public:
  Hash128 fingerprint(InputKind, const fs::path& path, std::string_view) override {
    throw Error(ErrorCode::usage,
                fmt::format("memostore::File and memostore::Dir arguments (here {}) are keyed by their content, "
                            "which only memostore::memo supports; a singleton is keyed by plain values: pass "
                            "the path as a std::string (one object per path)",
                            path));
  }
};

}  // namespace

InputHasher& inputs_not_supported() {
  static NoInputs no_inputs;
  return no_inputs;
}

Hash128 CallInputs::fingerprint(InputKind kind, const fs::path& path, std::string_view pattern) {
  Fingerprints& fingerprints = core_of(m_memo->store())->fingerprints();
  const fs::path absolute = normal_absolute(path);
  const std::string filter(pattern);
  auto hash = kind == InputKind::file ? fingerprints.file(absolute, m_learnt)
                                      : fingerprints.dir(absolute, filter, m_learnt);
  if (!hash) {
    throw Error(ErrorCode::io,
                fmt::format("{} (version {}) was not called: {}. Create the input or pass the path of an existing "
                            "one; nothing was computed or stored",
                            m_memo->name(), m_memo->version(), hash.failure().message));
  }
  m_recorded.push_back(RecordedInput{kind, absolute.string(), filter, hash.value()});
  return hash.value();
}

void CallInputs::finish(std::string& args) {
  for (const fs::path& dependency : m_memo->depends_on()) {
    std::error_code error;
    const InputKind kind = fs::is_directory(dependency, error) ? InputKind::dir : InputKind::file;
    const Hash128 hash = fingerprint(kind, dependency, {});
    BinaryWriter writer(args);
    writer(static_cast<char>(kind), hash.high, hash.low);  // as File::save writes it in a key
  }
  core_of(m_memo->store())->fingerprints().remember(m_learnt);
}

}  // namespace detail

std::vector<std::filesystem::path> Dir::files() const {
  auto listed = detail::value_or_throw(detail::list_tree(m_path, m_pattern));
  std::vector<std::filesystem::path> paths;
  paths.reserve(listed.size());
  for (detail::TreeFile& file : listed) {
    paths.push_back(std::move(file.path));
  }
  return paths;
}

}  // namespace memostore
