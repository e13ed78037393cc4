// memostore::Shared<R>: a memoized result shared instead of copied, and the
// identity (Digest) that keys the steps downstream of it.
//
//   auto parse = memostore::memo(store, "parse", &parse_csv);
//   auto stats = memostore::memo(store, "stats",
//       [](const memostore::Shared<Table>& table) { return statistics(*table); });
//   memostore::Shared<Table> table = parse.shared(memostore::File("sales.csv"));
//   Stats s = stats(table);   // keyed by table.digest(): the table is not encoded again
//
// Memo::shared returns one; in a process, repeated hits on one entry return
// the same object (decoded once) while the hot tier keeps it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <memostore/detail/archive.hpp>

namespace memostore {

/// The identity of a stored result: 128 bits of XXH3-128 over its encoded
/// bytes, computed once when the entry is written and kept in it. Equal
/// results of one type have equal digests in every process, store and
/// machine (export, import, merge, fallbacks and the remote tier carry it).
struct Digest {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  friend bool operator==(const Digest&, const Digest&) = default;

  /// 32 lowercase hex digits, the high half first.
  std::string hex() const;
};

template <class R>
class Shared;

namespace detail {

/// The digest of a result's encoding (what an entry would hold for it).
Digest digest_of_encoded(std::string_view encoded) noexcept;

/// A digest no other result has (128 random bits): for a result that cannot
/// be encoded, so that no call downstream of it is ever a hit on another's entry.
Digest unique_digest();

template <class R>
Shared<R> make_shared_result(std::shared_ptr<const R> object, const Digest& digest);

template <class T>
inline constexpr bool is_shared_v = false;
template <class R>
inline constexpr bool is_shared_v<Shared<R>> = true;

}  // namespace detail

/// Shared ownership of an immutable result and its Digest. Cheap to copy (a
/// reference count), safe to read from many threads, and usable after the
/// store closed. There is no empty Shared.
///
/// As an argument of another memoized function (or a singleton), a Shared is
/// keyed by its digest, never by encoding the value: the lineage key. A step
/// whose upstream result did not change, even if it was computed again, is a
/// hit (early cut-off); a changed upstream result makes it a miss.
///
/// A Shared cannot be part of a result: a function that returns one (or a
/// type holding one) does not compile. Return the value, and ask for a
/// Shared with Memo::shared.
template <class R>
class Shared {
 public:
  using element_type = R;

  /// A Shared of a value made outside a memo (a test, the first step of a
  /// pipeline): costs one encoding of `value`, for its digest.
  static Shared of(R value) {
    std::string encoded;
    detail::encode_value(value, encoded);
    return Shared(std::make_shared<const R>(std::move(value)), detail::digest_of_encoded(encoded));
  }

  const R& get() const noexcept { return *m_object; }
  const R& operator*() const noexcept { return *m_object; }
  const R* operator->() const noexcept { return m_object.get(); }

  /// The result's identity (see Digest).
  const Digest& digest() const noexcept { return m_digest; }

  /// The object, for code that takes a std::shared_ptr (it keeps it alive).
  const std::shared_ptr<const R>& pointer() const noexcept { return m_object; }

  /// Equal digests: equal results.
  friend bool operator==(const Shared& a, const Shared& b) noexcept { return a.m_digest == b.m_digest; }

 private:
  Shared(std::shared_ptr<const R> object, const Digest& digest) : m_object(std::move(object)), m_digest(digest) {}
  friend Shared detail::make_shared_result<R>(std::shared_ptr<const R>, const Digest&);

  std::shared_ptr<const R> m_object;  // never null
  Digest m_digest;
};

namespace detail {

template <class R>
Shared<R> make_shared_result(std::shared_ptr<const R> object, const Digest& digest) {
  return Shared<R>(std::move(object), digest);
}

}  // namespace detail

/// A Shared in a key: its 16 digest bytes (the high half first). Only keys
/// are written this way: there is no load, so a Shared is never storable.
template <class R>
void CEREAL_SAVE_FUNCTION_NAME(detail::BinaryWriter& ar, const Shared<R>& shared) {
  ar(shared.digest().high, shared.digest().low);
}

}  // namespace memostore
