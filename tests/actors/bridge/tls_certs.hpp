#pragma once
// Certificates for TLS tests, made by the openssl command (Debian's openssl package) in a
// test's own directory: a CA, and certificates it signed. A test that finds no openssl
// command is skipped, not passed.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/skip.hpp"

namespace sluice::test {

inline const char* openssl_exe() {
  for (const char* p : {"/usr/bin/openssl", "/bin/openssl", "/usr/local/bin/openssl"})
    if (::access(p, X_OK) == 0) return p;
  return nullptr;
}

class cert_dir {
 public:
  explicit cert_dir(std::filesystem::path dir) : dir_(std::move(dir)) {
    if (openssl_exe() == nullptr) SLUICE_SKIP("no openssl command (apt-get install openssl)");
    std::filesystem::create_directories(dir_);
  }

  // A self-signed CA: <name>.pem and <name>.key.
  void make_ca(const std::string& name) {
    run({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key(name), "-out", cert(name), "-subj", "/CN=" + name, "-days", "2"});
  }
  // <name>.pem signed by `ca`, and <name>.key (mode 0600).
  void make_cert(const std::string& name, const std::string& ca) {
    const auto csr = (dir_ / (name + ".csr")).string();
    run({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         key(name), "-out", csr, "-subj", "/CN=" + name});
    run({"x509", "-req", "-in", csr, "-CA", cert(ca), "-CAkey", key(ca), "-CAcreateserial", "-out",
         cert(name), "-days", "2"});
    ::chmod(key(name).c_str(), 0600);
  }

  std::string cert(const std::string& name) const { return (dir_ / (name + ".pem")).string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }

  // The bridge flags for `name`'s certificate, trusting `ca`.
  std::vector<std::string> flags(const std::string& name, const std::string& ca) const {
    return {"--tls-cert", cert(name), "--tls-key", key(name), "--tls-ca", cert(ca)};
  }

 private:
  void run(std::vector<std::string> args) {
    args.insert(args.begin(), openssl_exe());
    process p({args, {{"PATH", "/usr/bin:/bin"}, {"HOME", dir_.string()}}});
    const auto r = p.finish({}, std::chrono::seconds(30));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }

  std::filesystem::path dir_;
};

}  // namespace sluice::test
