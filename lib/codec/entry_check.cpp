#include "codec/entry_check.hpp"

namespace memostore::detail {

Result<CheckedEntry> check_entry(std::string_view key, std::string_view bytes, const EntrySigner* signer) {
  const auto parts = parse_key(key);
  if (!parts) {
    return Failure{ErrorCode::corruption, "key does not follow the store format"};
  }
  auto envelope = read_envelope(bytes);
  if (!envelope) {
    return envelope.failure();
  }
  if (signer != nullptr && !signed_by(*signer, key, envelope.value())) {
    return Failure{ErrorCode::corruption, envelope->signature.empty()
                                              ? "entry is not signed, and the store has a secret"
                                              : "entry's signature does not match the store's secret"};
  }
  if (!envelope->arguments_digest && hash_arguments(envelope->info.type, envelope->arguments) != parts->hash) {
    return Failure{ErrorCode::corruption, "key is not the hash of the stored arguments"};
  }
  if (envelope->result_digest && *envelope->result_digest != result_digest_of(envelope->payload)) {
    return Failure{ErrorCode::corruption, "its stored result digest is not the digest of its result"};
  }
  return CheckedEntry{*parts, envelope.value()};
}

}  // namespace memostore::detail
