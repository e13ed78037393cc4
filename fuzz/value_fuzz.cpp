// Fuzz target: the typed value decoder (memostore's bounded cereal archive),
// for the kinds of result types programs store. The first byte picks the
// type, the rest is the encoded value. Any input must decode or throw, without
// a crash, a read out of bounds, undefined behaviour or an allocation out of
// proportion to the input (run with -malloc_limit_mb). For types with one
// encoding per value, a decoded value must encode back to exactly the input.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/detail/archive.hpp>

using memostore::detail::decode_value;
using memostore::detail::encode_value;

namespace {

struct Record {
  std::string name;
  std::vector<std::vector<std::uint8_t>> rows;
  std::variant<std::int32_t, std::string, double> tag;
  std::optional<bool> flag;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(name, rows, tag, flag);
  }
};

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

/// Decodes a T; if that works and T has one encoding per value, checks the round trip.
template <class T, bool Canonical>
void decode_as(std::string_view bytes) {
  T value;
  try {
    value = decode_value<T>(bytes);
  } catch (const std::exception&) {  // refused: what a damaged entry must be
    return;
  }
  if constexpr (Canonical) {
    std::string encoded;
    encode_value(value, encoded);
    require(encoded == bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      decode_as<std::vector<double>, true>(bytes);
      break;
    case 1:
      decode_as<std::string, true>(bytes);
      break;
    case 2:
      decode_as<std::vector<std::string>, true>(bytes);
      break;
    case 3:
      decode_as<std::tuple<std::int64_t, bool, std::optional<std::string>>, true>(bytes);
      break;
    case 4:
      decode_as<Record, true>(bytes);
      break;
    // Maps and sets accept keys in any order and repeated keys: no round trip.
    case 5:
      decode_as<std::map<std::string, std::vector<std::int32_t>>, false>(bytes);
      break;
    case 6:
      decode_as<std::set<std::uint16_t>, false>(bytes);
      break;
  }
  return 0;
}
