// Checking a stored entry without knowing its types: what `verify`, import
// and merge do with entries they did not write. An entry passes when its key
// follows the grammar, its envelope is whole (sizes and checksum), and the
// key's hash is the hash of the arguments it stores under the type it names,
// so a damaged or planted record cannot sit under another call's key. An
// entry that stores its arguments as a digest (codec/arguments_digest.hpp)
// cannot show that: the key hash is of arguments it no longer has. For it
// only the envelope (sizes, checksum, a digest field of the right size) is
// checked; a misplaced one is still never served, because every hit compares
// the caller's SHA-256 with the digest (docs/format.md). With a signer, the
// entry must also carry its valid signature. A result digest (flag 0x04)
// must be the digest of the stored result: it keys the calls downstream.
#pragma once

#include <string_view>

#include "codec/envelope.hpp"
#include "codec/key.hpp"
#include "util/result.hpp"

namespace memostore::detail {

struct CheckedEntry {
  KeyParts key;
  EntryView envelope;
};

/// Checks the entry `bytes` stored under `key` (and its signature, when
/// `signer` is not null); the failure says what is wrong.
Result<CheckedEntry> check_entry(std::string_view key, std::string_view bytes, const EntrySigner* signer);

}  // namespace memostore::detail
