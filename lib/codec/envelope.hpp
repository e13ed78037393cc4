// The entry envelope: what is stored under a key. Grammar (docs/format.md),
// all integers little-endian:
//   envelope = header arguments payload [digest] [signature] checksum
//   header   = magic "ms" | format u8 (=1) | flags u8 | arguments_size u32
//            | payload_size u64 | created_ms i64 | expires_ms i64 (0: never)
//            | compute_ns u64 | type fingerprint 16 bytes          (56 bytes)
//   arguments= the encoded key arguments, compared on every hit; when flags
//              has bit 0x02 (arguments digest), their size and SHA-256 instead
//              (codec/arguments_digest.hpp, 40 bytes)
//   payload  = the encoded result
//   digest   = the result's digest (result_digest_of(payload)), present when
//              flags has bit 0x04; every entry written since store format 4 has it (16 bytes)
//   signature= HMAC-SHA256 over the key and header..digest, present when
//              flags has bit 0x01 (signed); no other flag bits are defined (32 bytes)
//   checksum = XXH3-64 of everything before it                      (8 bytes)
// The reader checks the sizes against the bytes present and the checksum
// before anything is decoded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <memostore/detail/hash128.hpp>

#include "codec/entry_signer.hpp"
#include "util/result.hpp"

namespace memostore::detail {

inline constexpr std::size_t k_envelope_header_size = 56;
inline constexpr std::size_t k_envelope_checksum_size = 8;
inline constexpr std::size_t k_result_digest_size = 16;
inline constexpr std::uint8_t k_envelope_format = 1;
/// The arguments' size is a u32 in the header.
inline constexpr std::size_t k_max_arguments_size = 0xFFFFFFFF;

struct EntryInfo {
  std::int64_t created_ms = 0;   // Unix time, milliseconds
  std::int64_t expires_ms = 0;   // Unix time, milliseconds; 0 = never
  std::uint64_t compute_ns = 0;  // how long the function took
  Hash128 type;
};

struct EntryView {
  EntryInfo info;
  std::string_view arguments;     // the encoded arguments, or their digest (arguments_digest)
  bool arguments_digest = false;  // flag 0x02: `arguments` holds their digest
  std::string_view payload;
  std::optional<Hash128> result_digest;  // flag 0x04; entries written before store format 4 have none
  std::string_view signed_bytes;  // header, arguments, payload and digest: what a signature covers
  std::string_view signature;     // empty when the entry is not signed
};

/// Starts an envelope in `buffer` (cleared): a header placeholder, then
/// `arguments`, or their digest if they are longer than k_digest_threshold
/// (one SHA-256 of them). The caller appends the payload, then calls
/// finish_envelope. Requires: arguments.size() <= k_max_arguments_size.
void start_envelope(std::string& buffer, std::string_view arguments);

/// Starts an envelope like start_envelope, with the arguments field of
/// `entry` as it is (its arguments, or their digest with the flag): for
/// rewriting a stored entry.
void start_envelope_like(std::string& buffer, const EntryView& entry);

/// Fills in the header, appends the result's digest and the checksum. With a `signer`, first
/// appends the signature of the entry stored under `key`; returns false (and
/// leaves the envelope unsigned) if signing failed, which never happens
/// without a signer.
bool finish_envelope(std::string& buffer, const EntryInfo& info, const EntrySigner* signer = nullptr,
                     std::string_view key = {});

/// The payload of a finished envelope, without checking it.
std::string_view finished_payload(std::string_view envelope) noexcept;

/// The identity of an encoded result: XXH3-128 of its bytes, with a fixed
/// seed. Equal results of one type have equal encodings, so equal digests,
/// in every process, store and machine: the lineage key of Memo::shared.
Hash128 result_digest_of(std::string_view payload) noexcept;

/// The digest `entry` holds, or for an entry written before store format 4,
/// the digest of its payload (one hash of it).
Hash128 result_digest(const EntryView& entry) noexcept;

/// The result digest of a finished envelope (finish_envelope writes one),
/// without checking it.
Hash128 finished_digest(std::string_view envelope) noexcept;

/// Checks structure and checksum; the failure message says what is wrong.
Result<EntryView> read_envelope(std::string_view bytes);

/// True if `entry` holds `arguments`, or their digest: the collision guard
/// of a hit. Costs a comparison, or one SHA-256 of arguments of the
/// digested size.
bool arguments_match(const EntryView& entry, std::string_view arguments);

/// True if `entry`, stored under `key`, carries a valid signature by `signer`.
bool signed_by(const EntrySigner& signer, std::string_view key, const EntryView& entry);

/// The expiry time in an envelope's header, without checking the rest (for
/// the compaction filter); nullopt if the bytes are not an envelope.
std::optional<std::int64_t> peek_expires_ms(std::string_view bytes) noexcept;

}  // namespace memostore::detail
