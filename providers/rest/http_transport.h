// The HTTP(S) transport under the REST node provider: one interface so tests
// can fake the network, one libcurl implementation for real nodes.
//
// Contract:
// - perform() returns a response for every HTTP status (the caller maps
//   statuses); it fails only when no complete response arrived, with
//   kUnavailable for connection-level problems (refused, reset, closed without
//   a reply, timeout) and kPermission when the server's TLS certificate does
//   not verify. Such messages start with a short reason ("connection
//   dropped", "cannot connect", "TLS verification failed") and never contain
//   the password or a request body.
// - Verification of the server certificate is on unless the transport was
//   built with insecure = true; there is no silent fallback.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "providers/base/error.h"
#include "providers/pki/key.h"

namespace edgecert::rest {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // "/api/provisioning/certs/server"
  std::vector<std::pair<std::string, std::string>> headers;
  // The body; may hold a private key (manual upload), so it is a view onto a
  // buffer the caller wipes, and the transport never copies it into messages.
  std::string_view body;
  std::string content_type;
  // Open a new connection (a real TLS handshake) and report the peer's chain.
  bool capture_peer_chain = false;
  // Overrides the transport's total timeout for this request when set.
  std::optional<std::chrono::milliseconds> timeout;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  // PEM certificates the server presented (leaf first); filled only when
  // HttpRequest::capture_peer_chain was set.
  std::vector<std::string> peer_chain;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> perform(const HttpRequest& request) = 0;
};

struct CurlTransportOptions {
  std::string host;  // where to connect (endpoint host or IP)
  int port = 443;
  // The name the server certificate must carry (the peer FQDN); requests go
  // to https://<server_name>:<port> and are routed to host:port.
  std::string server_name;
  std::optional<std::string> ca_bundle;  // PEM file; unset = system store
  bool insecure = false;                 // skip server certificate verification
  std::string username;
  pki::SecretString password;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{60};
};

// libcurl transport: one easy handle, reused (keep-alive) for every request.
Result<std::unique_ptr<HttpTransport>> make_curl_transport(CurlTransportOptions options);

}  // namespace edgecert::rest
