#include "codec/meta.hpp"

#include "util/endian.hpp"

namespace memostore::detail {

std::string meta_key(std::string_view entry_key, char tag) {
  std::string key;
  key.reserve(entry_key.size() + 1);
  key.append(entry_key);
  key.push_back(tag);
  return key;
}

std::string encode_meta(const EntryMeta& meta) {
  std::string out(24, '\0');
  put_u64le(out.data(), meta.size);
  put_u64le(out.data() + 8, static_cast<std::uint64_t>(meta.created_ms));
  put_u64le(out.data() + 16, static_cast<std::uint64_t>(meta.expires_ms));
  return out;
}

std::optional<EntryMeta> decode_meta(std::string_view bytes) noexcept {
  if (bytes.size() != 24) {
    return std::nullopt;
  }
  return EntryMeta{get_u64le(bytes.data()), static_cast<std::int64_t>(get_u64le(bytes.data() + 8)),
                   static_cast<std::int64_t>(get_u64le(bytes.data() + 16))};
}

std::string encode_access(std::int64_t last_access_ms) { return encode_counter(static_cast<std::uint64_t>(last_access_ms)); }

std::optional<std::int64_t> decode_access(std::string_view bytes) noexcept {
  if (bytes.size() != 8) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(get_u64le(bytes.data()));
}

std::string_view counter_name(Counter counter) noexcept {
  switch (counter) {
    case Counter::hits: return "hits";
    case Counter::misses: return "misses";
    case Counter::stores: return "stores";
    case Counter::evictions: return "evictions";
    case Counter::expirations: return "expirations";
    case Counter::rejected: return "rejected";
    case Counter::entries: return "entries";
    case Counter::bytes: return "bytes";
    case Counter::compute_ns: return "compute_ns";
    case Counter::saved_ns: return "saved_ns";
    case Counter::checked: return "checked";
    case Counter::stale: return "stale";
    case Counter::changed_layout: return "changed_layout";
    case Counter::fallback_hits: return "fallback_hits";
    case Counter::refreshes: return "refreshes";
    case Counter::refresh_failures: return "refresh_failures";
  }
  return "unknown";
}

std::string counter_key(std::string_view function, Counter counter) {
  std::string key(function);
  key.push_back('\0');
  key.append(counter_name(counter));
  return key;
}

std::optional<CounterKey> parse_counter_key(std::string_view key) noexcept {
  const std::size_t nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) {
    return std::nullopt;
  }
  const std::string_view name = key.substr(nul + 1);
  for (Counter counter : k_all_counters) {
    if (counter_name(counter) == name) {
      return CounterKey{key.substr(0, nul), counter};
    }
  }
  return std::nullopt;
}

namespace {
std::string_view remote_counter_name(RemoteCounter counter) noexcept {
  switch (counter) {
    case RemoteCounter::hits: return "hits";
    case RemoteCounter::misses: return "misses";
    case RemoteCounter::writes: return "writes";
    case RemoteCounter::dropped_writes: return "dropped_writes";
    case RemoteCounter::rejected: return "rejected";
    case RemoteCounter::errors: return "errors";
  }
  return "unknown";
}
}  // namespace

std::string refresh_after_key(std::string_view function) {
  std::string key(k_refresh_after_prefix);
  key.append(function);
  return key;
}

std::string remote_counter_key(RemoteCounter counter) {
  std::string key(k_remote_counter_prefix);
  key.append(remote_counter_name(counter));
  return key;
}

std::optional<RemoteCounter> parse_remote_counter_key(std::string_view key) noexcept {
  if (!key.starts_with(k_remote_counter_prefix)) {
    return std::nullopt;
  }
  for (RemoteCounter counter : k_all_remote_counters) {
    if (key.substr(k_remote_counter_prefix.size()) == remote_counter_name(counter)) {
      return counter;
    }
  }
  return std::nullopt;
}

std::uint64_t decode_counter(std::string_view bytes) noexcept {
  return bytes.size() == 8 ? get_u64le(bytes.data()) : 0;
}

std::string encode_counter(std::uint64_t value) {
  std::string out(8, '\0');
  put_u64le(out.data(), value);
  return out;
}

}  // namespace memostore::detail
