// The `https://HOST[:PORT]` node provider: the Expressway REST API
// (rest_api.h; docs/rest-mapping.md) over an http::Transport (libcurl for
// real nodes, a fake in tests).
//
// Behaviour beyond the NodeProvider contract:
// - HTTP Basic auth with spec.access.username and the password from
//   access.passwordFrom (NodeOpenContext::resolve_password); the password is
//   never logged and never part of an error.
// - The server certificate is verified against access.caBundle (or the system
//   store when unset) for the peer's FQDN, while the connection goes to the
//   endpoint's HOST:PORT; NodeOpenContext::insecure turns verification off
//   explicitly (the CLI warns). There is no fallback to insecure.
// - `X-CSRF-Header` on every POST/PUT/DELETE, as X14.2+ nodes require.
// - GETs (idempotent) are retried on connection errors and 502/503/504 with
//   exponential backoff through Env::sleep_for; POST/PUT/DELETE never are:
//   a dropped reply may hide an applied change, so the caller re-reads state.
// - Errors read "edge2: upload server certificate: POST
//   /api/provisioning/certs/server: 400: <node's Message>"; statuses map per
//   rest::code_for_status.
// - served_chain() opens a fresh TLS connection and returns the chain the
//   node presented in that handshake (not what the node says it serves).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "providers/http/http_client.h"
#include "providers/node/node.h"

namespace edgecert::rest {

struct RestOptions {
  // Attempts for a GET (1 = no retry). POST/PUT/DELETE always get one.
  int get_attempts = 3;
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{4000};
};

// HOST and PORT of "https://HOST[:PORT][/]"; kInvalidArgument otherwise.
struct Endpoint {
  std::string host;
  int port = 443;
};
Result<Endpoint> parse_https_endpoint(const std::string& endpoint);

// A provider over any transport (tests pass a fake).
std::unique_ptr<node::NodeProvider> make_rest_node_provider(
    std::string peer_name, Env& env, std::unique_ptr<http::Transport> transport,
    RestOptions options = {});

// Factory registered for the "https" scheme (default RestOptions).
Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer);
// Same, with explicit retry options.
Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider_with(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer,
    RestOptions options);

}  // namespace edgecert::rest
