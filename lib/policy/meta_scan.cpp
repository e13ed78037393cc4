#include "policy/meta_scan.hpp"

#include <string>

namespace memostore::detail {

Result<void> for_each_entry_records(const Database& database, std::string_view prefix, const Snapshot* at,
                                    FunctionRef<bool(const EntryRecords& entry)> visit) {
  std::string key;  // of the entry being gathered; empty before the first
  EntryRecords current;
  bool stopped = false;
  auto emit = [&] {
    if (!key.empty()) {
      stopped = !visit(current);
    }
  };
  auto scanned = database.for_each(
      Family::meta, prefix,
      [&](std::string_view record_key, std::string_view value) {
        if (record_key.empty()) {
          return true;
        }
        const std::string_view entry_key = record_key.substr(0, record_key.size() - 1);
        if (entry_key != key) {
          const auto parts = parse_key(entry_key);
          if (!parts) {
            return true;
          }
          emit();
          if (stopped) {
            return false;
          }
          key.assign(entry_key);
          current = EntryRecords{};
          current.key = key;
          current.parts = *parts;
          current.parts.name = current.key.substr(0, parts->name.size());  // into `key`, which outlives the record
        }
        switch (record_key.back()) {
          case k_info_tag:
            if (auto meta = decode_meta(value)) {
              current.meta = *meta;
              current.has_info = true;
            }
            break;
          case k_access_tag:
            current.last_access_ms = decode_access(value).value_or(0);
            break;
          case k_hits_tag:
            current.hits = decode_counter(value);
            break;
          case k_inputs_tag:
            current.inputs.assign(value);
            break;
          default:
            break;
        }
        return true;
      },
      at);
  if (!scanned) {
    return scanned;
  }
  if (!stopped) {
    emit();
  }
  return {};
}

}  // namespace memostore::detail
