// Writes the seed corpus in fuzz/corpus/: real envelopes, keys, bookkeeping
// records and encoded values, made with memostore's own encoders, so that the
// fuzzers start from valid inputs and mutate them. Run by hand after a format
// change: build/fuzz/fuzz/make_seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/detail/archive.hpp>

#include "codec/arguments_digest.hpp"
#include "codec/entry_signer.hpp"
#include "codec/envelope.hpp"
#include "codec/key.hpp"
#include "codec/meta.hpp"

using namespace memostore::detail;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

template <class T>
std::string encoded(const T& value) {
  std::string out;
  encode_value(value, out);
  return out;
}

/// The envelope of a call with `arguments` returning `result`, and its key.
std::pair<std::string, std::string> entry(const std::string& arguments, const std::string& result,
                                          const EntrySigner* signer) {
  const Hash128 type{0x1234, 0x5678};
  std::string key = version_prefix("load_prices", 3);
  append_hash(key, hash_arguments(type, arguments));
  std::string envelope;
  start_envelope(envelope, arguments);
  envelope += result;
  EntryInfo info;
  info.created_ms = 1795950000000;
  info.expires_ms = signer != nullptr ? 1795960000000 : 0;
  info.compute_ns = 1500000;
  info.type = type;
  finish_envelope(envelope, info, signer, key);
  return {key, envelope};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  const auto signer = EntrySigner::create("seed secret").value();

  const auto [key, plain] =
      entry(encoded(std::string("prices.csv")), encoded(std::vector<double>{1.5, 2.5, -3}), nullptr);
  const auto [signed_key, signed_envelope] =
      entry(encoded(std::make_tuple(7, std::string("x"))), encoded(std::string("a result")), signer.get());
  write(corpus / "envelope", "unsigned", plain);
  write(corpus / "envelope", "signed", signed_envelope);
  write(corpus / "envelope", "empty-result", entry("", "", nullptr).second);
  // Arguments over the threshold are stored as their digest (flag 0x02).
  write(corpus / "envelope", "arguments-digest",
        entry(encoded(std::string(k_digest_threshold + 1, 'a')), encoded(std::string("r")), signer.get()).second);

  write(corpus / "key", "entry-key", key);
  write(corpus / "key", "signed-entry-key", signed_key);
  write(corpus / "key", "info-record", encode_meta(EntryMeta{120, 1795950000000, 0}));
  write(corpus / "key", "access-record", encode_access(1795950000500));
  write(corpus / "key", "counter-key", counter_key("load_prices", Counter::hits));

  // The value fuzzer's first byte picks the type (see value_fuzz.cpp).
  write(corpus / "value", "0-doubles", '\0' + encoded(std::vector<double>{0.0, 1e300, -2.5}));
  write(corpus / "value", "1-string", '\1' + encoded(std::string("hello, cache")));
  write(corpus / "value", "2-strings", '\2' + encoded(std::vector<std::string>{"a", "", "bcd"}));
  write(corpus / "value", "3-tuple",
        '\3' + encoded(std::make_tuple(std::int64_t{-9}, true, std::optional<std::string>("opt"))));
  write(corpus / "value", "5-map",
        '\5' + encoded(std::map<std::string, std::vector<std::int32_t>>{{"k", {1, 2}}, {"l", {}}}));
  return 0;
}
