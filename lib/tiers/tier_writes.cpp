// Writing a call's entry down the tiers: this directory first (the entry and
// its bookkeeping in one batch, then the budgets), the remote tier after; and
// forgetting one.
#include <fmt/std.h>

#include "tiers/shared_flight.hpp"
#include "tiers/tiers.hpp"

namespace memostore::detail {

void Tiers::keep(const Caller& caller, const std::string& key, const NewEntry& entry, const Replacing& replacing,
                 std::string_view inputs_record, const Claims& claims) {
  if (!entry.finished) {
    m_reports.write_failure(fmt::format("a result of {}", caller.name),
                            Failure{ErrorCode::io, "OpenSSL could not sign it"});
    return;
  }
  if (!writable()) {
    return;
  }
  store_locally(caller, key, *entry.envelope, entry.info, replacing, inputs_record, Origin::computed);
  if (m_remote) {
    const EntryInfo& info = entry.info;
    const auto ttl =
        info.expires_ms != 0 ? Duration(info.expires_ms - info.created_ms) : m_remote->settings().default_ttl;
    if (claims.holds_lease()) {
      m_remote->put_now(key, *entry.envelope, ttl);
    } else {
      m_remote->put(key, entry.envelope, ttl);
    }
  }
}

void Tiers::store_locally(const Caller& caller, const std::string& key, std::string_view bytes,
                          const EntryInfo& info, Replacing replacing, std::string_view inputs_record, Origin origin) {
  const Overwrites overwrites = replacing.size || !replacing.looked ? Overwrites::maybe : Overwrites::no;
  if (!replacing.looked && !replacing.size) {
    replacing.size = m_policy->stored_size(key);  // the read that would have told was skipped
  }
  Batch batch(*m_database);
  batch.put(Family::entries, key, bytes, overwrites);
  const EntryMeta meta{key.size() + bytes.size(), info.created_ms, info.expires_ms};
  // An entry copied from a lower tier was not computed here: no store, no compute time.
  const bool computed = origin == Origin::computed;
  LiveChange change = m_policy->stage_store(batch, *caller.state, key, meta, replacing.size,
                                            computed ? info.compute_ns : 0, inputs_record);
  if (!computed) {
    change.stores = 0;
  }
  if (auto written = commit(batch, change); !written) {
    m_reports.write_failure(fmt::format("a result of {}", caller.name), written.failure());
    return;
  }
  m_hot.expect_reads(key);
  enforce_budgets(*caller.state);
}

void Tiers::forget(const Caller& caller, const std::string& key) {
  if (!writable()) {
    return;
  }
  const auto size = m_policy->stored_size(key);
  if (!size) {
    value_or_throw(m_database->remove(Family::entries, key));  // no bookkeeping: nothing to count
    return;
  }
  Batch batch(*m_database);
  const LiveChange change = m_policy->stage_remove(batch, *caller.state, key, *size, std::nullopt);
  value_or_throw(commit(batch, change));
}

}  // namespace memostore::detail
