// Reading what a store holds: listings, single entries and totals.
#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <memostore/shared.hpp>

#include "admin/access.hpp"
#include "codec/arguments_digest.hpp"
#include "codec/entry_check.hpp"
#include "codec/key.hpp"
#include "codec/meta.hpp"
#include "util/hex.hpp"

namespace memostore {

namespace {

/// The key prefix `filter` selects.
std::string prefix_of(const EntryFilter& filter) {
  if (filter.version && filter.function.empty()) {
    throw Error(ErrorCode::usage, "an entry filter with a version needs a function name");
  }
  if (filter.function.empty()) {
    return {};
  }
  detail::value_or_throw(detail::check_function_name(filter.function));
  return filter.version ? detail::version_prefix(filter.function, *filter.version)
                        : detail::function_prefix(filter.function);
}

/// True if `inner` is `outer` or lies within it (both absolute and normal;
/// a trailing separator does not count).
bool within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto outer_end = outer.end();
  if (outer_end != outer.begin() && std::prev(outer_end)->empty()) {
    --outer_end;  // "/data/" ends in an empty component
  }
  return std::mismatch(outer.begin(), outer_end, inner.begin(), inner.end()).first == outer_end;
}

/// True if `entry` was computed from `input` (absolute, normal): a recorded
/// file or directory that is `input`, lies within it, or contains it.
bool computed_from(const EntrySummary& entry, const std::filesystem::path& input) {
  return std::any_of(entry.inputs.begin(), entry.inputs.end(), [&](const EntryInput& recorded) {
    const std::filesystem::path path(recorded.path);
    return within(path, input) || (recorded.directory && within(input, path));
  });
}

/// Each function's recorded refresh_after (MemoOptions::refresh_after), read
/// once per function of a listing.
class RefreshAfters {
 public:
  explicit RefreshAfters(const detail::Database& database) : m_database(database) {}

  std::optional<std::chrono::milliseconds> of(std::string_view function) {
    auto found = m_known.find(function);
    if (found == m_known.end()) {
      std::optional<std::chrono::milliseconds> value;
      detail::value_or_throw(m_database.get(detail::Family::stats, detail::refresh_after_key(function),
                                            [&value](std::string_view bytes) {
                                              value = std::chrono::milliseconds(detail::decode_counter(bytes));
                                            }));
      found = m_known.emplace(std::string(function), value).first;
    }
    return found->second;
  }

 private:
  const detail::Database& m_database;
  std::map<std::string, std::optional<std::chrono::milliseconds>, std::less<>> m_known;
};

}  // namespace

void for_each_entry(const Store& store, const EntryFilter& filter,
                    const std::function<bool(const EntrySummary& entry)>& visit) {
  const detail::Database& database = detail::database_of(store, "list the entries of");
  const std::string prefix = prefix_of(filter);
  const std::filesystem::path input =
      filter.input.empty() ? std::filesystem::path() : std::filesystem::absolute(filter.input).lexically_normal();
  RefreshAfters refresh_afters(database);
  detail::value_or_throw(detail::for_each_entry_records(database, prefix, nullptr, [&](const auto& records) {
    if (!records.has_info) {
      return true;
    }
    EntrySummary entry = detail::summarize(records);
    entry.refresh_after = refresh_afters.of(entry.function);
    return (!input.empty() && !computed_from(entry, input)) || visit(entry);
  }));
}

std::vector<EntrySummary> find_entries(const Store& store, std::string_view hex_prefix, const std::string& function) {
  const bool is_hex = std::all_of(hex_prefix.begin(), hex_prefix.end(),
                                  [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  if (hex_prefix.empty() || hex_prefix.size() > 2 * detail::k_key_hash_size || !is_hex) {
    throw Error(ErrorCode::usage, fmt::format("\"{}\" is not an entry key: give 1 to 32 hex digits of the hash "
                                              "that `memostore ls` prints",
                                              hex_prefix));
  }
  std::string wanted(hex_prefix);
  std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  std::vector<EntrySummary> found;
  for_each_entry(store, EntryFilter{.function = function}, [&](const EntrySummary& entry) {
    if (entry.hash.starts_with(wanted)) {
      found.push_back(entry);
    }
    return true;
  });
  return found;
}

std::optional<EntryDetail> read_entry(const Store& store, const EntrySummary& entry) {
  const detail::Database& database = detail::database_of(store, "read an entry of");
  std::optional<EntryDetail> detail;
  detail::value_or_throw(database.get(detail::Family::entries, entry.key, [&](std::string_view bytes) {
    detail.emplace();
    detail->summary = entry;
    auto checked = detail::check_entry(entry.key, bytes, detail::core_of(store)->signer());
    if (!checked) {
      detail->problem = checked.failure().message;
      return;
    }
    const detail::EntryView& view = checked->envelope;
    constexpr std::size_t k_preview_bytes = 256;
    if (view.arguments_digest) {
      detail->arguments_size = detail::digested_size(view.arguments);
      detail->arguments_sha256 = detail::to_hex(view.arguments.substr(8));
    } else {
      detail->arguments = std::string(view.arguments);
      detail->arguments_size = view.arguments.size();
    }
    detail->value_size = view.payload.size();
    const detail::Hash128 digest = detail::result_digest(view);
    detail->digest = Digest{digest.high, digest.low}.hex();  // the one spelling of a digest
    detail->value_preview = std::string(view.payload.substr(0, k_preview_bytes));
    detail->type = fmt::format("{:016x}{:016x}", view.info.type.high, view.info.type.low);
    detail->compute_time = std::chrono::nanoseconds(view.info.compute_ns);
  }));
  return detail;
}

StoreContents contents(const Store& store) {
  const detail::Database& database = detail::database_of(store, "count the contents of");
  std::map<std::string, FunctionContents, std::less<>> functions;
  detail::value_or_throw(detail::for_each_entry_records(database, "", nullptr, [&](const auto& records) {
    if (!records.has_info) {
      return true;
    }
    auto found = functions.find(records.parts.name);
    if (found == functions.end()) {
      found = functions.emplace(std::string(records.parts.name), FunctionContents{}).first;
      found->second.name = found->first;
    }
    FunctionContents& f = found->second;
    if (f.versions.empty() || f.versions.back() != records.parts.version) {
      f.versions.push_back(records.parts.version);  // keys come in version order
    }
    f.entries += 1;
    f.bytes += records.meta.size;
    const TimePoint created = detail::time_point_of_ms(records.meta.created_ms);
    f.oldest = f.oldest ? std::min(*f.oldest, created) : created;
    f.newest = f.newest ? std::max(*f.newest, created) : created;
    return true;
  }));
  StoreContents result;
  for (auto& [name, f] : functions) {
    result.entries += f.entries;
    result.bytes += f.bytes;
    result.functions.push_back(std::move(f));
  }
  result.disk_bytes = disk_usage(store.dir());
  return result;
}

std::uint64_t disk_usage(const std::filesystem::path& dir) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code size_ec;
    if (file.is_regular_file(size_ec)) {
      const auto size = file.file_size(size_ec);
      bytes += size_ec ? 0 : size;
    }
  }
  return bytes;
}

}  // namespace memostore
