#include "actors/bridge/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "inbox/files/read_file.hpp"

namespace sluice::actors {

namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xF];
  }
  return out;
}

}  // namespace

runtime::result<std::string> read_secret_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return runtime::error{runtime::errc::not_found,
                          "--secret-file " + file.string() + ": cannot read it"};
  if ((st.st_mode & 0077) != 0)
    return runtime::error{
        runtime::errc::permission_denied,
        "--secret-file " + file.string() + ": other users may read it; chmod 600 " + file.string()};
  constexpr std::size_t max_secret_bytes = 64 * 1024;
  auto text = inbox::read_file(file, max_secret_bytes);
  if (text.error != 0)
    return runtime::error{
        runtime::errc::permission_denied,
        "--secret-file " + file.string() + ": cannot read it: " + std::strerror(text.error)};
  std::string secret = std::move(text.text);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty())
    return runtime::error{
        runtime::errc::invalid_argument,
        "--secret-file " + file.string() + " is empty; put a long random string in it"};
  return secret;
}

std::string make_nonce() {
  std::array<unsigned char, 16> bytes{};
  // RAND_bytes fails only when the OS entropy source is broken; a fixed nonce would make
  // answers replayable, so that is fatal rather than ignored.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) std::abort();
  return hex(bytes.data(), bytes.size());
}

std::string auth_proof(std::string_view secret, std::string_view role, std::string_view nonce,
                       std::string_view prover, std::string_view verifier) {
  std::string msg = "sluice-bridge/1|";
  msg += role;
  msg += '|';
  msg += nonce;
  msg += '|';
  msg += prover;
  msg += '|';
  msg += verifier;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
  return hex(mac.data(), len);
}

bool proof_matches(std::string_view expected, std::string_view received) noexcept {
  return !expected.empty() && expected.size() == received.size() &&
         CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

}  // namespace sluice::actors
