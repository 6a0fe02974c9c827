#pragma once
// Shared-secret authentication of bridge peers (no CAF here): an HMAC-SHA256 challenge-response
// in both directions, with OpenSSL's libcrypto. Each side sends a fresh random nonce and proves
// it knows the secret by returning HMAC(secret, role | nonce | names); the secret itself never
// crosses the wire, and a recorded answer is useless against a new nonce.
#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::actors {

// The secret from --secret-file: the file's bytes without trailing newlines. Refuses an empty
// file, and a file that other users may read (the secret would not be secret).
runtime::result<std::string> read_secret_file(const std::filesystem::path& file);

// 16 random bytes from the OS CSPRNG, hex encoded.
std::string make_nonce();

// Hex HMAC-SHA256 over "sluice-bridge/1|<role>|<nonce>|<prover>|<verifier>".
std::string auth_proof(std::string_view secret, std::string_view role, std::string_view nonce,
                       std::string_view prover, std::string_view verifier);

// Constant-time comparison of a received proof with the expected one.
bool proof_matches(std::string_view expected, std::string_view received) noexcept;

}  // namespace sluice::actors
