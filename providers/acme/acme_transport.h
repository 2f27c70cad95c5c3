// The HTTP(S) transport under the ACME client.
//
// Why not rest::HttpTransport: ACME needs response headers (Replay-Nonce,
// Location, Link, Retry-After) and absolute URLs taken from the directory,
// neither of which that interface carries.
//
// Contract: perform() returns a response for every HTTP status; it fails only
// when no complete response arrived (kUnavailable; kPermission when the
// server's certificate does not verify). Messages never contain request
// bodies (they carry signed JWS, possibly EAB material).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "providers/base/error.h"

namespace edgecert::acme {

struct AcmeHttpRequest {
  std::string method;  // "GET", "HEAD", "POST"
  std::string url;     // absolute https URL
  std::string body;
  std::string content_type;  // "application/jose+json" for POST
  std::string accept;        // Accept header; "" = none
};

struct AcmeHttpResponse {
  long status = 0;
  std::string body;
  // Header names lower-cased, in arrival order (Link may repeat).
  std::vector<std::pair<std::string, std::string>> headers;

  // First value of a header (name case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
  std::vector<std::string> header_all(std::string_view name) const;
};

class AcmeTransport {
 public:
  virtual ~AcmeTransport() = default;
  virtual Result<AcmeHttpResponse> perform(const AcmeHttpRequest& request) = 0;
};

struct AcmeCurlOptions {
  std::optional<std::string> ca_bundle;  // PEM file; unset = system store
  // PEM text of the only CAs to trust (neither the system store nor a file):
  // a simulated appliance trusts exactly its trusted CA list. Wins over
  // ca_bundle.
  std::optional<std::string> ca_pem;
  // Added to a TLS verification failure, e.g. where the trust comes from.
  std::string tls_failure_hint;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{60};
  std::string user_agent = "edgecert-acme";
};

// Plain http:// is allowed only for loopback hosts (local test servers, as
// the spec's directory rule allows); everything else must be https://.
bool acme_url_allows_plain_http(const std::string& url);

// libcurl transport: one easy handle reused for every request (keep-alive).
// Replaying a POST on a dropped keep-alive connection is harmless in ACME:
// every POST carries a single-use nonce, so a duplicate is rejected.
Result<std::unique_ptr<AcmeTransport>> make_acme_curl_transport(AcmeCurlOptions options);

}  // namespace edgecert::acme
