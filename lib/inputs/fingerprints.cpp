#include "inputs/fingerprints.hpp"

#include <algorithm>
#include <optional>

#include <fmt/std.h>

#include "inputs/content_hash.hpp"
#include "inputs/tree.hpp"
#include "policy/expiry.hpp"
#include "util/endian.hpp"
#include "util/log.hpp"
#include "util/stream_hash.hpp"

namespace memostore::detail {

namespace fs = std::filesystem;

Fingerprints::Fingerprints(Database* database, const EntrySigner* signer, std::shared_ptr<const Clock> clock,
                           bool always_hash)
    : m_database(database),
      m_writable(database != nullptr && !database->read_only()),
      m_signer(signer),
      m_clock(std::move(clock)),
      m_always_hash(always_hash) {}

bool Fingerprints::trusts_identity() const noexcept { return !m_always_hash && m_database != nullptr; }

std::optional<FileRecord> Fingerprints::read_record(std::string_view key, std::string_view bytes) const {
  if (bytes.size() == k_file_record_size + k_signature_size) {
    const std::string_view record = bytes.substr(0, k_file_record_size);
    if (m_signer != nullptr && !m_signer->verify(key, record, bytes.substr(k_file_record_size))) {
      return std::nullopt;
    }
    return decode_file_record(record);
  }
  return m_signer == nullptr ? decode_file_record(bytes) : std::nullopt;
}

std::string Fingerprints::record_bytes(std::string_view key, const FileRecord& record) const {
  std::string bytes = encode_file_record(record);
  if (m_signer != nullptr) {
    const auto signature = m_signer->sign(key, bytes);
    if (!signature) {
      return {};  // OpenSSL failed: not remembered
    }
    bytes.append(reinterpret_cast<const char*>(signature->data()), signature->size());
  }
  return bytes;
}

Result<Hash128> Fingerprints::file(const fs::path& path, LearntFiles& learnt) {
  std::optional<FileRecord> known;
  if (trusts_identity()) {
    const std::string key = file_record_key(path.native());
    (void)m_database->get(Family::store, key, [&](std::string_view bytes) { known = read_record(key, bytes); });
  }
  return file(path, known, learnt);
}

Result<Hash128> Fingerprints::file(const fs::path& path, const std::optional<FileRecord>& known, LearntFiles& learnt) {
  if (known && trusts_identity()) {
    auto identity = stat_file(path);
    if (!identity) {
      return identity.failure();
    }
    if (known->identity == identity.value()) {
      m_files_checked.fetch_add(1, std::memory_order_relaxed);
      return known->hash;
    }
  }
  auto hashed = hash_file(path);
  if (!hashed) {
    return hashed.failure();
  }
  m_files_hashed.fetch_add(1, std::memory_order_relaxed);
  m_bytes_hashed.fetch_add(hashed->identity.size, std::memory_order_relaxed);
  const FileIdentity& id = hashed->identity;
  const std::int64_t settled_before_ns =
      (unix_ms(m_clock->now()) - std::chrono::milliseconds(k_racy_window).count()) * 1'000'000;
  if (m_writable && hashed->unchanged && std::max(id.mtime_ns, id.ctime_ns) < settled_before_ns) {
    std::string key = file_record_key(path.native());
    if (std::string bytes = record_bytes(key, FileRecord{id, hashed->hash}); !bytes.empty()) {
      learnt.emplace_back(std::move(key), std::move(bytes));
    }
  }
  return hashed->hash;
}

Result<Hash128> Fingerprints::dir(const fs::path& path, const std::string& pattern, LearntFiles& learnt) {
  auto files = list_tree(path, pattern);
  if (!files) {
    return files.failure();
  }
  // The remembered hashes of the files below `path` share a key prefix: one
  // scan reads them all, in the listing's order (bytewise on the same prefix).
  std::vector<std::pair<std::string, FileRecord>> known;
  const std::string prefix = file_record_key((path / "").native());
  if (trusts_identity()) {
    (void)m_database->for_each(Family::store, prefix, [&](std::string_view key, std::string_view bytes) {
      if (auto record = read_record(key, bytes)) {
        known.emplace_back(key.substr(prefix.size()), *record);
      }
      return true;
    });
  }
  auto next_known = known.begin();
  const HashState state = new_hash_state(HashWidth::bits128);
  for (const TreeFile& file : files.value()) {
    while (next_known != known.end() && next_known->first < file.relative) {
      ++next_known;  // a file that is gone
    }
    const bool found = next_known != known.end() && next_known->first == file.relative;
    auto hash = this->file(file.path, found ? std::optional(next_known->second) : std::nullopt, learnt);
    if (!hash) {
      return hash.failure();
    }
    char fixed[4 + 16];
    put_u32le(fixed, static_cast<std::uint32_t>(file.relative.size()));
    put_u64le(fixed + 4, hash->high);
    put_u64le(fixed + 12, hash->low);
    XXH3_128bits_update(state.get(), fixed, 4);
    XXH3_128bits_update(state.get(), file.relative.data(), file.relative.size());
    XXH3_128bits_update(state.get(), fixed + 4, 16);
  }
  const XXH128_hash_t digest = XXH3_128bits_digest(state.get());
  return Hash128{digest.low64, digest.high64};
}

void Fingerprints::remember(LearntFiles& learnt) {
  if (!m_writable || learnt.empty()) {
    return;
  }
  Batch batch(*m_database);
  for (const auto& [key, value] : learnt) {
    batch.put(Family::store, key, value);
  }
  if (auto written = m_database->write(batch); !written) {
    log(LogLevel::debug, "cannot remember input file hashes in {}: {}", m_database->dir(), written.failure().message);
  }
  learnt.clear();
}

Result<std::uint64_t> Fingerprints::forget_stale() {
  if (!m_writable) {
    return std::uint64_t{0};
  }
  Batch batch(*m_database);
  std::uint64_t stale = 0;
  auto scanned = m_database->for_each(Family::store, k_file_record_prefix, [&](std::string_view key,
                                                                                std::string_view bytes) {
    const auto record = read_record(key, bytes);
    auto identity = stat_file(fs::path(std::string(key.substr(k_file_record_prefix.size()))));
    if (!record || !identity || !(record->identity == identity.value())) {
      batch.remove(Family::store, key);
      stale += 1;
    }
    return true;
  });
  if (!scanned) {
    return scanned.failure();
  }
  if (auto written = m_database->write(batch); !written) {
    return written.failure();
  }
  return stale;
}

InputStats Fingerprints::stats() const noexcept {
  return InputStats{m_files_checked.load(std::memory_order_relaxed), m_files_hashed.load(std::memory_order_relaxed),
                    m_bytes_hashed.load(std::memory_order_relaxed)};
}

}  // namespace memostore::detail
