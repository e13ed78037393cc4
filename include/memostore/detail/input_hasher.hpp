// How File and Dir arguments become part of a key: while a memoized call's
// arguments are encoded, the key writer carries an InputHasher that turns
// each input into its content fingerprint. Encoded anywhere else (a result,
// a singleton's key), a File or Dir is its path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <memostore/detail/hash128.hpp>

namespace memostore::detail {

/// What kind of input a fingerprint describes; the byte is part of keys and
/// of the stored input records (docs/format.md).
enum class InputKind : char { file = 'F', dir = 'D' };

class InputHasher {
 public:
  /// The fingerprint of the file or directory tree at `path` (a directory's
  /// files filtered by `pattern`, empty for all). Throws Error (io) naming
  /// the path when it cannot be read.
  virtual Hash128 fingerprint(InputKind kind, const std::filesystem::path& path, std::string_view pattern) = 0;

 protected:
  ~InputHasher() = default;
};

/// The hasher for keys that cannot hold inputs (singletons): throws Error
/// (usage) explaining why.
InputHasher& inputs_not_supported();

}  // namespace memostore::detail
