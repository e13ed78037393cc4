#include "codec/entry_signer.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <fmt/format.h>

#include "util/endian.hpp"

namespace memostore::detail {
namespace {

// Separates our signatures from any other use of the same secret, and frames
// the key so that no (key, bytes) pair can be re-split into another.
constexpr std::string_view k_domain{"memostore entry signature 1\0", 28};

struct ContextDeleter {
  void operator()(EVP_MAC_CTX* context) const noexcept { EVP_MAC_CTX_free(context); }
};
using Context = std::unique_ptr<EVP_MAC_CTX, ContextDeleter>;

// More spare contexts than threads that sign at once would only hold memory.
constexpr std::size_t k_max_spare = 8;

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) {
    ERR_error_string_n(code, text, sizeof text);
  }
  return text;
}

bool update(EVP_MAC_CTX* context, std::string_view bytes) {
  return EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
}

}  // namespace

/// A keyed context for one signature, taken from the spares (or copied from
/// the keyed one) and given back afterwards.
class EntrySigner::Lease {
 public:
  explicit Lease(const EntrySigner& signer) : m_signer(signer) {
    {
      std::lock_guard lock(signer.m_spare_mutex);
      if (!signer.m_spare.empty()) {
        m_context.reset(signer.m_spare.back());
        signer.m_spare.pop_back();
      }
    }
    if (!m_context) {
      m_context.reset(EVP_MAC_CTX_dup(signer.m_keyed));
    }
    // Without a key, HMAC starts over with the key it has.
    if (m_context && EVP_MAC_init(m_context.get(), nullptr, 0, nullptr) != 1) {
      m_context.reset();
    }
  }

  ~Lease() {
    if (!m_context) {
      return;
    }
    std::lock_guard lock(m_signer.m_spare_mutex);
    if (m_signer.m_spare.size() < k_max_spare) {
      m_signer.m_spare.push_back(m_context.release());
    }
  }

  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  /// Null if OpenSSL could not provide one.
  EVP_MAC_CTX* get() const noexcept { return m_context.get(); }
  /// Not given back: after a failure its state is unknown.
  void discard() noexcept { m_context.reset(); }

 private:
  const EntrySigner& m_signer;
  Context m_context;
};

Result<std::unique_ptr<const EntrySigner>> EntrySigner::create(std::string_view secret) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) {
    return Failure{ErrorCode::config,
                   fmt::format("OpenSSL provides no HMAC ({}); check the libssl3 installation", openssl_error())};
  }
  Context keyed(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!keyed ||
      EVP_MAC_init(keyed.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1) {
    const std::string cause = openssl_error();
    EVP_MAC_free(mac);
    return Failure{ErrorCode::config,
                   fmt::format("OpenSSL cannot set up HMAC-SHA256 ({}); check the libssl3 installation", cause)};
  }
  return std::unique_ptr<const EntrySigner>(new EntrySigner(mac, keyed.release()));
}

EntrySigner::~EntrySigner() {
  for (EVP_MAC_CTX* spare : m_spare) {
    EVP_MAC_CTX_free(spare);
  }
  EVP_MAC_CTX_free(m_keyed);
  EVP_MAC_free(m_mac);
}

std::optional<Signature> EntrySigner::sign(std::string_view key, std::string_view signed_bytes) const {
  Lease context(*this);
  char key_size[4];
  put_u32le(key_size, static_cast<std::uint32_t>(key.size()));
  Signature signature{};
  std::size_t written = 0;
  EVP_MAC_CTX* c = context.get();
  if (c == nullptr || !update(c, k_domain) || !update(c, {key_size, sizeof key_size}) || !update(c, key) ||
      !update(c, signed_bytes) || EVP_MAC_final(c, signature.data(), &written, signature.size()) != 1 ||
      written != signature.size()) {
    context.discard();
    ERR_clear_error();
    return std::nullopt;
  }
  return signature;
}

bool EntrySigner::verify(std::string_view key, std::string_view signed_bytes, std::string_view signature) const {
  if (signature.size() != k_signature_size) {
    return false;
  }
  const auto expected = sign(key, signed_bytes);
  return expected && CRYPTO_memcmp(expected->data(), signature.data(), k_signature_size) == 0;
}

bool EntrySigner::same_secret(const EntrySigner& other) const {
  const auto mine = sign("", "same secret?");
  const auto theirs = other.sign("", "same secret?");
  return mine && theirs && *mine == *theirs;
}

}  // namespace memostore::detail
