// The HMAC challenge-response pieces of `sluice bridge --secret-file`.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "actors/bridge/auth.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::actors;

TEST_CASE("a proof depends on the secret, the role, the nonce and both names") {
  const auto base = auth_proof("s3cret", "client", "n1", "west", "east");
  CHECK(base.size() == 64);  // hex SHA-256
  CHECK(base == auth_proof("s3cret", "client", "n1", "west", "east"));
  CHECK(base != auth_proof("other", "client", "n1", "west", "east"));
  CHECK(base != auth_proof("s3cret", "server", "n1", "west", "east"));
  CHECK(base != auth_proof("s3cret", "client", "n2", "west", "east"));
  CHECK(base != auth_proof("s3cret", "client", "n1", "east", "west"));
}

TEST_CASE("a proof matches only the identical expected proof, and never an empty one") {
  const auto p = auth_proof("k", "server", "n", "a", "b");
  CHECK(proof_matches(p, p));
  CHECK_FALSE(proof_matches(p, p.substr(1)));
  CHECK_FALSE(proof_matches(p, std::string(p.size(), '0')));
  CHECK_FALSE(proof_matches("", ""));
}

TEST_CASE("nonces are fresh 128-bit values") {
  const auto a = make_nonce();
  CHECK(a.size() == 32);
  CHECK(a != make_nonce());
}

TEST_CASE(
    "a secret file must be private and not empty, and its trailing newline is not part of it") {
  sluice::test::temp_dir dir;
  const auto f = dir.path() / "secret";
  std::ofstream(f) << "hunter2\n";
  ::chmod(f.c_str(), 0600);
  auto s = read_secret_file(f);
  REQUIRE(s);
  CHECK(s.value() == "hunter2");
  ::chmod(f.c_str(), 0644);
  auto open = read_secret_file(f);
  REQUIRE_FALSE(open);
  CHECK(open.err().message.find("chmod 600") != std::string::npos);
  std::ofstream(f, std::ios::trunc) << "\n";
  ::chmod(f.c_str(), 0600);
  CHECK_FALSE(read_secret_file(f));
  CHECK_FALSE(read_secret_file(dir.path() / "missing"));
}
