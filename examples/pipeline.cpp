// A small data pipeline with memostore: generate a CSV of sales, parse it,
// compute per-region statistics, estimate pi by Monte Carlo, and write a
// summary table into an SQLite database. Run it twice: the second run is a new
// process that finds every computed result in the cache.
//
// The rule of thumb: data (parsed tables, statistics, downloads) → memo, kept
// on disk; resources (the SQLite connection) → singleton, shared in memory.
//
//   pipeline [ROWS]        (cache directory: $MEMOSTORE_DIR, else .memostore)
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>
#include <sqlite3.h>

namespace {

// --- The data ---

const std::vector<std::string> k_regions = {"north", "south", "east", "west", "central", "coast", "hills", "islands"};

/// The parsed CSV, column by column: compact to store and fast to scan.
struct Sales {
  std::vector<std::uint8_t> region;
  std::vector<std::uint32_t> product;
  std::vector<std::uint16_t> units;
  std::vector<float> price;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(region, product, units, price);
  }
};

struct RegionStats {
  std::string region;
  std::uint64_t rows = 0;
  std::uint64_t units = 0;
  double revenue = 0;
  double median_price = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(region, rows, units, revenue, median_price);
  }
};

struct PiEstimate {
  double value = 0;
  double standard_error = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(value, standard_error);
  }
};

// --- The steps (plain functions: memostore does not change how they are written) ---

void generate_csv(const std::filesystem::path& path, std::uint64_t rows) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << "region,product,units,price\n";
  std::mt19937_64 rng(20261124);  // fixed seed: the same file every time
  std::string line;
  for (std::uint64_t i = 0; i < rows; ++i) {
    const auto r = rng();
    line = k_regions[r % k_regions.size()];
    line += ',' + std::to_string((r >> 8) % 10000) + ',' + std::to_string(1 + (r >> 24) % 20) + ',';
    line += std::to_string(((r >> 32) % 10000) / 100.0).substr(0, 5) + '\n';
    out << line;
  }
}

Sales parse_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  Sales sales;
  const char* p = text.data() + text.find('\n') + 1;  // skip the header
  const char* end = text.data() + text.size();
  while (p < end) {
    const char* comma = std::find(p, end, ',');
    const auto region = std::find(k_regions.begin(), k_regions.end(), std::string_view(p, comma - p));
    sales.region.push_back(static_cast<std::uint8_t>(region - k_regions.begin()));
    std::uint32_t product = 0;
    std::uint16_t units = 0;
    float price = 0;
    p = std::from_chars(comma + 1, end, product).ptr + 1;
    p = std::from_chars(p, end, units).ptr + 1;
    p = std::from_chars(p, end, price).ptr + 1;
    sales.product.push_back(product);
    sales.units.push_back(units);
    sales.price.push_back(price);
  }
  return sales;
}

std::vector<RegionStats> region_stats(const Sales& sales) {
  std::vector<RegionStats> stats(k_regions.size());
  std::vector<std::vector<float>> prices(k_regions.size());
  for (std::size_t i = 0; i < sales.region.size(); ++i) {
    auto& s = stats[sales.region[i]];
    s.rows += 1;
    s.units += sales.units[i];
    s.revenue += sales.units[i] * static_cast<double>(sales.price[i]);
    prices[sales.region[i]].push_back(sales.price[i]);
  }
  for (std::size_t r = 0; r < stats.size(); ++r) {
    stats[r].region = k_regions[r];
    auto& p = prices[r];
    std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(p.size() / 2), p.end());
    stats[r].median_price = p.empty() ? 0 : p[p.size() / 2];
  }
  return stats;
}

PiEstimate estimate_pi(std::uint64_t samples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uint64_t inside = 0;
  for (std::uint64_t i = 0; i < samples; ++i) {
    const double x = unit(rng);
    const double y = unit(rng);
    inside += x * x + y * y <= 1.0 ? 1 : 0;
  }
  const double p = static_cast<double>(inside) / static_cast<double>(samples);
  return {4 * p, 4 * std::sqrt(p * (1 - p) / static_cast<double>(samples))};
}

// --- The summary database: a resource, not data ---

/// An open SQLite connection. It cannot be serialized, only shared.
class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open(path.c_str(), &m_db) != SQLITE_OK) {
      const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close(m_db);
      throw std::runtime_error("cannot open " + path + ": " + message);
    }
    ++opened;
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { sqlite3_close(m_db); }

  /// Runs statements that return no rows.
  void execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("sqlite: " + message + " in: " + sql);
    }
  }

  /// The single integer a query returns.
  std::int64_t count(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    return value;
  }

  bool alive() { return count("select 1") == 1; }

  inline static int opened = 0;

 private:
  sqlite3* m_db = nullptr;
};

