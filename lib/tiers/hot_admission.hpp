// HotAdmission: the hot tier's door. An entry is copied into the hot tier at
// its second read within a while, not its first: a store read once per key
// (a scan, a batch job over a store larger than memory) would otherwise pay,
// on every read, a copy, an allocation and the eviction of an entry that is
// read again, for a copy nobody uses (W6, bench/RESULTS.md).
//
// "Within a while": each read writes a 32-bit tag of the key's hash into one
// of k_slots slots chosen by the hash; a read that finds its own tag there is
// a second one. A slot keeps the latest key mapped to it, so a key comes back
// as "seen" while fewer than about k_slots other keys were read since. A
// false "seen" (two keys with the same slot and tag, about one in 2^32) only
// admits an entry early. Lock-free; 256 KiB, so it lives on the heap.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace memostore::detail {

class HotAdmission {
 public:
  static constexpr std::size_t k_slots = std::size_t{1} << 16;

  /// True if `key` was read before, recently (see above); records this read.
  bool admits(std::string_view key) noexcept {
    const Place place = place_of(key);
    if (place.slot.load(std::memory_order_relaxed) == place.tag) {
      return true;
    }
    place.slot.store(place.tag, std::memory_order_relaxed);
    return false;
  }

  /// Records a read of `key` without one: its next read is admitted.
  void record(std::string_view key) noexcept {
    const Place place = place_of(key);
    place.slot.store(place.tag, std::memory_order_relaxed);
  }

 private:
  struct Place {
    std::atomic<std::uint32_t>& slot;
    std::uint32_t tag;
  };
  Place place_of(std::string_view key) noexcept {
    const std::uint64_t hash = XXH3_64bits(key.data(), key.size());
    // The low bits choose the slot, the high ones make the tag, never 0 (empty).
    return {m_slots[hash & (k_slots - 1)], static_cast<std::uint32_t>(hash >> 32) | 1U};
  }

  std::array<std::atomic<std::uint32_t>, k_slots> m_slots{};  // 0: empty
};

}  // namespace memostore::detail
