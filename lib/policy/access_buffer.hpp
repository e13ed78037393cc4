// AccessBuffer: the last-access times and hit counts of entries, kept in
// memory between flushes. A hit on a key already buffered allocates nothing;
// threads lock different shards. Bounded: past a soft cap per shard it asks
// for an early flush, past four times as many it drops new keys (access
// times only order eviction). Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <memostore/detail/function_ref.hpp>

namespace memostore::detail {

/// An entry's hits not yet written, and the latest one's time (Unix ms).
struct Accesses {
  std::int64_t last_ms = 0;
  std::uint64_t hits = 0;

  void add(const Accesses& more) noexcept {
    last_ms = std::max(last_ms, more.last_ms);
    hits += more.hits;
  }
};

/// Receives buffered accesses of a key (a key may come more than once).
using AccessVisitor = FunctionRef<void(std::string_view key, const Accesses& accesses)>;

class AccessBuffer {
 public:
  /// What record() asks of the caller.
  enum class Recorded { kept, flush_soon, dropped };

  /// Counts a hit on `key` at `now_ms`. flush_soon the first time a shard
  /// reaches its soft cap since the last take().
  Recorded record(std::string_view key, std::int64_t now_ms);
  /// Adds accesses counted elsewhere (never dropped: they were bounded there).
  void add(std::string_view key, const Accesses& accesses);
  /// Drops what is buffered for a removed entry, so no record comes back for it.
  void forget(std::string_view key);
  /// Hands `visit` everything buffered, emptying the buffer.
  void take(AccessVisitor visit);

 private:
  /// Lets the buffer find a key by string_view.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };
  using AccessMap = std::unordered_map<std::string, Accesses, KeyHash, std::equal_to<>>;
  struct alignas(64) Shard {  // a cache line of its own: threads lock different shards at once
    std::mutex mutex;
    AccessMap accesses;  // guarded by mutex
  };
  static constexpr std::size_t k_shards = 16;
  // Past this many buffered access times a shard asks for an early flush, and
  // past four times as many it drops new ones: the buffer stays under about
  // 30 MB however many distinct keys are hit.
  static constexpr std::size_t k_shard_soft_cap = 4096;

  Shard& shard_for(std::string_view key) noexcept;

  std::array<Shard, k_shards> m_shards;
};

}  // namespace memostore::detail
