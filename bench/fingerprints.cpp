// F1/F2: what File and Dir inputs cost. A memoized call keyed by a 1 GB file
// (F1) and by a 10,000-file directory (F2): hashing every byte (what a first
// call, or FileCheck::content, does) and revalidating an unchanged input by
// its identity alone (every later call), next to xxhsum -H2 (XXH3-128, the
// same hash) and sha256sum over the same data. The data is in the page cache
// for every system, so this measures hashing, not the disk; F1 also reads the
// file once from the disk (page cache dropped: root only, not in --quick).
#include "fingerprints.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <memostore/memostore.hpp>

#include "harness.hpp"

namespace fs = std::filesystem;

namespace bench {
namespace {

/// Waits out the window in which a just-written file's identity is not
/// trusted (memostore hashes such files on every call).
void let_files_settle() { std::this_thread::sleep_for(std::chrono::milliseconds(2100)); }

void write_random_file(const fs::path& path, std::uint64_t bytes, std::uint64_t seed) {
  std::string block(std::min<std::uint64_t>(bytes, 1 << 20), '\0');
  Random random{seed};
  std::ofstream out(path, std::ios::binary);
  for (std::uint64_t written = 0; written < bytes; written += block.size()) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      const std::uint64_t word = random.next();
      std::memcpy(block.data() + i, &word, std::min<std::size_t>(8, block.size() - i));
    }
    out.write(block.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(block.size(), bytes - written)));
  }
}

/// Median time of `runs` calls of `work`, in nanoseconds.
template <class Work>
double median_ns(int runs, Work&& work) {
  Samples samples;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    work();
    samples.ns.push_back(ns_since(start));
  }
  return samples.median();
}

void run_shell(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("benchmark command failed: " + command);
  }
}

/// Times hits of a memoized function of `input` (a File or a Dir) with both
/// file checks, then each shell command, and prints one line per system.
template <class Input>
void compare(const char* workload, const fs::path& scratch, const Input& input, std::uint64_t bytes, int runs,
             const std::vector<std::pair<std::string, std::string>>& commands) {
  auto report = [&](const std::string& system, double ns) {
    Result(workload, system).add("median_ms", ns / 1e6).add("gb_per_s", static_cast<double>(bytes) / ns).print();
  };
  for (const auto check : {memostore::FileCheck::content, memostore::FileCheck::stat}) {
    const bool content = check == memostore::FileCheck::content;
    auto store = memostore::Store::open({.dir = scratch / (std::string(workload) + (content ? "-content" : "-stat")),
                                         .file_check = check});
    auto f = memostore::memo(store, "fingerprinted", [](const Input&) { return 1; });
    (void)f(input);  // the miss: hashes everything (and, with the stat check, remembers the hashes)
    // Later calls hit; with FileCheck::content each one still hashes every byte.
    const double later = median_ns(runs, [&] { (void)f(input); });
    const auto inputs = store.stats().inputs;
    Result(workload, content ? "memostore_content" : "memostore_stat")
        .add("median_ms", later / 1e6)
        .add("gb_per_s", static_cast<double>(bytes) / later)
        .add("files_hashed", static_cast<double>(inputs.files_hashed))
        .add("files_checked", static_cast<double>(inputs.files_checked))
        .print();
  }
  for (const auto& [system, command] : commands) {
    run_shell(command);  // warm-up: the same page cache state as memostore had
    report(system, median_ns(runs, [&] { run_shell(command); }));
  }
}

/// Drops the kernel's page cache (root only); false where that is not allowed.
bool drop_page_cache() {
  return std::system("sync && echo 1 > /proc/sys/vm/drop_caches 2>/dev/null") == 0;
}

/// F1 from the disk: the first call on a file that is not in the page cache,
/// next to xxhsum on the same file. One run each; skipped where the page
/// cache cannot be dropped.
void from_disk(const fs::path& scratch, const fs::path& file, std::uint64_t bytes, const std::string& xxhsum) {
  auto store = memostore::Store::open({.dir = scratch / "F1-disk", .file_check = memostore::FileCheck::content});
  auto f = memostore::memo(store, "fingerprinted", [](const memostore::File&) { return 1; });
  if (!drop_page_cache()) {
    return;
  }
  auto start = Clock::now();
  (void)f(memostore::File(file));
  double ns = ns_since(start);
  Result("F1", "memostore_disk").add("median_ms", ns / 1e6).add("gb_per_s", static_cast<double>(bytes) / ns).print();
  if (!xxhsum.empty() && drop_page_cache()) {
    start = Clock::now();
    run_shell(xxhsum);
    ns = ns_since(start);
    Result("F1", "xxhsum_disk").add("median_ms", ns / 1e6).add("gb_per_s", static_cast<double>(bytes) / ns).print();
  }
}

}  // namespace

void fingerprint_workloads(const fs::path& scratch, bool quick) {
  fs::create_directories(scratch);
  const bool have_xxhsum = std::system("command -v xxhsum >/dev/null") == 0;
  auto with_tools = [&](const std::string& xxhsum, const std::string& sha256sum) {
    std::vector<std::pair<std::string, std::string>> commands;
    if (have_xxhsum) {
      commands.emplace_back("xxhsum", xxhsum);
    }
    commands.emplace_back("sha256sum", sha256sum);
    return commands;
  };

  const std::uint64_t file_bytes = quick ? std::uint64_t{32} << 20 : std::uint64_t{1} << 30;
  const fs::path big = scratch / "F1.bin";
  write_random_file(big, file_bytes, 7);
  const int file_count = quick ? 200 : 10'000;
  const fs::path tree = scratch / "F2";
  for (int i = 0; i < file_count; ++i) {
    const fs::path file = tree / std::to_string(i % 100) / (std::to_string(i) + ".dat");
    fs::create_directories(file.parent_path());
    write_random_file(file, 1024, static_cast<std::uint64_t>(i));
  }
  let_files_settle();

  const std::string big_path = "'" + big.string() + "'";
  if (!quick) {  // a smoke run must not empty the machine's page cache
    from_disk(scratch, big, file_bytes, have_xxhsum ? "xxhsum -H2 " + big_path + " >/dev/null 2>&1" : "");
  }
  compare("F1", scratch, memostore::File(big), file_bytes, quick ? 3 : 5,
          with_tools("xxhsum -H2 " + big_path + " >/dev/null 2>&1", "sha256sum " + big_path + " >/dev/null 2>&1"));
  const std::string files = "find '" + tree.string() + "' -type f -print0 | xargs -0 ";
  compare("F2", scratch, memostore::Dir(tree), static_cast<std::uint64_t>(file_count) * 1024, quick ? 3 : 9,
          with_tools(files + "xxhsum -H2 >/dev/null 2>&1", files + "sha256sum >/dev/null 2>&1"));
  fs::remove_all(scratch);
}

}  // namespace bench
