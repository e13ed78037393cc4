// Bookkeeping records beside the entries. Grammar (docs/format.md), integers
// little-endian:
//   "meta" family:
//     info key   = entry key 'i'   -> size u64 | created_ms i64 | expires_ms i64 (0: never)
//     access key = entry key 'a'   -> last_access_ms i64
//     hits key   = entry key 'h'   -> u64 (RocksDB uint64add merges)
//     inputs key = entry key 'f'   -> the entry's input files (codec/input_records.hpp)
//   "stats" family:
//     counter key = name NUL counter-name  -> u64 (RocksDB uint64add merges)
// The info and inputs records are written in the same batch as their entry; the access record
// and the hit count are written later, in batches, and are optional (absent:
// last access = created, no hits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memostore::detail {

struct EntryMeta {
  std::uint64_t size = 0;  // key + envelope bytes
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;  // 0: never
};

inline constexpr char k_info_tag = 'i';
inline constexpr char k_access_tag = 'a';
inline constexpr char k_hits_tag = 'h';
inline constexpr char k_inputs_tag = 'f';  // which input files made the key: codec/input_records.hpp

std::string meta_key(std::string_view entry_key, char tag);

std::string encode_meta(const EntryMeta& meta);
std::optional<EntryMeta> decode_meta(std::string_view bytes) noexcept;

std::string encode_access(std::int64_t last_access_ms);
std::optional<std::int64_t> decode_access(std::string_view bytes) noexcept;

/// Persistent per-function counters. The names are part of the store format.
enum class Counter {
  hits, misses, stores, evictions, expirations, rejected, entries, bytes, compute_ns, saved_ns,
  checked, stale, changed_layout, fallback_hits, refreshes, refresh_failures,
};
inline constexpr Counter k_all_counters[] = {Counter::hits,      Counter::misses,      Counter::stores,
                                             Counter::evictions, Counter::expirations, Counter::rejected,
                                             Counter::entries,   Counter::bytes,       Counter::compute_ns,
                                             Counter::saved_ns,  Counter::checked,     Counter::stale,
                                             Counter::changed_layout, Counter::fallback_hits,
                                             Counter::refreshes, Counter::refresh_failures};

std::string_view counter_name(Counter counter) noexcept;
std::string counter_key(std::string_view function, Counter counter);

struct CounterKey {
  std::string_view function;
  Counter counter;
};
std::optional<CounterKey> parse_counter_key(std::string_view key) noexcept;

/// The remote tier's store-wide counters, in the stats family under
/// NUL "remote" NUL counter-name: no function's counter key starts with NUL
/// (names are not empty), so builds that know no remote tier skip them.
enum class RemoteCounter { hits, misses, writes, dropped_writes, rejected, errors };
inline constexpr RemoteCounter k_all_remote_counters[] = {RemoteCounter::hits,           RemoteCounter::misses,
                                                          RemoteCounter::writes,         RemoteCounter::dropped_writes,
                                                          RemoteCounter::rejected,       RemoteCounter::errors};
inline constexpr std::string_view k_remote_counter_prefix{"\0remote\0", 8};

std::string remote_counter_key(RemoteCounter counter);
std::optional<RemoteCounter> parse_remote_counter_key(std::string_view key) noexcept;

/// A function's MemoOptions::refresh_after, in milliseconds (a u64 counter
/// value, written with a Put), under NUL "refresh_after" NUL name: written by
/// the latest memo handle made with it on a writable store, removed by the
/// latest made without it, so `ls` and `show` can tell an entry's age
/// against it. Like the remote counters, it starts with NUL: counter scans skip it.
inline constexpr std::string_view k_refresh_after_prefix{"\0refresh_after\0", 15};
std::string refresh_after_key(std::string_view function);

/// Decodes a stored counter (8 bytes); 0 for anything else.
std::uint64_t decode_counter(std::string_view bytes) noexcept;
std::string encode_counter(std::uint64_t value);

}  // namespace memostore::detail
