// The cereal archives memostore encodes keys and values with.
//
// The wire format is cereal's portable binary layout (fixed little-endian
// integers and IEEE 754 floats, 64-bit length prefixes) without its leading
// endianness byte. Two differences from cereal's own archives matter:
//  * no iostreams: the writer appends to a std::string, the reader reads a
//    string_view, so a hit decodes straight from the database's pinned buffer;
//  * the reader is bounded: it never reads past its input, rejects a length
//    prefix larger than the bytes that remain (so a lying prefix cannot make it
//    allocate more than a small multiple of the input), and rejects bools that
//    are neither 0 nor 1. Every failure is a cereal::Exception.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <algorithm>
#include <iterator>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <cereal/cereal.hpp>

#include <memostore/detail/input_hasher.hpp>

namespace memostore::detail {

/// Appends values to a std::string.
class BinaryWriter : public cereal::OutputArchive<BinaryWriter, cereal::AllowEmptyClassElision> {
 public:
  /// `inputs`: set while encoding a key, where File and Dir arguments stand
  /// for their contents (memostore/inputs.hpp); null for values.
  explicit BinaryWriter(std::string& out, InputHasher* inputs = nullptr)
      : OutputArchive(this), m_out(out), m_inputs(inputs) {}

  InputHasher* inputs() const noexcept { return m_inputs; }

  /// Appends `size` bytes of `ElementSize`-byte elements, little-endian.
  template <std::size_t ElementSize>
  void write_elements(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    if constexpr (std::endian::native == std::endian::little || ElementSize == 1) {
      m_out.append(bytes, size);
    } else {
      for (std::size_t i = 0; i + ElementSize <= size; i += ElementSize) {
        for (std::size_t b = ElementSize; b-- > 0;) {
          m_out.push_back(bytes[i + b]);
        }
      }
    }
  }

 private:
  std::string& m_out;
  InputHasher* m_inputs;
};

/// Reads values from a byte range it never steps outside of.
class BinaryReader : public cereal::InputArchive<BinaryReader, cereal::AllowEmptyClassElision> {
 public:
  explicit BinaryReader(std::string_view in) : InputArchive(this), m_pos(in.data()), m_end(in.data() + in.size()) {}

  std::size_t remaining() const noexcept { return static_cast<std::size_t>(m_end - m_pos); }

  /// Reads `size` bytes of `ElementSize`-byte little-endian elements into `data`.
  template <std::size_t ElementSize>
  void read_elements(void* data, std::size_t size) {
    if (size > remaining()) {
      throw cereal::Exception("truncated value: " + std::to_string(size) + " bytes needed, " +
                              std::to_string(remaining()) + " left");
    }
    auto* out = static_cast<char*>(data);
    if constexpr (std::endian::native == std::endian::little || ElementSize == 1) {
      if (size != 0) {
        std::memcpy(out, m_pos, size);
      }
    } else {
      for (std::size_t i = 0; i + ElementSize <= size; i += ElementSize) {
        for (std::size_t b = 0; b < ElementSize; ++b) {
          out[i + b] = m_pos[i + ElementSize - 1 - b];
        }
      }
    }
    m_pos += size;
  }

  /// Skips `size` bytes and returns where they start; the caller reads them.
  const char* consume(std::size_t size) {
    if (size > remaining()) {
      throw cereal::Exception("truncated value: " + std::to_string(size) + " bytes needed, " +
                              std::to_string(remaining()) + " left");
    }
    const char* start = m_pos;
    m_pos += size;
    return start;
  }

  /// Rejects a container length that cannot fit in what is left (every
  /// element takes at least one byte), before anything is allocated for it.
  void check_length(std::uint64_t length) const {
    if (length > remaining()) {
      throw cereal::Exception("length prefix " + std::to_string(length) + " exceeds the " +
                              std::to_string(remaining()) + " bytes left");
    }
  }

  /// Throws unless every byte was consumed: trailing bytes mean a different type.
  void expect_end() const {
    if (m_pos != m_end) {
      throw cereal::Exception(std::to_string(remaining()) + " unread bytes after the value");
    }
  }

 private:
  const char* m_pos;
  const char* m_end;
};

template <class T>
inline constexpr bool is_portable_number =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
    (!std::is_floating_point_v<T> || (std::numeric_limits<T>::is_iec559 && sizeof(T) <= 8));

// --- Inline implementations: the overloads cereal dispatches to ---

template <class T>
std::enable_if_t<is_portable_number<T>> CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const T& value) {
  ar.template write_elements<sizeof(T)>(std::addressof(value), sizeof(T));
}

