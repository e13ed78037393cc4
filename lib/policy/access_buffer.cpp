#include "policy/access_buffer.hpp"

namespace memostore::detail {

AccessBuffer::Shard& AccessBuffer::shard_for(std::string_view key) noexcept {
  // Keys end in hash bytes.
  return m_shards[key.empty() ? 0 : static_cast<unsigned char>(key.back()) % k_shards];
}

AccessBuffer::Recorded AccessBuffer::record(std::string_view key, std::int64_t now_ms) {
  Shard& shard = shard_for(key);
  std::size_t buffered = 0;
  {
    std::lock_guard lock(shard.mutex);
    buffered = shard.accesses.size();
    if (buffered >= 4 * k_shard_soft_cap) {
      return Recorded::dropped;  // the flush is behind: this access is dropped from the entry's record
    }
    if (const auto it = shard.accesses.find(key); it != shard.accesses.end()) {
      it->second.add(Accesses{now_ms, 1});
    } else {
      shard.accesses.emplace(key, Accesses{now_ms, 1});
    }
  }
  return buffered == k_shard_soft_cap ? Recorded::flush_soon : Recorded::kept;
}

void AccessBuffer::add(std::string_view key, const Accesses& accesses) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto it = shard.accesses.find(key); it != shard.accesses.end()) {
    it->second.add(accesses);
  } else {
    shard.accesses.emplace(key, accesses);
  }
}

void AccessBuffer::forget(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto it = shard.accesses.find(key); it != shard.accesses.end()) {
    shard.accesses.erase(it);
  }
}

void AccessBuffer::take(AccessVisitor visit) {
  for (Shard& shard : m_shards) {
    AccessMap taken;
    {
      std::lock_guard lock(shard.mutex);
      taken.swap(shard.accesses);
    }
    for (const auto& [key, accesses] : taken) {
      visit(key, accesses);
    }
  }
}

}  // namespace memostore::detail
