// Reading one memo entry: the outcomes a read can have, and the words that
// explain a miss (MEMOSTORE_EXPLAIN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memostore/detail/memo_core.hpp>

#include "codec/envelope.hpp"

namespace memostore::detail {

enum class Outcome {
  hit,
  absent,           // no entry under the key
  expired,          // an entry past its ttl
  other_type,       // an entry of another result or argument type
  other_arguments,  // another call's entry under a colliding hash
  damaged,          // an entry that fails its checks (structure, checksum)
  changed_layout,   // a whole entry of the right types whose bytes do not decode as the result type
  rejected,         // an entry without a valid signature for the store's secret
  unreadable,       // the read itself failed
};

struct Lookup {
  Outcome outcome = Outcome::absent;
  std::optional<std::uint64_t> existing_size;  // key + entry bytes, if anything is stored under the key
};

/// Whether an entry's signature is still to be checked: `checked` for a copy
/// kept in this process's memory after its signature was checked.
enum class SignatureCheck { needed, done };

/// Whether a well-formed `entry` stored under `key` is the result of a call
/// of `memo` with encoded arguments `args` at time `now_ms`: hit, or why not
/// (rejected, other_type, other_arguments, expired).
Outcome judge_entry(const MemoCore& memo, std::string_view key, std::string_view args, const EntryView& entry,
                    std::int64_t now_ms, SignatureCheck signature = SignatureCheck::needed);

/// Calls `use` with the entry stored for `key` and its size (key plus
/// envelope bytes) if it is whole and valid for the call with encoded
/// arguments `args` now; reads the store itself, not the hot tier, and
/// counts, logs and removes nothing. False if the read failed.
bool read_valid_entry(const MemoCore& memo, const std::string& key, std::string_view args,
                      FunctionRef<void(const EntryView& entry, std::uint64_t size)> use);

/// Reads the entry for `key` (from the hot tier, else from the database) and,
/// if it is valid, decodes it through `decode` and records the hit. A damaged
/// entry, or one of a changed layout, is removed (in writable modes) and warned about; an expired or rejected one is counted and left for the new
/// result to replace.
Lookup lookup(const MemoCore& memo, const std::string& key, std::string_view args, DecodeFn decode);

/// Logs (at info level) why a call of `memo` with `key` (encoded arguments
/// `args`, input files `inputs`) is computed, given the last lookup;
/// `refresh` in refresh mode. Scans the function's entries for some causes:
/// only while explaining.
void explain_miss(const MemoCore& memo, const std::string& key, std::string_view args,
                  const std::vector<RecordedInput>& inputs, const Lookup& last, bool refresh);

}  // namespace memostore::detail
