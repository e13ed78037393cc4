#include "admin/access.hpp"

#include <fmt/std.h>

#include "storage/lock_holder.hpp"
#include "store/mode_rules.hpp"
#include "util/hex.hpp"

namespace memostore::detail {

const Database& database_of(const Store& store, std::string_view operation) {
  Database* database = detail::core_of(store)->database();
  if (database == nullptr) {
    throw Error(ErrorCode::usage, fmt::format("cannot {} {}: the store is open in mode off (MEMOSTORE_MODE?), "
                                              "which does not touch the directory",
                                              operation, store.dir()));
  }
  if (database->reading()) {
    // Access times and hit counts that processes which only read handed over
    // wait for the next writer: apply them, so that what is read is complete.
    (void)database->catch_up();
  }
  return *database;
}

StoreCore& shared_writable_core(Store& store, std::string_view operation) {
  (void)database_of(store, operation);
  require_writable(store.mode(), store.dir(), operation);
  StoreCore& core = *detail::core_of(store);
  value_or_throw(core.database()->catch_up());
  return core;
}

void await_holder(StoreCore& core, std::string_view operation, std::chrono::milliseconds limit) {
  if (value_or_throw(core.database()->wait_until_applied(limit))) {
    return;
  }
  throw Error(ErrorCode::locked,
              fmt::format("cannot {} {} now: {} holds it and has not carried out what was handed over to it within "
                          "{} ms. It will when it next catches up (while it runs, within about {} ms), and the "
                          "result is then what was asked; wait longer with a larger timeout",
                          operation, core.dir(), describe(lock_holder(core.dir())), limit.count(),
                          k_catch_up_interval.count()));
}

StoreCore& writable_core(Store& store, std::string_view operation) {
  (void)database_of(store, operation);
  require_writable(store.mode(), store.dir(), operation);
  if (detail::core_of(store)->database()->secondary()) {
    // Another process holds the store: its writes would only be handed over,
    // and compaction, repair and exact accounting need the store alone.
    const Failure in_use = store_in_use(store.dir(), operation);
    throw Error(in_use.code, in_use.message);
  }
  return *detail::core_of(store);
}

EntrySummary summarize(const EntryRecords& records) {
  EntrySummary entry;
  entry.key = std::string(records.key);
  entry.function = std::string(records.parts.name);
  entry.version = records.parts.version;
  entry.hash = to_hex(records.key.substr(records.key.size() - k_key_hash_size));
  entry.size = records.meta.size;
  entry.created = time_point_of_ms(records.meta.created_ms);
  if (records.meta.expires_ms != 0) {
    entry.expires = time_point_of_ms(records.meta.expires_ms);
  }
  entry.last_used = time_point_of_ms(records.last_used_ms());
  entry.hits = records.hits;
  for (RecordedInput& input : decode_inputs(records.inputs).value_or(std::vector<RecordedInput>{})) {
    entry.inputs.push_back(
        EntryInput{input.kind == InputKind::dir, std::move(input.path), std::move(input.pattern), hash_hex(input.hash)});
  }
  return entry;
}

Problem problem_at(std::string_view key, std::string what) {
  Problem problem;
  if (const auto parts = parse_key(key)) {
    problem.function = std::string(parts->name);
    problem.hash = to_hex(key.substr(key.size() - k_key_hash_size));
  } else {
    problem.hash = to_hex(key.substr(0, 64));
  }
  problem.what = std::move(what);
  return problem;
}

}  // namespace memostore::detail
