// memostore::Inflight: where a call being computed is shared with equal calls
// that arrive meanwhile (MemoOptions::inflight).
#pragma once

namespace memostore {

/// Where a call being computed is shared with equal calls that arrive meanwhile.
enum class Inflight {
  /// Threads of this process wait for one computation; another process
  /// sharing the store computes the same call too.
  per_process,
  /// Also across processes (a file claim) and, with a remote tier, across
  /// machines (a lease in Redis): they wait for this computation's result.
  shared,
  /// Across the processes sharing the directory for calls worth a claim, as
  /// `per_process` for the others (default). A call is worth one while its
  /// function's latest computation in this process took at least 50 ms, or
  /// none was made yet: what `make -j` and worker pools over one directory
  /// want (each expensive step computed once), without a claim's file
  /// operations (0.2-0.4 ms measured, bench W3) on every miss of a cheaper
  /// function. Other machines are not waited for: that takes `shared`.
  automatic,
};

}  // namespace memostore
