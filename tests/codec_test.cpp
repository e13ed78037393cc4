// The bytes: the bounded archive, the entry envelope and the key grammar.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/detail/archive.hpp>

#include "codec/envelope.hpp"
#include "codec/key.hpp"

namespace detail = memostore::detail;

namespace {

std::string encode_u64(std::uint64_t v) {
  std::string out;
  detail::encode_value(v, out);
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("codec");

TEST_CASE("values round-trip through the archive") {
  const std::map<std::string, std::vector<double>> value = {{"a", {1.5, -2.25}}, {"", {}}, {"long", std::vector<double>(1000, 3.0)}};
  std::string bytes;
  detail::encode_value(value, bytes);
  CHECK(detail::decode_value<std::map<std::string, std::vector<double>>>(bytes) == value);
  CHECK(detail::decode_value<bool>(std::string(1, '\1')) == true);
}

TEST_CASE("integers are little-endian with 64-bit length prefixes") {
  std::string bytes;
  detail::encode_value(std::int32_t{0x01020304}, bytes);
  CHECK(bytes == std::string("\x04\x03\x02\x01", 4));
  bytes.clear();
  detail::encode_value(std::string("hi"), bytes);
  CHECK(bytes == std::string("\x02\0\0\0\0\0\0\0hi", 10));
}

TEST_CASE("a lying length prefix is rejected before anything is allocated") {
  // 2^60 doubles would be 8 EiB: the reader must refuse, not try.
  CHECK_THROWS_AS(detail::decode_value<std::vector<double>>(encode_u64(std::uint64_t{1} << 60)), cereal::Exception);
  CHECK_THROWS_AS(detail::decode_value<std::string>(encode_u64(1000) + "short"), cereal::Exception);
  CHECK_THROWS_AS(detail::decode_value<std::vector<std::string>>(encode_u64(~std::uint64_t{0})), cereal::Exception);
}

TEST_CASE("truncated input, trailing bytes and invalid bools are rejected") {
  std::string bytes;
  detail::encode_value(std::vector<int>{1, 2, 3}, bytes);
  CHECK_THROWS_AS(detail::decode_value<std::vector<int>>(bytes.substr(0, bytes.size() - 1)), cereal::Exception);
  CHECK_THROWS_AS(detail::decode_value<std::vector<int>>(bytes + "x"), cereal::Exception);
  CHECK_THROWS_AS(detail::decode_value<bool>(std::string(1, '\2')), cereal::Exception);
  CHECK_THROWS_AS(detail::decode_value<int>(""), cereal::Exception);
}

TEST_CASE("an envelope round-trips its fields, arguments and payload") {
  std::string buffer;
  detail::start_envelope(buffer, "ARGS");
  buffer += "PAYLOAD";
  detail::EntryInfo info;
  info.created_ms = 1'700'000'000'123;
  info.expires_ms = 1'700'000'100'000;
  info.compute_ns = 987'654'321;
  info.type = detail::Hash128{0x1122334455667788ULL, 0x99AABBCCDDEEFF00ULL};
  detail::finish_envelope(buffer, info);
  CHECK(buffer.size() == detail::k_envelope_header_size + 4 + 7 + detail::k_result_digest_size +
                             detail::k_envelope_checksum_size);
  auto entry = detail::read_envelope(buffer);
  REQUIRE(entry);
  CHECK(entry->arguments == "ARGS");
  CHECK(entry->payload == "PAYLOAD");
  // The result's digest is stored, and is the one its payload gives.
  REQUIRE(entry->result_digest);
  CHECK(*entry->result_digest == detail::result_digest_of("PAYLOAD"));
  CHECK(detail::finished_digest(buffer) == detail::result_digest_of("PAYLOAD"));
  CHECK(detail::result_digest_of("PAYLOAD") != detail::result_digest_of("PAYLOAE"));
  CHECK(entry->info.created_ms == info.created_ms);
  CHECK(entry->info.expires_ms == info.expires_ms);
  CHECK(entry->info.compute_ns == info.compute_ns);
  CHECK(entry->info.type == info.type);
}

TEST_CASE("every single flipped bit and every truncation of an envelope is detected") {
  std::string buffer;
  detail::start_envelope(buffer, "key-arguments");
  buffer += std::string(40, 'v');
  detail::finish_envelope(buffer, detail::EntryInfo{});
  REQUIRE(detail::read_envelope(buffer));
  int undetected = 0;
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = buffer;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      undetected += detail::read_envelope(damaged) ? 1 : 0;
    }
  }
  for (std::size_t n = 0; n < buffer.size(); ++n) {
    undetected += detail::read_envelope(std::string_view(buffer).substr(0, n)) ? 1 : 0;
  }
  CHECK(undetected == 0);
}

TEST_CASE("an envelope whose sizes lie is rejected without reading past the bytes") {
  std::string buffer;
  detail::start_envelope(buffer, "");
  detail::finish_envelope(buffer, detail::EntryInfo{});
  buffer[4] = '\xff';  // arguments_size: 255 bytes that are not there
  auto entry = detail::read_envelope(buffer);
  REQUIRE_FALSE(entry);
  CHECK(entry.failure().message.find("sizes do not add up") != std::string::npos);
}

TEST_CASE("keys follow the documented grammar and parse back") {
  const detail::Hash128 hash{0x0102030405060708ULL, 0x1112131415161718ULL};
  std::string key = detail::version_prefix("load_prices", 2);
  detail::append_hash(key, hash);
  CHECK(key.size() == 11 + 1 + 4 + 16);
  CHECK(key.substr(0, 16) == std::string("load_prices\0\0\0\0\2", 16));
  auto parts = detail::parse_key(key);
  REQUIRE(parts);
  CHECK(parts->name == "load_prices");
  CHECK(parts->version == 2);
  CHECK(parts->hash == hash);
  CHECK_FALSE(detail::parse_key("no-separator"));
  CHECK_FALSE(detail::parse_key(std::string("x\0short", 7)));
}

TEST_CASE("argument hashes and type fingerprints are stable across builds (golden values)") {
  // These values are part of the on-disk format: if they change, every stored
  // entry becomes a miss. Change them only with a format version bump.
  const detail::Hash128 type = detail::fingerprint_of_names({"i", "i"});
  CHECK(type == detail::Hash128{0xb0f74baf1d153876ULL, 0xecc4498e8b230754ULL});
  std::string args;
  detail::encode_value(3, args);
  CHECK(detail::hash_arguments(type, args) == detail::Hash128{0xda6c8877469b584bULL, 0xca9840e4ac06bb35ULL});
}

TEST_CASE("function names are validated") {
  CHECK(detail::check_function_name("f"));
  CHECK_FALSE(detail::check_function_name(""));
  CHECK_FALSE(detail::check_function_name(std::string("a\0b", 3)));
  CHECK_FALSE(detail::check_function_name(std::string(257, 'n')));
}

TEST_SUITE_END();
