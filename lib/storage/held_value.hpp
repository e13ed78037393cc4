// Values read from a Database without a copy: ReadValue during a
// get_holdable() call, HeldValue past it. Included by database.hpp.
#pragma once

#include <memory>
#include <string_view>

namespace rocksdb {
class PinnableSlice;
}  // namespace rocksdb

namespace memostore::detail {

class Database;

/// A value read from the database and kept past the read where RocksDB holds
/// it: pinned in its blob or block cache (not copied), or RocksDB's own copy
/// of a value not yet written to a table. The cache cannot evict a pinned
/// value. Keeps the caches alive, so it may outlive the database.
class HeldValue {
 public:
  HeldValue(HeldValue&&) noexcept;
  HeldValue& operator=(HeldValue&&) noexcept;
  ~HeldValue();

  std::string_view bytes() const noexcept;

 private:
  friend class ReadValue;
  struct State;
  explicit HeldValue(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> m_state;
};

/// A value during a Database::get_holdable() call.
class ReadValue {
 public:
  std::string_view bytes() const noexcept { return m_bytes; }
  /// Whether the value is large enough to live in a blob file: it is pinned in
  /// the blob cache, or RocksDB's own copy of it if it is still in the memory
  /// table. (A smaller one may be pinned in a table's data block, which holding
  /// would keep whole.)
  bool blob_sized() const noexcept;
  /// Whether the value is pinned in one of RocksDB's caches (not a copy).
  bool pinned() const noexcept;
  /// Keeps the value past the call, without a copy. Call at most once; bytes()
  /// stays valid, held by the result.
  HeldValue hold();

 private:
  friend class Database;
  ReadValue(rocksdb::PinnableSlice& slice, const std::shared_ptr<const void>& caches);
  rocksdb::PinnableSlice* m_slice;
  std::string_view m_bytes;
  const std::shared_ptr<const void>* m_caches;  // what a held value keeps alive
};

}  // namespace memostore::detail
