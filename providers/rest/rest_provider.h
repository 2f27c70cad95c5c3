// The `https://HOST[:PORT]` node provider: a real Expressway X14.2+ through
// only the interfaces Cisco ships (the interface reference,
// ../shared/reference/expressway-interfaces.md, "edgecert uses" column;
// docs/expressway-interfaces.md):
// - REST (documented paths only): GET/POST certs/server, GET/POST certs/root,
//   GET/POST certs/generate_csr (body: providers/wire/rest_json.h),
//   common/protocol/sip/certrevokecheck (alternative to the CLI),
//   POST certs/acme/pendingcert[/deploy] (alternatives to the CLI), POST
//   restart. HTTP Basic; `X-CSRF-Header: edgecert` on every write.
// - XML status over HTTPS (providers/wire/xml_status.h): SystemUnit
//   (product, version, uptime), Warnings (alarms; 40049 = cluster TLS
//   permissive), /alternatesconfiguration.xml (alternative to the CLI).
// - CLI over SSH (providers/ssh, providers/wire/xacli.h): SIP TLS
//   revocation checking, the xCommand ACME family, xConfiguration
//   Alternates; xStatus SystemUnit and xCommand Restart as fallbacks. One
//   SSH session per provider, opened at the first command, reused; dropped
//   at a restart or a transport failure and opened again when next needed.
// spec.access.interfaces says which of the three a node may use; an
// operation whose interfaces are all disallowed is kUnimplemented naming
// what it needs.
//
// What a real node has no API for (NodeState::manual_operations lists every
// node::ManualOperation): discard_csr, delete_trusted_ca, reset_trusted_cas,
// set_crl_settings, upload_manual_crl, remove_manual_crl,
// set_tls_verification return kUnimplemented naming the operation and the
// web UI page. acme_revoke needs the superseded certificate on the node
// (put there by an operator as root) at acme_revoke_path(); it runs
// `xCommand ACME Revoke` and answers kUnimplemented with that instruction
// when the node reports the file missing. The node shows neither its CRL
// settings nor a manual CRL (crl_settings_known = manual_crl_known = false).
// Re-using the current private key for a CSR has no REST field:
// CsrRequest::reuse_current_key is kUnimplemented.
//
// read_state() is built from those reads only: the served chain from the TLS
// handshake, the staged chain from GET certs/server when it differs from the
// served one, the pending CSR (GET generate_csr; 404 = none), trusted CAs,
// alarms and TLS verification (40049), revocation checking (CLI; REST
// alternative), ACME settings and pending certificate (CLI; skipped on an
// Expressway-C), product/version/uptime (XML; CLI alternative), cluster peers
// and name (CLI; XML alternative). A part whose interfaces are all
// disallowed keeps its default (an empty peer list is nullopt).
//
// Other behaviour:
// - The server certificate is verified against access.caBundle (else the
//   system store) for the peer's FQDN, while connecting to the endpoint's
//   HOST:PORT; NodeOpenContext::insecure turns that off explicitly. SSH host
//   keys are pinned in access.knownHosts; NodeOpenContext::trust_new_host_key
//   records an unknown one, a changed one is always refused.
// - Reads are retried on transient failures (RestOptions), writes never.
// - Every error names node, interface, request and operation
//   ("edge1: REST GET /api/provisioning/certs/root (read trusted CAs): HTTP
//   401 Unauthorized ..."); passwords never appear.
// - restart() records when it was asked; wait_until_up() polls through
//   Env::sleep_for until an HTTPS request (a TLS handshake) succeeds and the
//   node's Uptime is shorter than the time since that request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "providers/http/http_client.h"
#include "providers/node/node.h"
#include "providers/pki/certificate.h"
#include "providers/ssh/ssh_client.h"

namespace edgecert::rest {

struct RestOptions {
  // Attempts for a read (1 = no retry). Writes always get one.
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

// Where acme_revoke() expects the superseded certificate on the node:
// /tmp/edgecert-revoke-<SHA-256 of the certificate, lower-case hex, no
// colons>.pem [assumed: any path root can write works for the node].
std::string acme_revoke_path(const pki::Certificate& certificate);

// A provider over given transports (tests pass fakes). `ssh` may be null
// (no CLI). `interfaces` = spec.access.interfaces.
std::unique_ptr<node::NodeProvider> make_expressway_node_provider(
    std::string peer_name, Env& env, std::unique_ptr<http::Transport> http,
    std::unique_ptr<ssh::Transport> ssh, std::vector<spec::Interface> interfaces,
    RestOptions options = {});

// Factory registered for the "https" scheme (default RestOptions): libcurl
// for HTTPS, libssh for the CLI (only when access.interfaces allows it).
Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer);
// Same, with explicit retry options.
Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider_with(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer,
    RestOptions options);

}  // namespace edgecert::rest
