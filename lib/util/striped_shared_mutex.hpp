// StripedSharedMutex: a reader-writer lock for read-mostly tables whose readers
// must not slow each other down. Each thread reads through its own stripe (a
// shared_mutex on its own cache line), so two threads reading at once touch no
// common lock word; a writer takes every stripe. Meets the SharedMutex
// requirements (use with std::shared_lock / std::unique_lock).
// Cost: a read lock is one uncontended shared_mutex; a write lock is k_stripes.
#pragma once

#include <array>
#include <cstddef>
#include <shared_mutex>

#include "util/thread_stripe.hpp"

namespace memostore::detail {

class StripedSharedMutex {
 public:
  static constexpr std::size_t k_stripes = 16;

  void lock() {
    for (Stripe& stripe : m_stripes) {
      stripe.mutex.lock();
    }
  }
  void unlock() {
    for (std::size_t i = k_stripes; i-- > 0;) {
      m_stripes[i].mutex.unlock();
    }
  }
  void lock_shared() { m_stripes[this_thread_stripe(k_stripes)].mutex.lock_shared(); }
  void unlock_shared() { m_stripes[this_thread_stripe(k_stripes)].mutex.unlock_shared(); }

 private:
  struct alignas(64) Stripe {
    std::shared_mutex mutex;
  };

  std::array<Stripe, k_stripes> m_stripes;
};

}  // namespace memostore::detail
