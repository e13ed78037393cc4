// Moving entries between stores, for the admin functions that need it
// beyond the public export / import / merge.
#pragma once

#include <memostore/admin.hpp>

#include "storage/database.hpp"
#include "store/store_core.hpp"

namespace memostore::detail {

/// Stores into `into` every entry of `from` that can be read and passes its
/// checks, finding them through their info records: an entry whose value
/// cannot be read is reported in `rejected` and skipped, where a scan of the
/// entries would stop at it.
TransferReport salvage_entries(const Database& from, StoreCore& into);

}  // namespace memostore::detail
