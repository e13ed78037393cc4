#include "baselines.hpp"

#include <sqlite3.h>
#include <sys/resource.h>

#include <fstream>
#include <stdexcept>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <xxhash.h>

#include "harness.hpp"
#include "storage/rocksdb_options.hpp"
#include <memostore/store.hpp>

namespace bench {

std::uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

std::string raw_key(const std::string& function, int argument) { return function + cereal_encode(argument); }

// --- RawRocksDb ---

RawRocksDb::RawRocksDb(const std::filesystem::path& dir, Bookkeeping bookkeeping) {
  const memostore::StoreOptions defaults;  // the same cache sizes as memostore's defaults
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"entries", memostore::detail::entries_options(defaults.block_cache_bytes, defaults.blob_cache_bytes)}};
  if (bookkeeping == Bookkeeping::meta_family) {
    families.emplace_back("meta", memostore::detail::bookkeeping_options());
  }
  rocksdb::DB* db = nullptr;
  const auto status =
      rocksdb::DB::Open(memostore::detail::database_options(dir), dir.string(), families, &m_families, &db);
  if (!status.ok()) throw std::runtime_error("RocksDB open: " + status.ToString());
  m_db.reset(db);
}

RawRocksDb::~RawRocksDb() {
  m_db->Flush(rocksdb::FlushOptions(), m_families).PermitUncheckedError();
  for (auto* f : m_families) m_db->DestroyColumnFamilyHandle(f).PermitUncheckedError();
  m_db->Close().PermitUncheckedError();
}

bool RawRocksDb::get_pinned(const std::string& key, void* pinnable) {
  auto* value = static_cast<rocksdb::PinnableSlice*>(pinnable);
  const auto status = m_db->Get(rocksdb::ReadOptions(), m_families[1], key, value);
  if (status.IsNotFound()) return false;
  if (!status.ok()) throw std::runtime_error("RocksDB get: " + status.ToString());
  return true;
}

void RawRocksDb::put(const std::string& key, const std::string& value) {
  const auto status = m_db->Put(rocksdb::WriteOptions(), m_families[1], key, value);
  if (!status.ok()) throw std::runtime_error("RocksDB put: " + status.ToString());
}

void RawRocksDb::put_with_info(const std::string& key, const std::string& value) {
  if (m_families.size() < 3) throw std::logic_error("put_with_info needs Bookkeeping::meta_family");
  const std::string info(24, '\0');  // size, created, expires: memostore's info record
  rocksdb::WriteBatch batch;
  batch.Put(m_families[1], key, value).PermitUncheckedError();
  batch.Put(m_families[2], key + 'i', info).PermitUncheckedError();
  const auto status = m_db->Write(rocksdb::WriteOptions(), &batch);
  if (!status.ok()) throw std::runtime_error("RocksDB write: " + status.ToString());
}

// --- SqliteStore ---

namespace {
void check_sqlite(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db));
  }
}
}  // namespace

SqliteStore::SqliteStore(const std::filesystem::path& file) {
  check_sqlite(sqlite3_open(file.c_str(), &m_db), m_db, "open");
  check_sqlite(sqlite3_exec(m_db,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                            "CREATE TABLE IF NOT EXISTS memo (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;",
                            nullptr, nullptr, nullptr),
               m_db, "setup");
  check_sqlite(sqlite3_prepare_v2(m_db, "SELECT v FROM memo WHERE k = ?", -1, &m_select, nullptr), m_db, "prepare");
  check_sqlite(sqlite3_prepare_v2(m_db, "INSERT OR REPLACE INTO memo (k, v) VALUES (?, ?)", -1, &m_insert, nullptr),
               m_db, "prepare");
}

SqliteStore::~SqliteStore() {
  sqlite3_finalize(m_select);
  sqlite3_finalize(m_insert);
  sqlite3_close(m_db);
}

std::optional<std::string> SqliteStore::get(const std::string& key) {
  sqlite3_reset(m_select);
  sqlite3_bind_blob(m_select, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (sqlite3_step(m_select) != SQLITE_ROW) return std::nullopt;
  const auto* data = static_cast<const char*>(sqlite3_column_blob(m_select, 0));
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(m_select, 0)));
}

void SqliteStore::put(const std::string& key, const std::string& value) {
  sqlite3_reset(m_insert);
  sqlite3_bind_blob(m_insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_blob(m_insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  check_sqlite(sqlite3_step(m_insert), m_db, "insert");
}

// --- FileStore ---

FileStore::FileStore(std::filesystem::path dir) : m_dir(std::move(dir)) { std::filesystem::create_directories(m_dir); }

std::filesystem::path FileStore::path_of(const std::string& key) const {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  char name[40];
  std::snprintf(name, sizeof name, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return m_dir / name;
}

std::optional<std::string> FileStore::get(const std::string& key) {
  std::ifstream in(path_of(key), std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::string data(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

void FileStore::put(const std::string& key, const std::string& value) {
  const auto target = path_of(key);
  auto temporary = target;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
  }
  std::filesystem::rename(temporary, target);
}

}  // namespace bench
