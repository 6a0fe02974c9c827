#include "actors/bridge/tls_files.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

namespace sluice::actors {

namespace {

std::string openssl_reason() {
  std::string why;
  while (const unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    if (!why.empty()) why += "; ";
    why += r != nullptr ? r : "unknown OpenSSL error";
  }
  return why.empty() ? std::string("not usable") : why;
}

runtime::error bad(const char* flag, const std::filesystem::path& f, const std::string& why) {
  return runtime::error{runtime::errc::invalid_argument,
                        std::string(flag) + " " + f.string() + ": " + why};
}

std::optional<runtime::error> readable(const char* flag, const std::filesystem::path& f) {
  struct stat st {};
  if (::stat(f.c_str(), &st) != 0)
    return runtime::error{runtime::errc::not_found,
                          std::string(flag) + " " + f.string() + ": no such file"};
  if (!S_ISREG(st.st_mode)) return bad(flag, f, "not a regular file");
  if (::access(f.c_str(), R_OK) != 0)
    return runtime::error{runtime::errc::permission_denied,
                          std::string(flag) + " " + f.string() + ": cannot read it"};
  return std::nullopt;
}

}  // namespace

runtime::status check_tls_files(const tls_files& f) {
  if (!f.any()) return runtime::done{};
  if (f.cert.empty() || f.key.empty() || f.ca.empty())
    return runtime::error{runtime::errc::invalid_argument,
                          "TLS needs all three of --tls-cert, --tls-key and --tls-ca"};
  for (const auto& [flag, file] : {std::pair{"--tls-cert", &f.cert}, std::pair{"--tls-key", &f.key},
                                   std::pair{"--tls-ca", &f.ca}})
    if (auto e = readable(flag, *file)) return *e;
  struct stat st {};
  if (::stat(f.key.c_str(), &st) == 0 && (st.st_mode & 0077) != 0)
    return runtime::error{
        runtime::errc::permission_denied,
        "--tls-key " + f.key.string() + ": other users may read it; chmod 600 " + f.key.string()};
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()), SSL_CTX_free);
  if (!ctx) return runtime::error{runtime::errc::io_error, "OpenSSL: cannot create a TLS context"};
  // The key first: loading a certificate beside a key that does not match it drops the key,
  // which check_private_key then reports as the mismatch it is.
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), f.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return bad("--tls-key", f.key, "not an unencrypted PEM private key: " + openssl_reason());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), f.cert.c_str()) != 1)
    return bad("--tls-cert", f.cert, "not a PEM certificate: " + openssl_reason());
  ERR_clear_error();
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return bad("--tls-key", f.key, "does not belong to --tls-cert " + f.cert.string());
  if (SSL_CTX_load_verify_locations(ctx.get(), f.ca.c_str(), nullptr) != 1)
    return bad("--tls-ca", f.ca, "no PEM CA certificate in it: " + openssl_reason());
  return runtime::done{};
}

}  // namespace sluice::actors
