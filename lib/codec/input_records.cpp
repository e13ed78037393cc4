#include "codec/input_records.hpp"

#include "codec/key.hpp"
#include "util/endian.hpp"
#include "util/hex.hpp"

namespace memostore::detail {
namespace {

static_assert(k_file_record_size == 5 * 8 + k_key_hash_size);

void append_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  put_u32le(bytes, value);
  out.append(bytes, 4);
}

Hash128 read_hash(const char* bytes) noexcept { return Hash128{get_u64be(bytes + 8), get_u64be(bytes)}; }

/// Reads from a byte range, refusing to step outside it. Once a read has
/// failed, every later one fails too.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : m_rest(bytes) {}

  std::optional<std::string_view> take(std::size_t size) {
    if (m_failed || size > m_rest.size()) {
      m_failed = true;
      return std::nullopt;
    }
    const std::string_view taken = m_rest.substr(0, size);
    m_rest.remove_prefix(size);
    return taken;
  }
  std::optional<std::uint32_t> u32() {
    const auto bytes = take(4);
    return bytes ? std::optional(get_u32le(bytes->data())) : std::nullopt;
  }
  std::optional<std::string_view> sized() {
    const auto size = u32();
    return size ? take(*size) : std::nullopt;
  }
  bool done() const noexcept { return !m_failed && m_rest.empty(); }

 private:
  std::string_view m_rest;
  bool m_failed = false;
};

}  // namespace

std::string file_record_key(std::string_view absolute_path) {
  std::string key(k_file_record_prefix);
  key.append(absolute_path);
  return key;
}

std::string encode_file_record(const FileRecord& record) {
  std::string out(5 * 8, '\0');
  const FileIdentity& id = record.identity;
  put_u64le(out.data(), id.device);
  put_u64le(out.data() + 8, id.inode);
  put_u64le(out.data() + 16, id.size);
  put_u64le(out.data() + 24, static_cast<std::uint64_t>(id.mtime_ns));
  put_u64le(out.data() + 32, static_cast<std::uint64_t>(id.ctime_ns));
  append_hash(out, record.hash);
  return out;
}

std::optional<FileRecord> decode_file_record(std::string_view bytes) noexcept {
  if (bytes.size() != k_file_record_size) {
    return std::nullopt;
  }
  const char* p = bytes.data();
  FileRecord record;
  record.identity = FileIdentity{get_u64le(p), get_u64le(p + 8), get_u64le(p + 16),
                                 static_cast<std::int64_t>(get_u64le(p + 24)),
                                 static_cast<std::int64_t>(get_u64le(p + 32))};
  record.hash = read_hash(p + 40);
  return record;
}

std::string encode_inputs(const std::vector<RecordedInput>& inputs) {
  std::string out;
  append_u32(out, static_cast<std::uint32_t>(inputs.size()));
  for (const RecordedInput& input : inputs) {
    out.push_back(static_cast<char>(input.kind));
    append_hash(out, input.hash);
    append_u32(out, static_cast<std::uint32_t>(input.path.size()));
    out.append(input.path);
    append_u32(out, static_cast<std::uint32_t>(input.pattern.size()));
    out.append(input.pattern);
  }
  return out;
}

std::optional<std::vector<RecordedInput>> decode_inputs(std::string_view bytes) {
  Cursor cursor(bytes);
  const auto count = cursor.u32();
  if (!count || *count > bytes.size()) {  // each input takes far more than a byte
    return std::nullopt;
  }
  std::vector<RecordedInput> inputs;
  inputs.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    const auto kind = cursor.take(1);
    const auto hash = cursor.take(k_key_hash_size);
    const auto path = cursor.sized();
    const auto pattern = cursor.sized();
    if (!pattern || ((*kind)[0] != static_cast<char>(InputKind::file) && (*kind)[0] != static_cast<char>(InputKind::dir))) {
      return std::nullopt;  // the cursor fails for good: if `pattern` is there, so is the rest
    }
    inputs.push_back(
        RecordedInput{static_cast<InputKind>((*kind)[0]), std::string(*path), std::string(*pattern), read_hash(hash->data())});
  }
  if (!cursor.done()) {
    return std::nullopt;
  }
  return inputs;
}

std::string hash_hex(const Hash128& hash) {
  std::string bytes;
  append_hash(bytes, hash);
  return to_hex(bytes);
}

}  // namespace memostore::detail
