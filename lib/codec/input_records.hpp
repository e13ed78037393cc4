// Records about input files (File, Dir, depends_on). Grammar (docs/format.md),
// integers little-endian:
//   "default" family, what the store knows about a file's content:
//     key   = "memostore.file/" absolute-path
//     value = device u64 | inode u64 | size u64 | mtime_ns i64 | ctime_ns i64 | hash 16 bytes (XXH3-128, high first)
//             [| HMAC-SHA256 of (key, the 56 bytes before) when the store has a secret]
//   "meta" family, which inputs made an entry's key:
//     key   = entry key 'f'
//     value = count u32 | count x (kind u8 ('F' file, 'D' dir) | hash 16 bytes
//             | path_size u32 | path | pattern_size u32 | pattern)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/detail/call_inputs.hpp>

#include "codec/meta.hpp"

namespace memostore::detail {

inline constexpr std::string_view k_file_record_prefix = "memostore.file/";
inline constexpr std::size_t k_file_record_size = 56;

/// What identifies one version of a file's content without reading it.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;

  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct FileRecord {
  FileIdentity identity;
  Hash128 hash;
};

std::string file_record_key(std::string_view absolute_path);
std::string encode_file_record(const FileRecord& record);
std::optional<FileRecord> decode_file_record(std::string_view bytes) noexcept;

std::string encode_inputs(const std::vector<RecordedInput>& inputs);
/// None if `bytes` is not a well-formed inputs record.
std::optional<std::vector<RecordedInput>> decode_inputs(std::string_view bytes);

/// 32 lowercase hex digits, high half first.
std::string hash_hex(const Hash128& hash);

}  // namespace memostore::detail