void write_region_table(Database& db, const std::vector<RegionStats>& stats) {
  db.execute("create table if not exists region_stats (region text primary key, rows integer, units integer, "
             "revenue real, median_price real)");
  db.execute("delete from region_stats");
  for (const auto& s : stats) {
    db.execute("insert into region_stats values ('" + s.region + "', " + std::to_string(s.rows) + ", " +
               std::to_string(s.units) + ", " + std::to_string(s.revenue) + ", " + std::to_string(s.median_price) +
               ")");
  }
}

void write_pi(Database& db, const PiEstimate& estimate) {
  db.execute("create table if not exists pi (value real, standard_error real)");
  db.execute("delete from pi");
  db.execute("insert into pi values (" + std::to_string(estimate.value) + ", " +
             std::to_string(estimate.standard_error) + ")");
}

// --- Reporting ---

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_time(double seconds) {
  char text[32];
  if (seconds < 1) {
    std::snprintf(text, sizeof text, "%8.2f ms", seconds * 1e3);
  } else {
    std::snprintf(text, sizeof text, "%8.2f s ", seconds);
  }
  return text;
}

/// Whether the call `run` makes is a hit: no miss was counted during it.
/// (Memo::cached would say too, at the cost of one more read of the entry.)
template <class Run>
auto run_and_report(const char* label, const memostore::Store& store, Run&& run) {
  const std::uint64_t misses = store.stats().total.misses;
  const auto start = std::chrono::steady_clock::now();
  auto result = run();
  const bool hit = store.stats().total.misses == misses;
  std::printf("  %-28s %s  %s\n", label, hit ? "hit " : "miss", format_time(seconds_since(start)).c_str());
  return result;
}

/// Calls a memoized step and prints whether it was a hit, and how long it took.
template <class Memo, class... Args>
auto run_step(const char* label, const Memo& step, const Args&... args) {
  return run_and_report(label, step.store(), [&] { return step(args...); });
}

/// The same for a step whose result the next steps share (Memo::shared).
template <class Memo, class... Args>
auto run_shared_step(const char* label, const Memo& step, const Args&... args) {
  return run_and_report(label, step.store(), [&] { return step.shared(args...); });
}

}  // namespace

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t rows = argc > 1 ? std::stoull(argv[1]) : 2'000'000;
  const std::string csv = "pipeline-data/sales-" + std::to_string(rows) + ".csv";

  memostore::Store& store = memostore::default_store();
  std::printf("memostore example pipeline (cache: %s, mode: %s)\n", store.dir().c_str(),
              std::string(memostore::to_string(store.mode())).c_str());

  if (!std::filesystem::exists(csv)) {
    const auto start = std::chrono::steady_clock::now();
    generate_csv(csv, rows);
    std::printf("  %-28s %s  %s\n", "generate the CSV", "    ", format_time(seconds_since(start)).c_str());
  }

  // The CSV is keyed by its content, not its name: edit it and the steps
  // that read it run again; move it and they still hit.
  auto parse = memostore::memo(store, "parse_csv",
                               [](const memostore::File& file) { return parse_csv(file.path().string()); });
  // The statistics take the parsed table as a memostore::Shared: they are
  // keyed by the table's digest (16 bytes, stored with it), not by encoding
  // the table again, and a table parsed again to the same values keeps their
  // hits. `parse.shared` hands over the table without copying it.
  auto stats = memostore::memo(store, "region_stats",
                               [](const memostore::Shared<Sales>& sales) { return region_stats(*sales); });
  auto pi = memostore::memo(store, "estimate_pi", &estimate_pi);

  const memostore::Shared<Sales> sales = run_shared_step("parse the CSV", parse, memostore::File(csv));
  const auto by_region = run_step("per-region statistics", stats, sales);
  const PiEstimate estimate = run_step("estimate pi (100M samples)", pi, std::uint64_t{100'000'000}, std::uint64_t{7});

  std::printf("\n  %-8s %10s %12s %16s %8s\n", "region", "rows", "units", "revenue", "median");
  for (const auto& s : by_region) {
    std::printf("  %-8s %10llu %12llu %16.2f %8.2f\n", s.region.c_str(), static_cast<unsigned long long>(s.rows),
                static_cast<unsigned long long>(s.units), s.revenue, s.median_price);
  }
  std::printf("\n  pi ~ %.6f +/- %.6f\n", estimate.value, estimate.standard_error);

  // One connection per database file, shared by every step that writes to it.
  auto summary_db = memostore::singleton(
      "summary_db", [](const std::string& path) { return Database(path); },
      {.max_entries = 4, .validate = [](Database& db) { return db.alive(); }});
  const std::string db_path = "pipeline-data/summary.sqlite";
  write_region_table(*summary_db(db_path), by_region);
  write_pi(*summary_db(db_path), estimate);
  std::printf("\n  wrote %lld regions and pi to %s (connections opened: %d)\n",
              static_cast<long long>(summary_db(db_path)->count("select count(*) from region_stats")),
              db_path.c_str(), Database::opened);
  std::printf("\ntotal %s\n", format_time(seconds_since(started)).c_str());
  return 0;
}