template <class T>
std::enable_if_t<is_portable_number<T>> CEREAL_LOAD_FUNCTION_NAME(BinaryReader& ar, T& value) {
  ar.template read_elements<sizeof(T)>(std::addressof(value), sizeof(T));
}

inline void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const bool& value) {
  const std::uint8_t byte = value ? 1 : 0;
  ar.write_elements<1>(&byte, 1);
}

inline void CEREAL_LOAD_FUNCTION_NAME(BinaryReader& ar, bool& value) {
  std::uint8_t byte = 0;
  ar.read_elements<1>(&byte, 1);
  if (byte > 1) {
    throw cereal::Exception("invalid bool byte " + std::to_string(byte));
  }
  value = byte == 1;
}

template <class Archive, class T>
CEREAL_ARCHIVE_RESTRICT(BinaryReader, BinaryWriter)
CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& pair) {
  ar(pair.value);
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const cereal::SizeTag<T>& tag) {
  ar(tag.size);
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(BinaryReader& ar, cereal::SizeTag<T>& tag) {
  ar(tag.size);
  ar.check_length(static_cast<std::uint64_t>(tag.size));
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const cereal::BinaryData<T>& data) {
  using Element = std::remove_cv_t<std::remove_pointer_t<T>>;
  constexpr std::size_t element_size = std::is_void_v<Element> ? 1 : sizeof(Element);
  ar.template write_elements<element_size>(data.data, static_cast<std::size_t>(data.size));
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(BinaryReader& ar, cereal::BinaryData<T>& data) {
  using Element = std::remove_cv_t<std::remove_pointer_t<T>>;
  constexpr std::size_t element_size = std::is_void_v<Element> ? 1 : sizeof(Element);
  ar.template read_elements<element_size>(data.data, static_cast<std::size_t>(data.size));
}

/// A random-access iterator over little-endian numbers at any alignment, so
/// that vector::assign sizes the vector once and copies each element once
/// (vector::resize would first zero-fill it: a wasted pass over 10 MB values).
template <class T>
class UnalignedNumbers {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = T;

  UnalignedNumbers() = default;
  explicit UnalignedNumbers(const char* at) : m_at(at) {}

  T operator*() const {
    T value;
    std::memcpy(&value, m_at, sizeof(T));
    if constexpr (std::endian::native != std::endian::little && sizeof(T) > 1) {
      auto* bytes = reinterpret_cast<unsigned char*>(&value);
      for (std::size_t i = 0; i < sizeof(T) / 2; ++i) {
        std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
      }
    }
    return value;
  }
  T operator[](difference_type n) const { return *(*this + n); }
  UnalignedNumbers& operator++() { return *this += 1; }
  UnalignedNumbers operator++(int) { auto old = *this; ++*this; return old; }
  UnalignedNumbers& operator--() { return *this -= 1; }
  UnalignedNumbers operator--(int) { auto old = *this; --*this; return old; }
  UnalignedNumbers& operator+=(difference_type n) { m_at += n * static_cast<difference_type>(sizeof(T)); return *this; }
  UnalignedNumbers& operator-=(difference_type n) { return *this += -n; }
  friend UnalignedNumbers operator+(UnalignedNumbers it, difference_type n) { return it += n; }
  friend UnalignedNumbers operator+(difference_type n, UnalignedNumbers it) { return it += n; }
  friend UnalignedNumbers operator-(UnalignedNumbers it, difference_type n) { return it -= n; }
  friend difference_type operator-(UnalignedNumbers a, UnalignedNumbers b) {
    return (a.m_at - b.m_at) / static_cast<difference_type>(sizeof(T));
  }
  friend bool operator==(UnalignedNumbers a, UnalignedNumbers b) { return a.m_at == b.m_at; }
  friend auto operator<=>(UnalignedNumbers a, UnalignedNumbers b) { return a.m_at <=> b.m_at; }

 private:
  const char* m_at = nullptr;
};

/// Numeric vectors: the same bytes as cereal's vector of arithmetic types
/// (a length, then the elements), decoded in one copy. Chosen over cereal's
/// generic overload because it is more specialized.
template <class T, class A>
std::enable_if_t<is_portable_number<T>> CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const std::vector<T, A>& vector) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(vector.size())));
  ar.template write_elements<sizeof(T)>(vector.data(), vector.size() * sizeof(T));
}

