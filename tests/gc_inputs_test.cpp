// Issue 25, "entries of changed inputs go": gc with ChangedInputs::remove
// (`memostore gc --changed-inputs`) removes entries whose recorded File or
// Dir inputs are gone or hold other content, and keeps the others; through
// the library API and through the real tool.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <fstream>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <memostore/memostore.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using memostore::Dir;
using memostore::File;
using memostore::Store;
using memostore::test::TempDir;
using Json = nlohmann::json;

using memostore::test::read_file;
using memostore::test::write_file;

namespace {

std::string load(const File& file) { return read_file(file.path()); }

std::size_t count_files(const Dir& dir) { return dir.files().size(); }

/// The entries of each function, by name.
std::map<std::string, int> entries_by_function(const Store& store) {
  std::map<std::string, int> counts;
  memostore::for_each_entry(store, {}, [&](const memostore::EntrySummary& entry) {
    counts[entry.function] += 1;
    return true;
  });
  return counts;
}

/// Inputs under `data`: changed.txt, deleted.txt, same.txt, and a directory
/// tables/ read with the pattern "*.csv"; one entry for each in `dir`.
void store_entries(const fs::path& dir, const fs::path& data) {
  write_file(data / "changed.txt", "before");
  write_file(data / "deleted.txt", "here");
  write_file(data / "same.txt", "same");
  write_file(data / "tables/a.csv", "1,2");
  write_file(data / "other/a.csv", "3,4");
  Store store = Store::open(dir);
  auto loaded = memostore::memo(store, "load", load);
  auto counted = memostore::memo(store, "count_files", count_files);
  for (const char* name : {"changed.txt", "deleted.txt", "same.txt"}) {
    (void)loaded(File(data / name));
  }
  (void)counted(Dir(data / "tables", "*.csv"));
  (void)counted(Dir(data / "other", "*.csv"));
}

/// Changes the inputs: changed.txt gets other content, deleted.txt goes,
/// tables/ gains a file its pattern does not match (its fingerprint stays),
/// other/ one it matches.
void change_inputs(const fs::path& data) {
  write_file(data / "changed.txt", "after!");
  fs::remove(data / "deleted.txt");
  write_file(data / "tables/notes.txt", "not a table");
  write_file(data / "other/b.csv", "5,6");
}

}  // namespace

TEST_SUITE_BEGIN("gc changed inputs");

TEST_CASE("gc removes the entries whose input files are gone or changed, and only with changed_inputs") {
  TempDir tmp;
  const fs::path data = tmp / "data";
  store_entries(tmp / "store", data);
  change_inputs(data);

  Store store = Store::open(tmp / "store");
  const auto kept = memostore::gc(store, {});  // the default keeps them
  CHECK(kept.changed_input_entries == 0);
  CHECK(entries_by_function(store) == std::map<std::string, int>{{"load", 3}, {"count_files", 2}});

  const auto report = memostore::gc(store, {.changed_inputs = memostore::ChangedInputs::remove});
  CHECK(report.changed_input_entries == 3);  // changed.txt, deleted.txt, other/
  CHECK(report.changed_input_bytes > 0);
  CHECK(report.entries() == 3);
  CHECK(entries_by_function(store) == std::map<std::string, int>{{"load", 1}, {"count_files", 1}});
  CHECK(store.stats().total.entries == 2);

  // What stayed is what is still current: same.txt and tables/ (notes.txt does not match *.csv).
  auto loaded = memostore::memo(store, "load", load);
  auto counted = memostore::memo(store, "count_files", count_files);
  CHECK(loaded.cached(File(data / "same.txt")));
  CHECK(counted.cached(Dir(data / "tables", "*.csv")));

  const auto again = memostore::gc(store, {.changed_inputs = memostore::ChangedInputs::remove});
  CHECK(again.changed_input_entries == 0);
}

TEST_CASE("memostore gc --changed-inputs reports and removes them (text and --json)") {
  TempDir tmp;
  const fs::path data = tmp / "data";
  store_entries(tmp / "text", data);
  store_entries(tmp / "json", data);
  change_inputs(data);

  const auto text = memostore::test::run_tool(tmp / "text", {"gc", "--changed-inputs"});
  INFO("stderr: " << text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("inputs gone or changed") != std::string::npos);

  const auto json = memostore::test::run_tool(tmp / "json", {"gc", "--changed-inputs", "--json"});
  REQUIRE(json.exit_code == 0);
  const Json report = Json::parse(json.out);
  CHECK(report["changed_inputs"]["entries"].get<int>() == 3);
  CHECK(report["removed"]["entries"].get<int>() == 3);

  for (const char* name : {"text", "json"}) {
    const Store store = Store::open(tmp / name);
    CHECK(entries_by_function(store) == std::map<std::string, int>{{"load", 1}, {"count_files", 1}});
  }
}

TEST_SUITE_END();
