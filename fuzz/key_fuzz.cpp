// Fuzz target: the key decoder and the bookkeeping records read beside each
// entry (info, access, counter keys). Any input must be refused or parsed
// without a crash or undefined behaviour; a parsed key must be rebuilt exactly
// from its parts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/key.hpp"
#include "codec/meta.hpp"

using namespace memostore::detail;

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (const auto parts = parse_key(bytes)) {
    require(check_function_name(parts->name).ok());
    std::string rebuilt = version_prefix(parts->name, parts->version);
    append_hash(rebuilt, parts->hash);
    require(rebuilt == bytes);
  }
  if (const auto counter = parse_counter_key(bytes)) {
    require(counter_key(counter->function, counter->counter) == bytes);
  }
  if (const auto meta = decode_meta(bytes)) {
    require(encode_meta(*meta) == bytes);
  }
  (void)decode_access(bytes);
  (void)decode_counter(bytes);
  return 0;
}
