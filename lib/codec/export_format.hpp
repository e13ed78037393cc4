// The export file: what `memostore export` writes and `memostore import`
// reads. Grammar: docs/format.md, section "Export file"; integers
// little-endian:
//   file    = magic version record* trailer
//   magic   = "MEMOSTORE-EXPORT" (16 bytes), version = u32 (2; 1 is read too)
//   record  = 'E' | key_size u32 | key | envelope_size u64 | envelope | last_used_ms i64
//             | inputs_size u32 | inputs (the meta family's inputs record; version 2 only)
//   trailer = 'Z' | records u64 | checksum u64: XXH3-64 of every byte before it
// This file knows the bytes only; checking the entries and storing them is
// admin's (lib/admin/transfer.cpp). Neither class is safe to share between
// threads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "util/stream_hash.hpp"

namespace memostore::detail {

/// One record of an export file.
struct ExportRecord {
  std::string key;       // as in the entries family
  std::string envelope;  // as in the entries family
  std::int64_t last_used_ms = 0;
  std::string inputs;  // the entry's input files record, or empty
};

/// Writes the export format to a new file, hashing as it goes.
class ExportWriter {
 public:
  /// Writes to `fd` (a new file), which it owns.
  explicit ExportWriter(int fd);

  /// `inputs`: the entry's input files record, or empty.
  void record(std::string_view key, std::string_view envelope, std::int64_t last_used_ms, std::string_view inputs);

  /// Writes the trailer; false if anything failed to write.
  bool finish();

 private:
  void write(std::string_view bytes);
  void write_u32(std::uint32_t v);
  void write_u64(std::uint64_t v);

  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, Closer> m_out;
  HashState m_hash = new_hash_state();
  std::uint64_t m_records = 0;
};

/// Reads the export format, refusing sizes larger than what the file holds.
class ExportReader {
 public:
  /// Throws memostore::Error: ErrorCode::io if `path` cannot be opened,
  /// ErrorCode::format if it is no export file or of a version this build
  /// does not read.
  explicit ExportReader(const std::filesystem::path& path);

  /// Reads the next record into `record`; false after the trailer (checked).
  /// Throws memostore::Error (ErrorCode::corruption) naming the file and the
  /// byte where the file is truncated or damaged.
  bool next(ExportRecord& record);

  /// Bytes read so far, and the file's size (for progress).
  std::uint64_t position() const { return m_position; }
  std::uint64_t size() const { return m_size; }

 private:
  std::uint64_t remaining() const { return m_size > m_position ? m_size - m_position : 0; }
  bool read(std::string& out, std::uint64_t size);
  std::uint64_t read_u64();
  std::uint32_t read_u32();
  [[noreturn]] void damaged(const std::string& why) const;

  std::filesystem::path m_path;
  std::ifstream m_in;
  std::uint64_t m_size = 0;
  std::uint64_t m_position = 0;
  std::uint64_t m_records = 0;
  std::uint32_t m_version = 0;
  HashState m_hash = new_hash_state();
};

}  // namespace memostore::detail
