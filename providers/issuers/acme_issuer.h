// The `acme` issuer: edgecert itself is the ACME client (RFC 8555, through
// providers/acme) and signs a node's CSR at a public or private ACME CA.
//
// Contract:
// - sign() orders the CSR's DNS names (the CN first, then the SANs, each name
//   once, compared case-insensitively), proves control of each with http-01
//   (a standalone listener on `http01_listen`, bound only while signing, or
//   files below `webroot` for a web server that already owns port 80),
//   finalizes with the node's CSR unchanged and returns the leaf followed by
//   the intermediates the CA sent (self-signed certificates dropped) as
//   SignState::kIssued. It never answers kWaiting. Wildcard names, IP
//   addresses and other SAN types are refused before anything is sent: http-01
//   cannot prove them.
// - The account key is stored 0600, atomically, at
//   acme_account_key_path(state_dir, directory) — one account per ACME
//   directory — and created on first use. The account itself is looked up
//   with that key and created only when missing: contact `email`, the
//   directory's terms of service agreed (configuring the issuer is the
//   operator's agreement), and the external account binding when configured.
// - The EAB HMAC key is read from "env:VAR" or "file:PATH" only when an
//   account has to be created; it is base64url text and never appears in an
//   Error, output or log.
// - `caBundle` verifies the ACME server's TLS (default: the system store).
// - ca_certificates() is empty: an ACME CA's root is not known before the
//   first certificate, so operators list it in spec.trustedCAs.
// - revoke() revokes with the account key (the node's key never leaves it).
// - Errors start with "acme issuer DIRECTORY:" and name the node and the step
//   that failed; a rateLimited refusal carries "retry after N s" when the CA
//   sent Retry-After.
// - Nothing touches the network when the issuer is opened (plan stays
//   offline); the first sign or revoke opens one keep-alive connection that
//   later calls reuse. sign() and revoke() may be called from several
//   threads: they run one at a time (one account, one nonce pool, one
//   http-01 listener port).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "providers/acme/acme_client.h"
#include "providers/issuer/issuer.h"
#include "providers/pki/key.h"
#include "schema/spec.h"

namespace edgecert::issuer {

struct AcmeIssuerOptions {
  // Per-cluster state folder (reconciler Session::state_dir); the account
  // key goes below it. Ignored when account_key_path is set.
  std::string state_dir;
  // Explicit account key file (`edgecert acme issue --account-key`).
  std::string account_key_path;
  // Polling and badNonce bounds; directory_url is taken from the config.
  // The first poll comes after 5 ms rather than the library's 50 ms: a CA
  // that validates on the spot (Pebble, a private CA next door) has answered
  // by then, and one that takes seconds costs only three more polls of the
  // order (one request each, whatever the number of names) before the
  // doubling backoff reaches its 1 s ceiling.
  acme::AcmeClientOptions client = [] {
    acme::AcmeClientOptions o;
    o.poll_initial = std::chrono::milliseconds(5);
    return o;
  }();
  // Tests: replaces the libcurl transport (which honours config.ca_bundle).
  std::function<Result<std::unique_ptr<http::Transport>>()> make_transport;
};

// "<state_dir>/acme/<first 16 hex digits of sha256(directory_url)>/account.key".
std::string acme_account_key_path(const std::string& state_dir, const std::string& directory_url);

// Resolves an EAB HMAC reference ("env:VAR" or "file:PATH"; trailing
// whitespace and base64 '=' padding dropped, as CAs hand keys out both ways)
// and decodes its base64url text to the raw MAC key.
// Errors name the reference, never the value.
Result<pki::SecretString> resolve_eab_hmac(Env& env, const std::string& reference);

std::unique_ptr<Issuer> make_acme_issuer(Env& env, spec::AcmeIssuer config,
                                         AcmeIssuerOptions options);

}  // namespace edgecert::issuer