template <class T, class A>
std::enable_if_t<is_portable_number<T>> CEREAL_LOAD_FUNCTION_NAME(BinaryReader& ar, std::vector<T, A>& vector) {
  cereal::size_type length = 0;
  ar(cereal::make_size_tag(length));
  if (length > ar.remaining() / sizeof(T)) {
    throw cereal::Exception("vector of " + std::to_string(length) + " elements exceeds the " +
                            std::to_string(ar.remaining()) + " bytes left");
  }
  const char* first = ar.consume(static_cast<std::size_t>(length) * sizeof(T));
  vector.assign(UnalignedNumbers<T>(first), UnalignedNumbers<T>(first) + static_cast<std::ptrdiff_t>(length));
}

/// Unordered containers are written in a canonical order: each element is
/// encoded on its own and the encodings are sorted, so equal containers give
/// equal bytes whatever their insertion order, bucket count or hash seed (a
/// key must not depend on them, and check mode must not see a recomputed
/// result as changed). The layout is cereal's own (a length, then the
/// elements), so cereal's load functions read it back. Costs one extra copy
/// of the bytes and a sort.
template <class Container, class WriteElement>
void save_canonically(BinaryWriter& ar, const Container& container, WriteElement write_element) {
  std::vector<std::string> encoded;
  encoded.reserve(container.size());
  for (const auto& element : container) {
    std::string bytes;
    BinaryWriter element_writer(bytes, ar.inputs());
    write_element(element_writer, element);
    encoded.push_back(std::move(bytes));
  }
  std::sort(encoded.begin(), encoded.end());
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(container.size())));
  for (const std::string& bytes : encoded) {
    ar.template write_elements<1>(bytes.data(), bytes.size());
  }
}

template <class T>
inline constexpr bool is_writable = cereal::traits::is_output_serializable<T, BinaryWriter>::value;

template <class K, class V, class H, class E, class A>
  requires is_writable<K> && is_writable<V>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const std::unordered_map<K, V, H, E, A>& map) {
  save_canonically(ar, map, [](BinaryWriter& out, const auto& pair) { out(pair.first, pair.second); });
}

template <class K, class V, class H, class E, class A>
  requires is_writable<K> && is_writable<V>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const std::unordered_multimap<K, V, H, E, A>& map) {
  save_canonically(ar, map, [](BinaryWriter& out, const auto& pair) { out(pair.first, pair.second); });
}

template <class K, class H, class E, class A>
  requires is_writable<K>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const std::unordered_set<K, H, E, A>& set) {
  save_canonically(ar, set, [](BinaryWriter& out, const auto& element) { out(element); });
}

template <class K, class H, class E, class A>
  requires is_writable<K>
void CEREAL_SAVE_FUNCTION_NAME(BinaryWriter& ar, const std::unordered_multiset<K, H, E, A>& set) {
  save_canonically(ar, set, [](BinaryWriter& out, const auto& element) { out(element); });
}

/// True when memostore can store a `T`: cereal can save and load it with our
/// archives, and it can be default-constructed to load into.
template <class T>
inline constexpr bool is_storable = cereal::traits::is_output_serializable<T, BinaryWriter>::value &&
                                    cereal::traits::is_input_serializable<T, BinaryReader>::value &&
                                    std::is_default_constructible_v<T>;

/// True when a `T` can be part of a key (it only has to be written).
template <class T>
inline constexpr bool is_keyable = cereal::traits::is_output_serializable<T, BinaryWriter>::value;

/// Appends the encoding of `value` to `out`.
template <class T>
void encode_value(const T& value, std::string& out) {
  BinaryWriter writer(out);
  writer(value);
}

/// Decodes a whole `T` from `bytes`; throws cereal::Exception (or another
/// std::exception from the type's own load code) if they do not hold one.
template <class T>
T decode_value(std::string_view bytes) {
  BinaryReader reader(bytes);
  T value{};
  reader(value);
  reader.expect_end();
  return value;
}

}  // namespace memostore::detail

CEREAL_REGISTER_ARCHIVE(memostore::detail::BinaryWriter)
CEREAL_REGISTER_ARCHIVE(memostore::detail::BinaryReader)
CEREAL_SETUP_ARCHIVE_TRAITS(memostore::detail::BinaryReader, memostore::detail::BinaryWriter)
