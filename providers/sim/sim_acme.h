// The simulated Expressway-E's ACME client: this project's RFC 8555 client
// (providers/acme) as the appliance would run it, used by SimNode's ACME
// service (sim_node.h).
//
// Like the appliance:
// - The ACME server's TLS certificate is verified against the node's trusted
//   CA list only (the provider's CA must be trusted, guide ch.4
//   prerequisites); there is no insecure mode and no system store.
// - The node proves control of its names with http-01 from its own listener,
//   which exists only while a sign runs (guide ch.4 "virtual Apache host").
//
// Contract: errors are the ACME client's (kUnavailable for connection
// problems and 5xx, kPermission for unauthorized and for a provider whose
// TLS certificate the trusted CA list does not verify, kInvalidArgument for
// rejected requests, kAlreadyExists for an already revoked certificate), with
// a short hint prefixed where the cause is the node's own configuration.
// No message contains the account key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/acme/acme_client.h"
#include "providers/acme/http01.h"
#include "providers/base/env.h"
#include "providers/http/http_client.h"
#include "providers/pki/certificate.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/types.h"

namespace edgecert::sim {

// http-01 listen value that starts no listener (tests against an ACME server
// that skips validation, e.g. Pebble with PEBBLE_VA_ALWAYS_VALID=1).
inline constexpr const char* kHttp01None = "none";
// The appliance listens on port 80 of every interface during a challenge.
inline constexpr const char* kDefaultHttp01Listen = acme::kDefaultHttp01Listen;

// "none", or HOST:PORT with a port 1-65535; the reason otherwise.
std::optional<std::string> http01_listen_problem(const std::string& listen);

// A libcurl transport that trusts exactly the given CA certificates (PEM
// text held in memory, as the node keeps them), not a bundle file: the node's
// trusted list lives in the node file, which may be in a MemoryEnv.
Result<std::unique_ptr<http::Transport>> make_trusted_list_transport(
    const std::vector<std::string>& trusted_ca_pems);

// One ACME conversation of the node with its provider.
class NodeAcmeClient {
 public:
  // Connects to nothing yet: the directory is fetched by the first request.
  static Result<std::unique_ptr<NodeAcmeClient>> open(
      Env& env, const std::string& directory_url, const std::vector<std::string>& trusted_ca_pems,
      pki::PrivateKey account_key);

  // The account URL: `known_url` when the node registered before with this
  // directory, otherwise newAccount (e-mail as contact, terms agreed; an
  // existing account of the key is returned by the server as such).
  Result<std::string> ensure_account(const std::string& known_url, const std::string& email);

  // Orders a certificate for the CSR's names (CN first, then the DNS SANs),
  // serving http-01 from a listener on `http01_listen` for the duration
  // (kHttp01None: no listener), finalizes with the CSR and returns the chain
  // PEM (leaf first).
  Result<std::string> sign(const pki::CertificateRequest& csr, const std::string& http01_listen);

  // Revokes with the account key.
  Status revoke(const pki::Certificate& cert, pki::RevocationReason reason);

 private:
  NodeAcmeClient() = default;
  std::unique_ptr<http::Transport> transport_;
  std::unique_ptr<acme::AcmeClient> client_;
};

}  // namespace edgecert::sim
