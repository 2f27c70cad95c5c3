// X.509 certificates: parsing and read-only inspection (OpenSSL 3, RAII).
//
// Contract: a Certificate owns its OpenSSL object; no raw X509* ever leaves
// this layer's .cpp files. Parsing detects PEM vs DER by content, keeps the
// order of a PEM bundle, and names the source and the 0-based block index in
// every error ("trust/root.pem: block 2: not a certificate: ...").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/env/env.h"
#include "providers/env/error.h"

namespace edgecert::pki {

class Certificate {
 public:
  // Every certificate in `data`: any number of PEM blocks (non-certificate
  // blocks are an error), or exactly one DER certificate. `source` names the
  // data in errors (usually a file path). Empty input is an error.
  static Result<std::vector<Certificate>> parse_all(std::string_view data,
                                                    const std::string& source);
  // Exactly one certificate (a bundle with more is an error).
  static Result<Certificate> parse_one(std::string_view data, const std::string& source);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;
  ~Certificate();

  std::string subject() const;     // one line, RFC 2253 ("CN=a,O=b")
  std::string issuer() const;      // likewise
  std::string subject_cn() const;  // "" when the subject has no CN
  std::string issuer_cn() const;
  TimePoint not_before() const;
  TimePoint not_after() const;
  // BasicConstraints extension present at all, and with CA:TRUE.
  bool has_basic_constraints() const;
  bool is_ca() const;
  // Subject == issuer and the signature verifies with its own key.
  bool is_self_signed() const;
  // SHA-256 of the DER, upper-case hex with colons ("AB:CD:...").
  std::string sha256_fingerprint() const;
  std::string to_pem() const;
  std::string to_der() const;

  // Opaque handle for pki/*.cpp internals.
  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit Certificate(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads `path` through `env` and parses every certificate in it.
Result<std::vector<Certificate>> load_certificates(Env& env, const std::string& path);

}  // namespace edgecert::pki
