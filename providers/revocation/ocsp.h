// Asking a certificate's OCSP responder (RFC 6960) through OpenSSL's OCSP
// API, over an http::Transport (POST application/ocsp-request). The request
// identifies the certificate with a SHA-256 CertID (the guide requires
// responders that support SHA-256); the answer must be signed by the issuer
// or by a responder certificate the issuer signed for OCSP signing.
#pragma once

#include <optional>
#include <string>

#include "providers/base/error.h"
#include "providers/base/time.h"
#include "providers/http/http_client.h"
#include "providers/pki/certificate.h"

namespace edgecert::revocation {

enum class OcspStatus { kGood, kRevoked, kUnknown };
const char* to_string(OcspStatus s);  // "good", "revoked", "unknown"

struct OcspAnswer {
  OcspStatus status = OcspStatus::kUnknown;
  std::optional<TimePoint> revoked_at;
  std::string reason;  // RFC 5280 spelling ("keyCompromise"), "" when not given
  TimePoint this_update{};
  std::optional<TimePoint> next_update;
  std::string responder_url;
};

// Errors start with the URL: kUnavailable (no answer, HTTP error), or
// kInvalidArgument (not an OCSP response, responder status not successful,
// signature does not verify, no answer for this certificate, stale answer).
Result<OcspAnswer> query_ocsp(const pki::Certificate& certificate, const pki::Certificate& issuer,
                              const std::string& url, http::Transport& transport, TimePoint now);

}  // namespace edgecert::revocation
