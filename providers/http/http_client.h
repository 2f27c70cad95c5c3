// The one HTTP(S) client of edgecert: request/response types, a Transport
// interface so tests can fake the network, and one libcurl implementation.
// Used by the REST node provider (providers/rest) and the ACME client
// (providers/acme); it knows neither.
//
// Contract of Transport::perform():
// - It returns a response for every HTTP status (the caller maps statuses)
//   and follows no redirect: a 3xx comes back as it is (ACME reads Location
//   itself; a node that redirects is an error to its caller).
// - It fails only when no complete response arrived: kUnavailable for
//   connection-level problems, kPermission when the server's TLS certificate
//   does not verify, kInvalidArgument for a target the client may not reach.
//   Messages start with a short reason ("cannot connect", "timed out",
//   "connection dropped without a reply", "TLS handshake failed", "TLS
//   verification failed", "request failed") and never contain the password
//   or a request body (a private key, a signed JWS with EAB material).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/key.h"

namespace edgecert::http {

// Every member has a default initializer, so a designated initializer
// (Request{.method = "GET", .target = url}) names only what it sets.
struct Request {
  std::string method{};  // "GET", "HEAD", "POST", "PUT", "DELETE"
  // Origin-form ("/api/provisioning/certs/server"), sent to the client's
  // ClientOptions::server_name and port over https; or absolute-form
  // ("https://acme.example/directory"), sent where it says.
  std::string target{};
  std::vector<std::pair<std::string, std::string>> headers{};
  // The body; may hold a private key (manual upload), so it is a view onto a
  // buffer the caller wipes, and the transport never copies it into messages.
  std::string_view body{};
  std::string content_type{};  // Content-Type header; "" = none
  std::string accept{};        // Accept header; "" = libcurl's "*/*"
  // Open a new connection (a real TLS handshake) and report the peer's chain.
  bool capture_peer_chain = false;
  // Overrides ClientOptions::request_timeout for this request when set.
  std::optional<std::chrono::milliseconds> timeout{};
};

struct Response {
  long status = 0;
  std::string body{};
  // Header names lower-cased, in arrival order (Link may repeat); those of
  // the final response only (not of a 100 Continue before it).
  std::vector<std::pair<std::string, std::string>> headers{};
  // PEM certificates the server presented (leaf first); filled only when
  // Request::capture_peer_chain was set.
  std::vector<std::string> peer_chain{};

  // First value of a header (name case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
  // Every value of a header, in arrival order.
  std::vector<std::string> header_all(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<Response> perform(const Request& request) = 0;
};

struct ClientOptions {
  // Where origin-form targets go: https://<server_name>:<port>. The server
  // certificate must carry this name. Empty: only absolute targets.
  std::string server_name;
  int port = 443;
  // Connects to this host (name or IP) for server_name:port while SNI and the
  // certificate check keep server_name (an endpoint given by IP or by a
  // management alias). Empty: server_name is resolved as usual.
  std::string connect_host;

  // Verification of the server certificate is on unless insecure is set;
  // there is no silent fallback. Trust, first match: ca_pem (PEM text of the
  // only CAs to trust, e.g. an appliance's in-memory trusted CA list),
  // ca_bundle (a PEM file, read by make_curl_transport through its Env with
  // the CA bundle cap and handed to libcurl as text: libcurl never opens it),
  // else the system store. A configured list or file is the only trust: the
  // system store does not widen it.
  std::optional<std::string> ca_pem;
  std::optional<std::string> ca_bundle;
  bool insecure = false;
  // Inserted into a verification failure ("TLS verification failed: <hint>:
  // <libcurl detail>"): where the trust comes from, what to check.
  std::string tls_failure_hint;

  // HTTP Basic credentials, sent when username is not empty.
  std::string username;
  pki::SecretString password;
  std::string user_agent;  // "" = no User-Agent header

  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{60};

  // Plain http:// targets are refused unless this is set, and even then only
  // for loopback hosts (localhost, 127.0.0.1, [::1]: local test servers).
  bool allow_loopback_http = false;
  // Plain http:// to any host. Only for content that carries its own
  // signature and is public by design (CRLs, OCSP answers: RFC 5280 §4.2.1.13
  // distribution points are usually plain HTTP); never with credentials.
  bool allow_plain_http = false;
  // A response body larger than this ends the transfer with kInvalidArgument
  // ("response larger than N bytes"); 0 = no limit.
  std::size_t max_response_bytes = 0;
  // Requests other than GET/HEAD get a fresh connection, closed afterwards,
  // because libcurl silently re-sends a request once when a reused connection
  // dies before any reply, and a state-changing request must not be sent
  // twice behind the caller's back. Set this only where a replay is harmless
  // (ACME: every POST carries a single-use nonce, so a duplicate is refused).
  bool reuse_connections_for_writes = false;
};

// libcurl transport: one easy handle, reused (keep-alive) for every request;
// not thread-safe itself, but all transports of the process draw their
// connections, DNS answers and TLS sessions from one shared pool (a libcurl
// share, locked per kind of data), so many transports on many threads share
// keep-alive connections. kInternal when libcurl cannot be initialised; the Env's
// read error ("CA bundle X: larger than 16 MiB", "X: not a regular file ...")
// when options.ca_bundle cannot be read.
Result<std::unique_ptr<Transport>> make_curl_transport(ClientOptions options, Env& env);

}  // namespace edgecert::http
