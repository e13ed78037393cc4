#include "codec/envelope.hpp"

#include <xxhash.h>

#include <fmt/format.h>

#include "codec/arguments_digest.hpp"
#include "util/endian.hpp"

namespace memostore::detail {
namespace {

// Field offsets within the header.
constexpr std::size_t k_magic = 0;
constexpr std::size_t k_format = 2;
constexpr std::size_t k_flags = 3;
constexpr std::size_t k_arguments_size = 4;
constexpr std::size_t k_payload_size = 8;
constexpr std::size_t k_created = 16;
constexpr std::size_t k_expires = 24;
constexpr std::size_t k_compute = 32;
constexpr std::size_t k_type = 40;

constexpr std::uint8_t k_signed_flag = 0x01;
constexpr std::uint8_t k_digest_flag = 0x02;  // the arguments field holds their digest
constexpr std::uint8_t k_result_digest_flag = 0x04;  // the result's digest follows the payload
constexpr std::uint8_t k_known_flags = k_signed_flag | k_digest_flag | k_result_digest_flag;

// The result digest's hash seed: "memostore.result.v1" folded to 64 bits.
// Fixed forever: a digest keys downstream calls in every store.
constexpr std::uint64_t k_result_digest_seed = 0x6d656d6f72657331;

void put_hash(char* at, const Hash128& hash) {
  put_u64le(at, hash.low);
  put_u64le(at + 8, hash.high);
}

Failure damaged(std::string what) { return Failure{ErrorCode::corruption, std::move(what)}; }

}  // namespace

void start_envelope(std::string& buffer, std::string_view arguments) {
  buffer.assign(k_envelope_header_size, '\0');
  std::optional<std::string> digest;
  if (stores_digest(arguments.size())) {
    digest = digest_arguments(arguments);  // none if OpenSSL failed: the arguments are stored instead
  }
  if (digest) {
    buffer[k_flags] = static_cast<char>(k_digest_flag);  // kept by finish_envelope
    arguments = *digest;
  }
  put_u32le(buffer.data() + k_arguments_size, static_cast<std::uint32_t>(arguments.size()));
  buffer.append(arguments);
}

void start_envelope_like(std::string& buffer, const EntryView& entry) {
  buffer.assign(k_envelope_header_size, '\0');
  buffer[k_flags] = static_cast<char>(entry.arguments_digest ? k_digest_flag : 0);
  put_u32le(buffer.data() + k_arguments_size, static_cast<std::uint32_t>(entry.arguments.size()));
  buffer.append(entry.arguments);
}

namespace {

std::size_t payload_offset(std::string_view envelope) noexcept {
  return k_envelope_header_size + get_u32le(envelope.data() + k_arguments_size);
}

}  // namespace

bool finish_envelope(std::string& buffer, const EntryInfo& info, const EntrySigner* signer, std::string_view key) {
  char* h = buffer.data();
  h[k_magic] = 'm';
  h[k_magic + 1] = 's';
  h[k_format] = static_cast<char>(k_envelope_format);
  const auto kept = static_cast<std::uint8_t>(static_cast<std::uint8_t>(h[k_flags]) & k_digest_flag);  // start_envelope's
  put_u64le(h + k_payload_size, buffer.size() - payload_offset(buffer));
  put_u64le(h + k_created, static_cast<std::uint64_t>(info.created_ms));
  put_u64le(h + k_expires, static_cast<std::uint64_t>(info.expires_ms));
  put_u64le(h + k_compute, info.compute_ns);
  put_u64le(h + k_type, info.type.low);
  put_u64le(h + k_type + 8, info.type.high);
  // The result's digest, computed once here and signed with the rest: it
  // keys the calls that take this result as a Shared argument.
  const auto flags = static_cast<std::uint8_t>(kept | k_result_digest_flag);
  h[k_flags] = static_cast<char>(flags);
  char digest[k_result_digest_size];
  put_hash(digest, result_digest_of(finished_payload(buffer)));
  buffer.append(digest, sizeof digest);  // `h` is not used past here: the buffer may have moved
  bool signed_ok = true;
  if (signer != nullptr) {
    buffer[k_flags] = static_cast<char>(static_cast<std::uint8_t>(flags | k_signed_flag));  // the signature covers the flags
    if (const auto signature = signer->sign(key, buffer)) {
      buffer.append(reinterpret_cast<const char*>(signature->data()), signature->size());
    } else {
      buffer[k_flags] = static_cast<char>(flags);
      signed_ok = false;
    }
  }
  char checksum[k_envelope_checksum_size];
  put_u64le(checksum, XXH3_64bits(buffer.data(), buffer.size()));
  buffer.append(checksum, sizeof checksum);
  return signed_ok;
}

std::string_view finished_payload(std::string_view envelope) noexcept {
  return envelope.substr(payload_offset(envelope), get_u64le(envelope.data() + k_payload_size));
}

Hash128 finished_digest(std::string_view envelope) noexcept {
  const char* at = envelope.data() + payload_offset(envelope) + get_u64le(envelope.data() + k_payload_size);
  return Hash128{get_u64le(at), get_u64le(at + 8)};
}

Result<EntryView> read_envelope(std::string_view bytes) {
  if (bytes.size() < k_envelope_header_size + k_envelope_checksum_size) {
    return damaged(fmt::format("entry too short ({} bytes)", bytes.size()));
  }
  const char* h = bytes.data();
  if (h[k_magic] != 'm' || h[k_magic + 1] != 's') {
    return damaged("entry has no envelope magic");
  }
  if (static_cast<std::uint8_t>(h[k_format]) != k_envelope_format) {
    return damaged(fmt::format("entry has envelope format {}, this build reads format {}",
                               static_cast<unsigned>(static_cast<std::uint8_t>(h[k_format])),
                               static_cast<unsigned>(k_envelope_format)));
  }
  const auto flags = static_cast<std::uint8_t>(h[k_flags]);
  if ((flags & ~k_known_flags) != 0) {
    return damaged(fmt::format("entry has unknown flags 0x{:02x}", flags));
  }
  const std::uint64_t signature_size = (flags & k_signed_flag) != 0 ? k_signature_size : 0;
  const std::uint64_t result_digest_size = (flags & k_result_digest_flag) != 0 ? k_result_digest_size : 0;
  const std::uint64_t arguments_size = get_u32le(h + k_arguments_size);
  const std::uint64_t payload_size = get_u64le(h + k_payload_size);
  const bool digest = (flags & k_digest_flag) != 0;
  if (digest && arguments_size != k_arguments_digest_size) {
    return damaged(fmt::format("entry's arguments digest has {} bytes, not {}", arguments_size,
                               k_arguments_digest_size));
  }
  const std::uint64_t body = bytes.size() - k_envelope_header_size - k_envelope_checksum_size;
  const std::uint64_t trailer = signature_size + result_digest_size;  // after the payload
  if (trailer > body || arguments_size > body - trailer || payload_size != body - trailer - arguments_size) {
    return damaged(fmt::format("entry sizes do not add up (arguments {}, payload {}, digest {}, signature {}, {} "
                               "bytes present)",
                               arguments_size, payload_size, result_digest_size, signature_size, body));
  }
  const std::size_t checked = bytes.size() - k_envelope_checksum_size;
  if (XXH3_64bits(h, checked) != get_u64le(h + checked)) {
    return damaged("entry checksum mismatch");
  }
  EntryView view;
  view.info.created_ms = static_cast<std::int64_t>(get_u64le(h + k_created));
  view.info.expires_ms = static_cast<std::int64_t>(get_u64le(h + k_expires));
  view.info.compute_ns = get_u64le(h + k_compute);
  view.info.type = Hash128{get_u64le(h + k_type), get_u64le(h + k_type + 8)};
  view.arguments = bytes.substr(k_envelope_header_size, arguments_size);
  view.arguments_digest = digest;
  view.payload = bytes.substr(k_envelope_header_size + arguments_size, payload_size);
  const std::size_t digest_at = k_envelope_header_size + arguments_size + payload_size;
  if (result_digest_size != 0) {
    view.result_digest = Hash128{get_u64le(h + digest_at), get_u64le(h + digest_at + 8)};
  }
  view.signed_bytes = bytes.substr(0, digest_at + result_digest_size);
  view.signature = bytes.substr(view.signed_bytes.size(), signature_size);
  return view;
}

Hash128 result_digest_of(std::string_view payload) noexcept {
  const XXH128_hash_t hash = XXH3_128bits_withSeed(payload.data(), payload.size(), k_result_digest_seed);
  return Hash128{hash.low64, hash.high64};
}

Hash128 result_digest(const EntryView& entry) noexcept {
  return entry.result_digest ? *entry.result_digest : result_digest_of(entry.payload);
}

bool arguments_match(const EntryView& entry, std::string_view arguments) {
  return entry.arguments_digest ? digest_matches(entry.arguments, arguments) : entry.arguments == arguments;
}

bool signed_by(const EntrySigner& signer, std::string_view key, const EntryView& entry) {
  return !entry.signature.empty() && signer.verify(key, entry.signed_bytes, entry.signature);
}

}  // namespace memostore::detail

namespace memostore::detail {

std::optional<std::int64_t> peek_expires_ms(std::string_view bytes) noexcept {
  if (bytes.size() < k_envelope_header_size || bytes[0] != 'm' || bytes[1] != 's') {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(get_u64le(bytes.data() + k_expires));
}

}  // namespace memostore::detail
