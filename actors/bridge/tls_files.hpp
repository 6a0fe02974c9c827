#pragma once
// The certificate, private key and CA a bridge uses for TLS (--tls-cert, --tls-key, --tls-ca),
// checked before the actor system starts (no CAF here). CAF's OpenSSL module loads them again
// for every connection and throws from its I/O thread when one is unusable, so a mistake must
// be caught here, with one line saying which file and why.
#include <filesystem>

#include "runtime/result.hpp"

namespace sluice::actors {

struct tls_files {
  std::filesystem::path cert;  // PEM, this bridge's certificate (chain)
  std::filesystem::path key;   // PEM, its private key, unencrypted, mode 0600
  std::filesystem::path ca;    // PEM, the CA(s) a peer's certificate must be signed by

  [[nodiscard]] bool any() const noexcept { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// All three or none; each readable; the key private to its owner and matching the
// certificate; the CA file holds at least one certificate. Errors: invalid_argument (a flag
// missing, a file that is not what it should be), not_found, permission_denied.
runtime::status check_tls_files(const tls_files& f);

}  // namespace sluice::actors
