// Moving entries between stores, for the admin functions that need it
// beyond the public export / import / merge.
#pragma once

#include <memostore/admin.hpp>

#include "storage/database.hpp"
#include "store/store_core.hpp"

namespace memostore::detail {

/// Stores into `into` every entry of `from` that can be read and passes its
/// checks (for_each_readable_entry: past damaged blocks and blob files); an
/// entry whose value cannot be read is reported in `rejected` and skipped,
/// and so is damage that no key names (with an empty hash).
TransferReport salvage_entries(const Database& from, StoreCore& into);

}  // namespace memostore::detail
