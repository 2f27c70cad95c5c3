// A minimal certificate authority for tests, the simulator and the
// openssl-ca issuer: self-signed / intermediate CA certificates and signing of
// server CSRs. Not a general-purpose CA: it issues exactly the two profiles
// edgecert needs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

struct IssueOptions {
  TimePoint not_before;
  TimePoint not_after;
  std::string serial_hex = "01";  // hex, positive
  Digest digest = Digest::kSha256;
  // Copied verbatim: the leaf's EKU (Let's Encrypt since 2026-02-11 would be
  // {"serverAuth"} only).
  std::vector<std::string> extended_key_usage = {"serverAuth", "clientAuth"};
  bool copy_requested_sans = true;
  std::vector<std::string> crl_distribution_points;  // URIs
  std::string ocsp_url;                              // "" = no AIA
};

// Issues a server certificate for `csr`: subject from the request, requested
// SANs copied, BasicConstraints CA:FALSE, keyUsage digitalSignature +
// keyEncipherment, the given EKU, SKI and AKI. Fails when the CSR's signature
// does not verify.
Result<Certificate> sign_csr(const CertificateRequest& csr, const Certificate& ca_cert,
                             const PrivateKey& ca_key, const IssueOptions& options);

struct CaOptions {
  std::string common_name;
  SubjectFields subject;
  TimePoint not_before;
  TimePoint not_after;
  std::string serial_hex = "01";
  Digest digest = Digest::kSha256;
  std::optional<int> path_length;
};

// A self-signed root: BasicConstraints critical CA:TRUE, keyUsage critical
// keyCertSign + cRLSign, SKI, AKI.
Result<Certificate> create_self_signed_ca(const PrivateKey& key, const CaOptions& options);
// The same profile, signed by another CA (an intermediate).
Result<Certificate> create_intermediate_ca(const PrivateKey& key, const CaOptions& options,
                                           const Certificate& issuer, const PrivateKey& issuer_key);

}  // namespace edgecert::pki
