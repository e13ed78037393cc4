#include "codec/entry_check.hpp"

namespace memostore::detail {

Result<CheckedEntry> check_entry(std::string_view key, std::string_view bytes) {
  const auto parts = parse_key(key);
  if (!parts) {
    return Failure{ErrorCode::corruption, "key does not follow the store format"};
  }
  auto envelope = read_envelope(bytes);
  if (!envelope) {
    return envelope.failure();
  }
  if (hash_arguments(envelope->info.type, envelope->arguments) != parts->hash) {
    return Failure{ErrorCode::corruption, "key is not the hash of the stored arguments"};
  }
  return CheckedEntry{*parts, envelope.value()};
}

}  // namespace memostore::detail
