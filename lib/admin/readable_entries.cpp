#include "admin/readable_entries.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "policy/meta_scan.hpp"

namespace memostore::detail {

namespace {

/// The keys of every entry with an info record, in key order, as far as they
/// can be read.
std::vector<std::string> recorded_keys(const Database& database, std::vector<std::string>& stops) {
  std::vector<std::string> keys;
  auto scanned = for_each_entry_records(database, "", nullptr, [&](const EntryRecords& records) {
    if (records.has_info) {
      keys.emplace_back(records.key);
    }
    return true;
  });
  if (!scanned) {
    stops.push_back(fmt::format("the bookkeeping records could not all be read ({}): entries recorded after {} "
                                "entries may not be listed",
                                cause_of(scanned.failure().message), keys.size()));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

ReadableScan for_each_readable_entry(const Database& database,
                                     const std::function<void(std::string_view key, std::string_view bytes)>& visit) {
  ReadableScan scan;
  std::string last;
  bool any = false;
  auto scanned = database.for_each(Family::entries, "", [&](std::string_view key, std::string_view bytes) {
    last.assign(key);
    any = true;
    scan.read += 1;
    visit(key, bytes);
    return true;
  });
  if (scanned) {
    return scan;
  }
  // The scan stopped at damage past `last`: find the rest by their info records.
  scan.stops.push_back(fmt::format("the ordered scan of the entries stopped after {} {} ({}); the rest were "
                                   "read one by one through their bookkeeping records",
                                   scan.read, scan.read == 1 ? "entry" : "entries",
                                   cause_of(scanned.failure().message)));
  const std::vector<std::string> keys = recorded_keys(database, scan.stops);
  auto next = any ? std::upper_bound(keys.begin(), keys.end(), last) : keys.begin();
  for (; next != keys.end(); ++next) {
    const std::string& key = *next;
    auto found = database.get(Family::entries, key, [&](std::string_view bytes) {
      scan.read += 1;
      visit(key, bytes);
    });
    if (!found) {
      scan.unreadable.push_back(UnreadableEntry{key, cause_of(found.failure().message)});
    }
  }
  return scan;
}

std::string cause_of(const std::string& message) {
  constexpr std::string_view k_open = "is damaged (";
  const std::size_t start = message.find(k_open);
  const std::size_t end = message.find("). ", start);
  if (start == std::string::npos || end == std::string::npos) {
    return message;
  }
  return message.substr(start + k_open.size(), end - start - k_open.size());
}

}  // namespace memostore::detail
