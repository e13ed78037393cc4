// Reading input files: what identifies a file's content without reading it
// (stat), and its XXH3-128 content hash (reading it all).
#pragma once

#include <filesystem>

#include "codec/input_records.hpp"
#include "util/result.hpp"

namespace memostore::detail {

/// The identity of the regular file `path` leads to (symbolic links
/// followed); an io failure naming it if it is missing, unreadable or not a
/// regular file.
Result<FileIdentity> stat_file(const std::filesystem::path& path);

struct HashedFile {
  FileIdentity identity;  // after reading
  Hash128 hash;
  bool unchanged = false;  // the identity was the same before and after reading
};

/// Reads the regular file at `path` to its end and hashes it with XXH3-128
/// in 1 MiB blocks (of 64 KiB to 4 MiB, the fastest here: bench F1).
Result<HashedFile> hash_file(const std::filesystem::path& path);

}  // namespace memostore::detail
