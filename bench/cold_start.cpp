// W4: a new process opens a store and gets its first hit, then exits.
//   cold-start memostore|rocksdb_raw|sqlite_wal PATH KEY
#include <cstdio>
#include <cstring>
#include <string>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>

#include "baselines.hpp"
#include "harness.hpp"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::string system = argv[1];
  const int key = std::stoi(argv[3]);
  std::size_t size = 0;
  if (system == "memostore") {
    auto store = memostore::Store::open(argv[2]);
    auto f = memostore::memo(store, "W1", &bench::small_value);
    if (!f.cached(key)) return 3;
    size = f(key).size();
  } else if (system == "rocksdb_raw") {
    bench::RawRocksDb db(argv[2]);
    db.get(bench::raw_key("W1", key),
           [&](const char* data, std::size_t n) { size = bench::cereal_decode<std::string>(data, n).size(); });
  } else if (system == "sqlite_wal") {
    bench::SqliteStore db(argv[2]);
    if (auto v = db.get(bench::raw_key("W1", key))) size = bench::cereal_decode<std::string>(*v).size();
  }
  return size == 100 ? 0 : 1;
}
