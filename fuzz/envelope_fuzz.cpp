// Fuzz target: the entry envelope decoder and the checks a stored entry goes
// through (structure, checksum, key grammar, argument hash, signature). Any
// input must be refused or accepted without a crash, a read out of bounds or
// undefined behaviour; an accepted unsigned envelope must be exactly what the
// encoder writes for its fields (so nothing is accepted that we would not write).
// Random bytes almost never carry a matching checksum, so each input is also
// tried with its last 8 bytes replaced by the checksum of the rest: that is
// what reaches the checks behind the checksum.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <xxhash.h>

#include "codec/arguments_digest.hpp"
#include "codec/entry_check.hpp"
#include "codec/entry_signer.hpp"
#include "codec/envelope.hpp"
#include "codec/key.hpp"

using namespace memostore::detail;

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();  // reported by libFuzzer as a crash, with the input saved
  }
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

const EntrySigner& signer() {
  static const auto instance = EntrySigner::create("fuzzing secret").value();
  return *instance;
}

void check(std::string_view bytes);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  if (size >= k_envelope_checksum_size) {
    // A heap copy of exactly the input's size, so ASan sees any read past it.
    std::string repaired(bytes);
    const std::size_t checked = size - k_envelope_checksum_size;
    const std::uint64_t checksum = XXH3_64bits(repaired.data(), checked);
    for (std::size_t i = 0; i < k_envelope_checksum_size; ++i) {
      repaired[checked + i] = static_cast<char>(checksum >> (8 * i));
    }
    check(repaired);
  }
  return 0;
}

namespace {

void check(std::string_view bytes) {
  (void)peek_expires_ms(bytes);

  auto entry = read_envelope(bytes);
  if (!entry) {
    return;
  }
  const EntryView& view = entry.value();
  require(inside(view.arguments, bytes) && inside(view.payload, bytes) && inside(view.signature, bytes));
  require(view.signature.empty() || view.signature.size() == k_signature_size);

  require(!view.arguments_digest || view.arguments.size() == k_arguments_digest_size);
  (void)arguments_match(view, "");  // a digest field of any size and content is compared safely

  std::string key = version_prefix("f", 1);
  append_hash(key, hash_arguments(view.info.type, view.arguments));
  (void)signed_by(signer(), key, view);
  const auto checked = check_entry(key, bytes, nullptr);
  // The key was made from the entry's own arguments (a digest entry's key is
  // not checked): only a wrong result digest is refused.
  require(checked.ok() || (view.result_digest && *view.result_digest != result_digest_of(view.payload)));

  (void)result_digest(view);
  // check_entry refuses a result digest that is not its payload's.
  require(!checked.ok() || !view.result_digest || *view.result_digest == result_digest_of(view.payload));
  if (view.signature.empty()) {
    std::string rebuilt;
    start_envelope_like(rebuilt, view);
    rebuilt.append(view.payload);
    require(finish_envelope(rebuilt, view.info));
    if (view.result_digest) {
      require(checked.ok() == (rebuilt == bytes));  // what check_entry accepts is exactly what we write
    } else {
      // An entry of format 3 or older: what we write for it now holds the
      // same fields, and its digest.
      auto again = read_envelope(rebuilt);
      require(again.ok() && again->arguments == view.arguments && again->payload == view.payload &&
              again->info.created_ms == view.info.created_ms && again->info.expires_ms == view.info.expires_ms &&
              again->info.compute_ns == view.info.compute_ns && again->info.type == view.info.type &&
              again->arguments_digest == view.arguments_digest);
    }
    require(finished_payload(rebuilt) == view.payload);
    require(finished_digest(rebuilt) == result_digest_of(view.payload));
  }
}

}  // namespace
