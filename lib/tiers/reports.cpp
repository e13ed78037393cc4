#include "tiers/reports.hpp"

#include <fmt/std.h>

#include "util/log.hpp"

namespace memostore::detail {

void Reports::write_failure(std::string_view what, const Failure& failure) {
  if (!m_write_failure_reported.exchange(true)) {
    warn("could not store {}: {}. Calls still return their results, uncached; later write failures on this "
         "store are not reported",
         what, failure.message);
  }
}

bool Reports::first_report_for(std::string_view key) {
  std::lock_guard lock(m_reported_mutex);
  return m_reported_keys.emplace(key).second;
}

void Reports::rejected(std::string_view function) {
  if (!m_rejected_reported.exchange(true)) {
    warn("ignored an entry of {} in {}: it has no valid signature for this store's secret (written without a "
         "secret, with another one, or planted); computing the result again. Every such entry is a miss, counted "
         "as rejected in the statistics; later ones are not reported",
         function, m_dir);
  }
}

}  // namespace memostore::detail
