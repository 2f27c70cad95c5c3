// X.509 certificates: parsing and read-only inspection (OpenSSL 3, RAII).
//
// Contract: a Certificate owns its OpenSSL object; no raw X509* ever leaves
// this layer's .cpp files. Parsing detects PEM vs DER by content, keeps the
// order of a PEM bundle, and names the source and the 0-based block index in
// every error ("trust/root.pem: block 2: not a certificate: ...").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

// Subject alternative names by type, in certificate order.
struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ip;  // textual ("192.0.2.1", "2001:db8::1")
  std::vector<std::string> email;
  std::vector<std::string> uri;
  std::vector<std::string> other;  // "othername:1.3.6.1.4.1.311.20.2.3", "DirName:..."
  bool empty() const {
    return dns.empty() && ip.empty() && email.empty() && uri.empty() && other.empty();
  }
};

// A public key's shape; never key material.
struct KeyInfo {
  std::string algorithm;  // "RSA", "EC", "ED25519", ... (OpenSSL type name)
  int bits = 0;           // RSA modulus size or EC field size
  std::string curve;      // EC only: "P-256" when NIST-named, else OpenSSL's group name
};

// One attribute of a subject or issuer name, in DER order.
struct NameAttribute {
  std::string oid;         // "2.5.4.3"
  std::string short_name;  // "CN", or the OID when OpenSSL has no name for it
  std::string value;       // UTF-8
};

// The three extended-validation jurisdiction OIDs Expressway supports
// (1.3.6.1.4.1.311.60.2.1.1/.2/.3) and the standard attributes it knows.
// Anything else in a subject or issuer breaks SSH tunnels (guide ch.1, App. A).
bool is_supported_ev_oid(std::string_view oid);

// The C, ST, L, O, OU and emailAddress values of a subject (the last of each
// when repeated); the CN and anything else are left out.
SubjectFields subject_fields_of(const std::vector<NameAttribute>& attributes);
bool is_standard_name_oid(std::string_view oid);

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

  // --- Further inspection (additions to the original contract). ---
  long version() const;            // 1 for v1 .. 3 for v3
  std::string serial_hex() const;  // upper-case hex, as `openssl x509 -serial` prints it
  std::vector<NameAttribute> subject_attributes() const;
  std::vector<NameAttribute> issuer_attributes() const;
  // Dotted OIDs in subject or issuer that are neither standard nor one of the
  // supported EV OIDs, each listed once, subject first.
  std::vector<std::string> unknown_name_oids() const;
  KeyInfo key_info() const;
  std::string signature_algorithm() const;  // "sha256WithRSAEncryption", "ecdsa-with-SHA384"
  std::string signature_digest() const;     // "sha256", "sha1", "" when none (Ed25519)
  SubjectAltNames subject_alt_names() const;
  bool has_extended_key_usage() const;                  // the extension is present
  std::vector<std::string> extended_key_usage() const;  // "serverAuth", "clientAuth", OIDs
  bool has_key_usage() const;
  std::vector<std::string> key_usage() const;  // "digitalSignature", "keyCertSign", ...
  std::optional<long> path_length() const;     // BasicConstraints pathlen, when set
  std::string subject_key_id() const;          // "AB:CD:..", "" when absent
  std::string authority_key_id() const;
  std::vector<std::string> crl_distribution_points() const;  // URIs
  std::vector<std::string> ocsp_urls() const;
  // Current time within [not_before, not_after].
  bool is_expired_at(TimePoint t) const { return t > not_after(); }
  // The certificate's signature verifies with `issuer`'s public key.
  bool is_signed_by(const Certificate& issuer) const;
  // Same DER.
  bool operator==(const Certificate& other) const;

  // Opaque handle for pki/*.cpp internals.
  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit Certificate(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads `path` through `env` and parses every certificate in it.
Result<std::vector<Certificate>> load_certificates(Env& env, const std::string& path,
                                                   const ReadLimit& limit);

}  // namespace edgecert::pki
