#include "memo/judge.hpp"

#include <exception>

#include "policy/expiry.hpp"
#include "store/store_core.hpp"

namespace memostore::detail {

Tiers& tiers_of(const MemoCore& memo) noexcept { return *core_of(memo.store())->tiers(); }

Caller caller_of(const MemoCore& memo) noexcept { return Caller{memo.state(), memo.name(), memo.version()}; }

Outcome judge_entry(const MemoCore& memo, std::string_view args, const EntryView& entry, std::int64_t now_ms) {
  if (entry.info.type != memo.type()) {
    return Outcome::other_type;
  }
  if (!arguments_match(entry, args)) {  // the arguments, or their SHA-256 for large ones
    return Outcome::other_arguments;     // never its value
  }
  const auto ttl = tiers_of(memo).ttl_for(*memo.state());
  if (expired(entry.info.expires_ms, now_ms) || (ttl && expired(deadline_ms(entry.info.created_ms, ttl), now_ms))) {
    return Outcome::expired;
  }
  return Outcome::hit;
}

Verdict judge_and_decode(const MemoCore& memo, std::string_view args, const EntryView& entry, std::int64_t now_ms,
                         DecodeFn decode) {
  const Outcome outcome = judge_entry(memo, args, entry, now_ms);
  if (outcome != Outcome::hit) {
    return Verdict{outcome};
  }
  try {
    decode(entry.payload);
    return Verdict{Outcome::hit};
  } catch (const std::exception& e) {  // cereal::Exception, std::length_error, the type's own load code
    // Whole (checksum) and of the same types (fingerprint), yet not
    // decodable: the result type's layout changed, not the bytes.
    return Verdict{Outcome::changed_layout, e.what()};
  }
}

}  // namespace memostore::detail
