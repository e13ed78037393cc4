// The memo flavour of FlightTable: concurrent calls with the same key compute
// once, and the waiters receive the leader's finished entry.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/flight_table.hpp"

namespace memostore::detail {

/// What the leader hands to the waiters.
struct FlightResult {
  /// The finished envelope, or null: the result could not be encoded, or the
  /// leader found the entry already stored. Waiters then look up or compute.
  std::shared_ptr<const std::string> envelope;
  std::string_view payload;  // into *envelope
};

using InflightTable = FlightTable<FlightResult>;

}  // namespace memostore::detail
