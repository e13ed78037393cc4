// The compiled half of memo<F>: everything that does not depend on the user's
// types (keys, envelopes, RocksDB, the compute-once table, warnings) works on
// bytes here, so the template in memo.hpp only encodes and decodes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <memostore/detail/call_inputs.hpp>
#include <memostore/detail/function_ref.hpp>
#include <memostore/detail/hash128.hpp>
#include <memostore/inflight.hpp>
#include <memostore/policy.hpp>
#include <memostore/store.hpp>

namespace memostore::detail {

class FunctionState;  // lib/policy/store_policy.hpp

/// MemoOptions, as the compiled code needs them.
struct MemoPolicy {
  std::uint32_t version = 0;
  std::optional<Duration> ttl;
  std::uint64_t max_entries = 0;
  std::uint64_t max_bytes = 0;
  Inflight inflight = Inflight::automatic;
  Duration inflight_lease{0};
  std::vector<std::filesystem::path> depends_on;
  std::optional<Duration> refresh_after;
};

/// Called with an entry's payload bytes; decodes them into the caller's
/// result or throws (the entry is then treated as damaged).
using DecodeFn = FunctionRef<void(std::string_view payload)>;

/// Calls the user's function, keeps its result for the caller, and appends
/// the encoded result to the buffer. Returns false if the result could not be
/// encoded (it is then returned but not stored). Throws what the function throws.
using ComputeFn = FunctionRef<bool(std::string& buffer)>;

/// ComputeFn's owning twin for a background refresh: it holds copies of the
/// function and of the call's arguments, since it runs after the call returned.
using OwnedCompute = std::function<bool(std::string& buffer)>;

/// Makes the OwnedCompute of the current call; called only when a stale hit
/// starts a refresh, so a fresh hit copies nothing.
using MakeRefreshFn = FunctionRef<OwnedCompute()>;

/// Memo::shared's decoder: decodes an entry's payload into a new `const R`
/// (type-erased); throws like DecodeFn.
using DecodeSharedFn = FunctionRef<std::shared_ptr<const void>(std::string_view payload)>;

/// What a Memo::shared call ends with.
struct SharedOutcome {
  /// The decoded result (a `const R`): the one the hot tier keeps with the
  /// entry when it keeps it. Null when this call computed the result, which
  /// the caller holds.
  std::shared_ptr<const void> object;
  /// The result's digest; none if it could not be encoded.
  std::optional<Hash128> digest;
};

class MemoCore {
 public:
  /// Throws Error (config) if `name` is empty, longer than 256 bytes or has a NUL byte.
  MemoCore(Store store, std::string name, const MemoPolicy& policy, Hash128 type);

  /// True in Mode::off: call the function directly.
  bool bypass() const noexcept { return m_store.mode() == Mode::off; }

  /// One memoized call for the encoded arguments `args`: decodes a stored
  /// result, or waits for the same computation in another thread, or computes
  /// (once per key in the process) and stores the result, with `inputs`, the
  /// input files its key holds.
  void call(std::string_view args, const std::vector<RecordedInput>& inputs, DecodeFn decode,
            ComputeFn compute) const;
  /// The same; a hit on an entry older than refresh_after starts a background
  /// refresh through `make_refresh` (at most one per key at a time).
  void call(std::string_view args, const std::vector<RecordedInput>& inputs, DecodeFn decode, ComputeFn compute,
            MakeRefreshFn make_refresh) const;

  /// Memo::shared: the same call, decoding a hit through `decode` into an
  /// object shared by every hit on the entry while the hot tier keeps it
  /// (which it does from the entry's first shared read, within its budget).
  /// `type` is typeid(R): an object decoded by a caller of another type
  /// (of the same name) is never handed out.
  void call_shared(std::string_view args, const std::vector<RecordedInput>& inputs, const std::type_info& type,
                   DecodeSharedFn decode, ComputeFn compute, MakeRefreshFn make_refresh, SharedOutcome& outcome) const;

  /// Memo::refresh: computes the call now, in this thread, and stores the
  /// result whatever the stored entry's age (counted in refreshes). In
  /// readonly mode nothing is stored. Throws what the function throws.
  void refresh(std::string_view args, const std::vector<RecordedInput>& inputs, ComputeFn compute) const;

  /// True if a valid entry exists for `args`. Reads, computes nothing.
  bool cached(std::string_view args) const;

  /// Deletes the entry for `args`, if any. No-op in readonly and off modes.
  void forget(std::string_view args) const;

  /// Deletes every entry of this function, all versions.
  void clear() const;

  /// Logs that a result of this function could not be encoded.
  void report_unstorable(std::string_view reason) const;

  const std::string& name() const noexcept { return m_name; }
  std::uint32_t version() const noexcept { return m_options.version; }
  const Store& store() const noexcept { return m_store; }
  const Hash128& type() const noexcept { return m_type; }
  /// This function's counters and limits in the store; null when the store is off.
  FunctionState* state() const noexcept { return m_state; }

  /// The store key for the encoded arguments `args`.
  std::string key_for(std::string_view args) const;

  /// Files and directories whose content joins the key of every call (MemoOptions::depends_on).
  const std::vector<std::filesystem::path>& depends_on() const noexcept { return m_options.depends_on; }

  Inflight inflight() const noexcept { return m_options.inflight; }
  Duration inflight_lease() const noexcept { return m_options.inflight_lease; }
  const std::optional<Duration>& refresh_after() const noexcept { return m_options.refresh_after; }

 private:
  Store m_store;
  std::string m_name;
  MemoPolicy m_options;
  Hash128 m_type;
  FunctionState* m_state = nullptr;  // owned by the store's policy, which the store handle keeps alive
  std::string m_key_prefix;  // name, NUL, version: shared by every key of this function version
};

}  // namespace memostore::detail
