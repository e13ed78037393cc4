#include "codec/export_format.hpp"

#include <fmt/format.h>
#include <fmt/std.h>
#include <unistd.h>

#include <memostore/error.hpp>

#include "util/endian.hpp"

namespace memostore::detail {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_export_magic = "MEMOSTORE-EXPORT";
constexpr std::uint32_t k_export_version = 2;
constexpr std::uint32_t k_first_export_version = 1;  // without input records
constexpr char k_record_tag = 'E';
constexpr char k_trailer_tag = 'Z';
constexpr std::size_t k_max_key_size = 1024;  // far above any valid key; refuses lying sizes early

}  // namespace

// --- ExportWriter ---

ExportWriter::ExportWriter(int fd) : m_out(::fdopen(fd, "wb")) {
  if (m_out == nullptr) {
    ::close(fd);
  }
  write(k_export_magic);
  write_u32(k_export_version);
}

void ExportWriter::record(std::string_view key, std::string_view envelope, std::int64_t last_used_ms,
                          std::string_view inputs) {
  write(std::string_view(&k_record_tag, 1));
  write_u32(static_cast<std::uint32_t>(key.size()));
  write(key);
  write_u64(envelope.size());
  write(envelope);
  write_u64(static_cast<std::uint64_t>(last_used_ms));
  write_u32(static_cast<std::uint32_t>(inputs.size()));
  write(inputs);
  ++m_records;
}

bool ExportWriter::finish() {
  write(std::string_view(&k_trailer_tag, 1));
  write_u64(m_records);
  char checksum[8];
  put_u64le(checksum, XXH3_64bits_digest(m_hash.get()));
  return m_out != nullptr && std::fwrite(checksum, 1, sizeof checksum, m_out.get()) == sizeof checksum &&
         std::fflush(m_out.get()) == 0 && std::ferror(m_out.get()) == 0;
}

void ExportWriter::write(std::string_view bytes) {
  XXH3_64bits_update(m_hash.get(), bytes.data(), bytes.size());
  if (m_out != nullptr) {
    std::fwrite(bytes.data(), 1, bytes.size(), m_out.get());  // an error stays set: finish() reports it
  }
}

void ExportWriter::write_u32(std::uint32_t v) {
  char bytes[4];
  put_u32le(bytes, v);
  write(std::string_view(bytes, 4));
}

void ExportWriter::write_u64(std::uint64_t v) {
  char bytes[8];
  put_u64le(bytes, v);
  write(std::string_view(bytes, 8));
}

// --- ExportReader ---

ExportReader::ExportReader(const fs::path& path) : m_path(path), m_in(path, std::ios::binary) {
  if (!m_in) {
    throw Error(ErrorCode::io, fmt::format("cannot open export file {}: it does not exist or cannot be read", path));
  }
  std::error_code ec;
  m_size = fs::file_size(path, ec);
  std::string magic;
  if (!read(magic, k_export_magic.size()) || magic != k_export_magic) {
    throw Error(ErrorCode::format, fmt::format("{} is not a memostore export file (made by `memostore export`)", path));
  }
  m_version = read_u32();
  if (m_version < k_first_export_version || m_version > k_export_version) {
    throw Error(ErrorCode::format,
                fmt::format("{} is a memostore export of version {}, this build reads versions {} to {}. "
                            "Import it with the memostore version that wrote it",
                            path, m_version, k_first_export_version, k_export_version));
  }
}

bool ExportReader::next(ExportRecord& record) {
  std::string tag;
  if (!read(tag, 1)) {
    damaged("it ends before its trailer (truncated?)");
  }
  if (tag[0] == k_trailer_tag) {
    const std::uint64_t records = read_u64();
    const std::uint64_t expected = XXH3_64bits_digest(m_hash.get());
    const std::uint64_t checksum = read_u64();
    if (checksum != expected || records != m_records || m_in.peek() != std::char_traits<char>::eof()) {
      damaged("its trailer does not match its contents");
    }
    return false;
  }
  if (tag[0] != k_record_tag) {
    damaged("a record has an unknown tag");
  }
  const std::uint32_t key_size = read_u32();
  if (key_size > k_max_key_size || !read(record.key, key_size)) {
    damaged("a key size is out of range");
  }
  const std::uint64_t envelope_size = read_u64();
  if (envelope_size > remaining() || !read(record.envelope, envelope_size)) {
    damaged(fmt::format("a record claims {} bytes, more than the file holds", envelope_size));
  }
  record.last_used_ms = static_cast<std::int64_t>(read_u64());
  record.inputs.clear();
  if (m_version >= 2) {
    const std::uint32_t inputs_size = read_u32();
    if (inputs_size > remaining() || !read(record.inputs, inputs_size)) {
      damaged(fmt::format("an input files record claims {} bytes, more than the file holds", inputs_size));
    }
  }
  ++m_records;
  return true;
}

bool ExportReader::read(std::string& out, std::uint64_t size) {
  if (size > remaining()) {
    return false;
  }
  out.resize(size);
  m_in.read(out.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(m_in.gcount()) != size) {
    return false;
  }
  m_position += size;
  XXH3_64bits_update(m_hash.get(), out.data(), out.size());
  return true;
}

std::uint64_t ExportReader::read_u64() {
  std::string bytes;
  if (!read(bytes, 8)) {
    damaged("it ends inside a record (truncated?)");
  }
  return get_u64le(bytes.data());
}

std::uint32_t ExportReader::read_u32() {
  std::string bytes;
  if (!read(bytes, 4)) {
    damaged("it ends inside a record (truncated?)");
  }
  return get_u32le(bytes.data());
}

void ExportReader::damaged(const std::string& why) const {
  throw Error(ErrorCode::corruption, fmt::format("export file {} is damaged at byte {}: {}. The {} entries before "
                                                 "the damage were checked one by one and kept",
                                                 m_path, m_position, why, m_records));
}

}  // namespace memostore::detail
