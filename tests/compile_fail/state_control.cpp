// expect: COMPILES
// The ways out of the captured-state error, so the failures above fail for the
// reason they name: the value as an argument (keyed), as Unhashed (not keyed),
// a callable declared state_not_keyed (a lambda and a functor), a stateless
// functor, and MEMOSTORE_SOURCE around each kind.
#include <atomic>
#include <string>
#include <memostore/memostore.hpp>
struct Counter {
  std::atomic<int>* calls;
  int operator()(int x) const { ++*calls; return x * x; }
};
struct Stateless {
  int operator()(int x) const { return x + 1; }
};
int twice(int x) { return 2 * x; }
void use(memostore::Store& store, int threshold, std::atomic<int>& calls) {
  auto keyed = memostore::memo(store, "above", [](int x, int limit) { return x > limit; });
  (void)keyed(5, threshold);
  auto unkeyed = memostore::memo(store, "log", [](memostore::Unhashed<std::atomic<int>&> n, int x) { ++*n; return x; });
  (void)unkeyed(calls, 1);
  auto counted = memostore::memo(store, "square", memostore::state_not_keyed([&calls](int x) { ++calls; return x * x; }));
  (void)counted(3);
  auto functor = memostore::memo(store, "square2", memostore::state_not_keyed(Counter{&calls}));
  (void)functor(3);
  auto plain = memostore::memo(store, "plus", Stateless{});
  (void)plain(1);
  auto pointer = memostore::memo(store, "twice", &twice);
  (void)pointer(1);
  auto sourced = memostore::memo(store, "sourced", MEMOSTORE_SOURCE([](int x) { return x - 1; }));
  (void)sourced(1);
  auto both = memostore::memo(store, "both", MEMOSTORE_SOURCE(memostore::state_not_keyed([&calls](int x) { return x + calls; })));
  (void)both(1);
  auto both2 = memostore::memo(store, "both2", memostore::state_not_keyed(MEMOSTORE_SOURCE([&calls](int x) { return x + calls; })));
  (void)both2(1);
  auto made = memostore::singleton("made", memostore::state_not_keyed([&calls](int x) { return std::to_string(x + calls); }));
  (void)made(1);
}
