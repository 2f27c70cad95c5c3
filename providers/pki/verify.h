// Chain building and verification (X509_verify_cert) with a structured result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/pki/certificate.h"
#include "providers/pki/crl.h"

namespace edgecert::pki {

struct VerifyOptions {
  // Verification time; the current time when unset.
  std::optional<TimePoint> at;
  // The leaf must match this FQDN (SAN DNS, or CN without SANs).
  std::optional<std::string> hostname;
  // CRLs to consult; with check_crls the leaf's issuer must have a CRL here
  // (and every CA's issuer too with check_crls_whole_chain).
  std::vector<Crl> crls;
  bool check_crls = false;
  bool check_crls_whole_chain = false;
  // Require the TLS server purpose (EKU serverAuth when EKU is present).
  bool server_purpose = false;
};

struct VerifyResult {
  bool ok = false;
  int error_code = 0;      // X509_V_OK (0) or an X509_V_ERR_* value
  std::string error_name;  // "X509_V_ERR_CERT_HAS_EXPIRED"; "X509_V_OK" when ok
  std::string message;     // OpenSSL's text for the code
  int depth = 0;           // depth of the failing certificate (0 = leaf)
  // The chain that was built, leaf first (SHA-256 fingerprints and subjects).
  // On failure, as far as OpenSSL got.
  std::vector<std::string> chain_fingerprints;
  std::vector<std::string> chain_subjects;
};

// Verifies `leaf` against `anchors` (trusted roots or intermediates; partial
// chains to a trusted intermediate are accepted), using `intermediates` as
// untrusted chain material.
VerifyResult verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                          const std::vector<Certificate>& anchors,
                          const VerifyOptions& options = {});

// "X509_V_ERR_CERT_HAS_EXPIRED" for a verify error code.
std::string verify_error_name(int code);

}  // namespace edgecert::pki
