// Signing entries with a secret (StoreOptions::secret, MEMOSTORE_SECRET):
// HMAC-SHA256 from OpenSSL's libcrypto over the entry's key and its envelope,
// so an entry written without the secret, with another one, or copied under
// another key is recognised and never returned. The secret itself is kept only
// inside OpenSSL's keyed context; it is never logged or copied elsewhere.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "util/result.hpp"

// OpenSSL's types, declared here so that only entry_signer.cpp includes OpenSSL.
struct evp_mac_st;
struct evp_mac_ctx_st;

namespace memostore::detail {

inline constexpr std::size_t k_signature_size = 32;  // HMAC-SHA256
using Signature = std::array<unsigned char, k_signature_size>;

class EntrySigner {
 public:
  /// A signer keyed with `secret` (not empty). Fails only if OpenSSL cannot
  /// provide HMAC-SHA256 (a broken installation).
  static Result<std::unique_ptr<const EntrySigner>> create(std::string_view secret);

  ~EntrySigner();
  EntrySigner(const EntrySigner&) = delete;
  EntrySigner& operator=(const EntrySigner&) = delete;

  /// The signature of `signed_bytes` stored under `key`; nullopt only if
  /// OpenSSL fails (out of memory). Thread-safe.
  std::optional<Signature> sign(std::string_view key, std::string_view signed_bytes) const;

  /// True if `signature` is the signature of `signed_bytes` under `key`
  /// (compared in constant time). Thread-safe.
  bool verify(std::string_view key, std::string_view signed_bytes, std::string_view signature) const;

  /// True if both were keyed with the same secret.
  bool same_secret(const EntrySigner& other) const;

 private:
  class Lease;

  EntrySigner(evp_mac_st* mac, evp_mac_ctx_st* keyed) noexcept : m_mac(mac), m_keyed(keyed) {}

  evp_mac_st* m_mac;
  evp_mac_ctx_st* m_keyed;  // keyed once; signatures work on copies of it
  // Copies ready for reuse: copying the keyed context costs more than the
  // signature of a small entry (about 300 of 600 ns).
  mutable std::mutex m_spare_mutex;
  mutable std::vector<evp_mac_ctx_st*> m_spare;  // guarded by m_spare_mutex
};

}  // namespace memostore::detail
