// Template parts of baselines.hpp.
#pragma once

#include <sstream>

#include <cereal/archives/portable_binary.hpp>
#include <rocksdb/slice.h>

namespace bench {

template <class T>
std::string cereal_encode(const T& value) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive archive(out);
    archive(value);
  }
  return std::move(out).str();
}

/// A read-only streambuf over memory, so decoding does not copy the bytes first.
class MemoryBuffer : public std::streambuf {
 public:
  MemoryBuffer(const char* data, std::size_t size) {
    char* begin = const_cast<char*>(data);
    setg(begin, begin, begin + size);
  }
};

template <class T>
T cereal_decode(const char* data, std::size_t size) {
  MemoryBuffer buffer(data, size);
  std::istream in(&buffer);
  cereal::PortableBinaryInputArchive archive(in);
  T value{};
  archive(value);
  return value;
}

template <class T>
T cereal_decode(const std::string& bytes) {
  return cereal_decode<T>(bytes.data(), bytes.size());
}

template <class Decode>
bool RawRocksDb::get(const std::string& key, Decode&& decode) {
  rocksdb::PinnableSlice value;
  if (!get_pinned(key, &value)) return false;
  decode(value.data(), value.size());
  return true;
}

}  // namespace bench
