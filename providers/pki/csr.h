// Certificate signing requests: parsing, inspection and creation (OpenSSL 3).
//
// create() builds the same request an Expressway's "Generate CSR" page does:
// subject C/ST/L/O/OU/CN/emailAddress, DNS subject alternative names, EKU serverAuth +
// clientAuth, signed with SHA-256/384/512.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

class PrivateKey;

struct CsrOptions {
  std::string common_name;
  SubjectFields subject;               // empty fields are left out
  std::vector<std::string> dns_names;  // SAN DNS entries, in order
  Digest digest = Digest::kSha256;
  std::vector<std::string> extended_key_usage = {"serverAuth", "clientAuth"};
};

class CertificateRequest {
 public:
  // One request, PEM ("CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST") or DER.
  static Result<CertificateRequest> parse(std::string_view data, const std::string& source);
  static Result<CertificateRequest> create(const PrivateKey& key, const CsrOptions& options);

  CertificateRequest(const CertificateRequest& other);
  CertificateRequest& operator=(const CertificateRequest& other);
  CertificateRequest(CertificateRequest&&) noexcept;
  CertificateRequest& operator=(CertificateRequest&&) noexcept;
  ~CertificateRequest();

  std::string subject() const;  // RFC 2253
  std::string subject_cn() const;
  std::vector<NameAttribute> subject_attributes() const;
  KeyInfo key_info() const;
  std::string signature_algorithm() const;
  std::string signature_digest() const;  // "sha256"
  SubjectAltNames subject_alt_names() const;
  std::vector<std::string> extended_key_usage() const;
  std::vector<std::string> key_usage() const;
  // The request is signed by the key it carries.
  bool signature_valid() const;
  std::string to_pem() const;
  std::string to_der() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit CertificateRequest(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgecert::pki
