// One build of a program whose memoized result type changes between builds,
// as it does when someone edits a struct and forgets the version bump. Built
// three times (tests/meson.build) with MEMOSTORE_TEST_LAYOUT:
//   1: Summary serializes (mean, stddev)
//   2: the same fields swapped, (stddev, mean): still decodes, to wrong values
//   3: a field added, (mean, stddev, count): no longer decodes
// usage: layout_child DIR   (MEMOSTORE_MODE as the environment says)
// prints: computed=N mean=M stddev=S
#include <cstdio>
#include <cmath>
#include <numeric>
#include <vector>

#include <cereal/types/vector.hpp>
#include <memostore/memostore.hpp>

#ifndef MEMOSTORE_TEST_LAYOUT
#error "build with -DMEMOSTORE_TEST_LAYOUT=1, 2 or 3"
#endif

struct Summary {
  double mean = 0;
  double stddev = 0;
  double count = 0;

  template <class Archive>
  void serialize(Archive& ar) {
#if MEMOSTORE_TEST_LAYOUT == 1
    ar(mean, stddev);
#elif MEMOSTORE_TEST_LAYOUT == 2
    ar(stddev, mean);
#else
    ar(mean, stddev, count);
#endif
  }
};

int computed = 0;

Summary summarize(const std::vector<double>& values) {
  ++computed;
  Summary s;
  s.count = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / s.count;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(squares / s.count);
  return s;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: layout_child DIR\n");
    return 2;
  }
  memostore::Store store = memostore::Store::open(argv[1]);
  auto summary = memostore::memo(store, "summary", &summarize);
  const Summary s = summary(std::vector<double>{9, 13, 9, 13});  // mean 11, stddev 2
  std::printf("computed=%d mean=%g stddev=%g\n", computed, s.mean, s.stddev);
  return 0;
}
