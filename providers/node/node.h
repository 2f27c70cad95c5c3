// A node: one Expressway peer as the planner and executor see it.
//
// NodeProvider is the one interface every transport implements (`sim://` =
// the in-process simulator, later `https://` = the Expressway REST API). It
// models what an appliance holds per peer (../shared/reference/expressway.md
// §1) and the operations the certificate workflow needs (§3). Providers are
// picked by the endpoint's URL scheme through a small registry, so a new
// transport is one register_node_provider() call.
//
// Contract for every implementation:
// - Every failure is an Error whose message names the node and the action,
//   e.g. "edge2: upload server certificate: Common name must be a valid FQDN:
//   ...". The category says what a caller may do: kUnavailable is transient
//   (node restarting, connection dropped, 5xx) and may be retried;
//   kInvalidArgument is a rejection by the node; kAlreadyExists a CSR already
//   in progress; kNotFound an unknown object.
// - No operation ever returns a node's private key, and no error, state,
//   audit record or log line contains one. Keys the caller uploads travel as
//   pki::SecretString and are never echoed back.
// - Passwords (access.passwordFrom) are resolved only through
//   NodeOpenContext::resolve_password and never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/key.h"
#include "providers/pki/types.h"
#include "schema/spec.h"

namespace edgecert::node {

// The pending CSR as the node shows it (the key stays on the node).
struct PendingCsr {
  std::string pem;
  std::string common_name;
  pki::SubjectFields subject;          // C, ST, L, O, OU, e-mail of the request
  std::vector<std::string> dns_names;  // SAN DNS entries, in request order
  pki::KeyInfo key;
  std::string spki_sha256;  // of the request's public key (pki::spki_sha256)
  std::string digest;       // "sha256"
};

// The PendingCsr a provider reports for a CSR it read from the node: every
// detail is read off the request itself, so none can disagree with it.
Result<PendingCsr> pending_csr_from_pem(std::string_view pem);

// Automatic CRL updates (guide ch.7).
struct CrlSettings {
  bool automatic_updates = false;
  std::vector<std::string> distribution_points;  // http/https URLs, one per line on the node
  int daily_update_minute = 0;                   // minutes after 00:00 UTC
  bool operator==(const CrlSettings&) const = default;
};

// ACME service settings (Expressway-E, guide ch.4). Empty strings = unset.
struct AcmeSettings {
  std::string provider_name;
  std::string provider_directory;
  std::string email;
  bool terms_accepted = false;
  spec::AcmeMode mode = spec::AcmeMode::kDisabled;
  spec::KeyRotation renew_key = spec::KeyRotation::kRotate;
  std::optional<spec::Schedule> schedule;
};

// What the ACME status page shows.
struct AcmeStatus {
  // "Disabled" (mode disabled), "Account not registered" (enabled, no
  // account with the configured provider yet: the node registers at its
  // first sign), "Account registered".
  std::string status = "Disabled";
  // "" = never; "Success: <UTC time>" or "Failed: <UTC time>: <reason>".
  std::string last_sign_status;
  std::string last_deploy_status;
  // The signed chain (PEM, leaf first) waiting for acme_deploy().
  std::optional<std::string> pending_certificate_pem;
};

// An alarm raised by the node. Ids 40068/40069 are the appliance's
// certificate-expiry alarms; other ids are the provider's own (documented
// where they are produced).
struct Alarm {
  std::string id;
  std::string text;
};

// What the node says it is (issue 11: read from its own status, never from
// the spec).
enum class Product { kUnknown, kExpresswayC, kExpresswayE };
const char* product_name(Product p);  // "unknown", "Expressway-C", "Expressway-E"

// Operations a real Expressway offers no API for (the interface reference,
// §4). A node that cannot do one itself lists it in
// NodeState::manual_operations: the engine then plans a manual step (the
// web UI page and the values to set) instead of calling the provider, and
// verifies the result from read_state() where the node shows it. The
// provider's method for such an operation returns kUnimplemented naming the
// operation and the web UI page.
enum class ManualOperation {
  kDiscardCsr,          // discard_csr
  kDeleteTrustedCa,     // delete_trusted_ca
  kResetTrustedCas,     // reset_trusted_cas
  kSetCrlSettings,      // set_crl_settings
  kUploadManualCrl,     // upload_manual_crl
  kRemoveManualCrl,     // remove_manual_crl
  kSetTlsVerification,  // set_tls_verification
  kAcmeRevoke,          // acme_revoke (the superseded file must be put on the node by hand)
};
// "discard-csr", "delete-trusted-ca", ... (stable: journals and plans use it).
const char* manual_operation_name(ManualOperation op);

// The node's whole live certificate-related state.
struct NodeState {
  std::string software_version;  // "X14.3.1"
  Product product = Product::kUnknown;
  std::optional<std::int64_t> uptime_seconds;
  // The node's own view of its cluster (xConfiguration Alternates): peer
  // addresses by index, and the cluster name. nullopt = the node did not say
  // (no interface allowed, or a provider that cannot tell).
  std::optional<std::vector<std::string>> cluster_peers;
  std::string cluster_name;
  // What this node cannot do itself (see ManualOperation); empty for sim://.
  std::vector<ManualOperation> manual_operations;
  // False when the node has no read-back for the value (a real Expressway
  // shows neither its automatic CRL settings nor whether a manual CRL is
  // loaded): `crl` / `manual_crl_sha256` are then meaningless and the engine
  // relies on what an operator confirmed.
  bool crl_settings_known = true;
  bool manual_crl_known = true;
  // Serving now (leaf first): what a TLS handshake on the admin port shows.
  std::vector<pki::Certificate> server_chain;
  // Uploaded and accepted, becomes active at the next restart; empty = none.
  std::vector<pki::Certificate> staged_chain;
  std::optional<PendingCsr> pending_csr;
  std::vector<pki::Certificate> trusted_cas;  // in the node's order
  CrlSettings crl;
  // SHA-256 (upper-case hex with colons) of the manual CRL file, when present.
  std::optional<std::string> manual_crl_sha256;
  spec::RevocationChecking revocation;
  AcmeSettings acme;
  AcmeStatus acme_status;
  spec::TlsVerification tls_verification = spec::TlsVerification::kEnforce;
  std::vector<Alarm> alarms;
  bool restart_required = false;
};

// What "Generate CSR" takes.
struct CsrRequest {
  std::string common_name;
  spec::Subject subject;
  std::vector<std::string> dns_names;  // additional SANs; the CN is always added first
  spec::KeyAlgorithm key_algorithm = spec::KeyAlgorithm::kRsa;
  int key_size = 4096;
  spec::Digest digest = spec::Digest::kSha256;
  // Expressway's "re-use current private key": the CSR carries the key of the
  // active server certificate instead of a new one (spec keyRotation:
  // retain), and key_algorithm/key_size are ignored. kInvalidArgument when
  // the node has no usable current key.
  bool reuse_current_key = false;
};

// A server certificate upload. Without `key` the node pairs the certificate
// with the key it holds: the pending CSR's key when a CSR is in progress,
// otherwise the active certificate's key. With `key` (a manual upload of an
// externally generated key) no CSR may be in progress.
struct CertificateUpload {
  std::string chain_pem;  // leaf first, then intermediates (PEM)
  std::optional<pki::SecretString> key;
};

// A non-blocking upload warning the node reported (pki check ids where one
// applies: "missing-common-name", "key-missing-trailing-newline", ...).
struct UploadWarning {
  std::string id;
  std::string message;
};

struct UploadResult {
  std::string staged_sha256;  // fingerprint of the staged leaf
  std::vector<UploadWarning> warnings;
};

struct AppendCasResult {
  std::vector<std::string> added;    // SHA-256 fingerprints, in bundle order
  std::vector<std::string> skipped;  // already trusted (duplicates are not errors)
};

class NodeProvider {
 public:
  virtual ~NodeProvider() = default;

  // The peer name used in messages ("edge1").
  virtual const std::string& name() const = 0;

  virtual Result<NodeState> read_state() = 0;

  // Generates a key on the node and a CSR for it; returns the CSR PEM. The
  // active certificate is untouched. kAlreadyExists when a CSR is pending.
  virtual Result<std::string> generate_csr(const CsrRequest& request) = 0;
  // Drops the pending CSR and its key. kNotFound when there is none.
  virtual Status discard_csr() = 0;

  // Validates and stages a server certificate (see CertificateUpload). An
  // accepted upload is not served until restart(); a pending CSR is consumed.
  virtual Result<UploadResult> upload_server_certificate(const CertificateUpload& upload) = 0;

  virtual Result<AppendCasResult> append_trusted_cas(std::string_view pem_bundle) = 0;
  // kNotFound when no trusted CA has this SHA-256 fingerprint.
  virtual Status delete_trusted_ca(const std::string& sha256) = 0;
  virtual Status reset_trusted_cas() = 0;

  virtual Status set_crl_settings(const CrlSettings& settings) = 0;
  // One manual CRL (PEM or DER); replaces the previous one.
  virtual Status upload_manual_crl(std::string_view data) = 0;
  virtual Status remove_manual_crl() = 0;
  virtual Status set_revocation_checking(const spec::RevocationChecking& settings) = 0;
  virtual Status set_tls_verification(spec::TlsVerification mode) = 0;

  virtual Result<AcmeSettings> acme_settings() = 0;
  virtual Status set_acme_settings(const AcmeSettings& settings) = 0;
  // The node's ACME service (Expressway-E, guide ch.4). Sign, deploy and
  // revoke answer kInvalidArgument when ACME is disabled or its settings are
  // incomplete; discarding a pending certificate works in any mode.
  //
  // Signs the pending CSR with the configured provider (the node proves
  // control with http-01 itself) and stages the chain as
  // acme_status.pending_certificate_pem; the CSR stays pending until deploy.
  // kNotFound when no CSR is pending; a failed attempt is an error (the
  // provider's problem, kUnavailable when it cannot be reached) and is also
  // recorded in acme_status.last_sign_status.
  virtual Status acme_sign() = 0;
  // Serves the pending ACME certificate at once, without restart
  // (restart_required is not set); the pending CSR is consumed. kNotFound
  // when nothing is pending.
  virtual Status acme_deploy() = 0;
  // Drops the pending ACME certificate. kNotFound when nothing is pending.
  virtual Status acme_discard_pending() = 0;
  // Revokes a certificate through the provider with the node's ACME account,
  // with an RFC 5280 reason (a value outside pki::RevocationReason's
  // enumerators, e.g. a cast wire code, is kInvalidArgument naming the code).
  // kInvalidArgument "... is in use ..." for the certificate the node serves;
  // kAlreadyExists when it is already revoked.
  virtual Status acme_revoke(std::string_view certificate_pem, pki::RevocationReason reason) = 0;
  // The appliance's own command takes no reason: "unspecified".
  Status acme_revoke(std::string_view certificate_pem) {
    return acme_revoke(certificate_pem, pki::RevocationReason::kUnspecified);
  }

  // Asks the node to restart; returns once the restart has been accepted.
  virtual Status restart() = 0;
  // Polls the node (through Env::sleep_for) until it answers again.
  // kUnavailable naming the timeout when it does not.
  virtual Status wait_until_up(std::chrono::seconds timeout) = 0;
  // The chain the node presents in a TLS handshake on its admin interface.
  virtual Result<std::vector<pki::Certificate>> served_chain() = 0;
};

// Resolves an access.passwordFrom reference ("env:VAR" / "file:/path").
using PasswordResolver = std::function<Result<pki::SecretString>(const std::string& reference)>;

// The default resolver: env:VAR reads the variable through `env`; file:PATH
// reads the file and drops one trailing newline. Errors name the reference,
// never the value.
Result<pki::SecretString> resolve_password_from(Env& env, const std::string& reference);

// Everything a provider needs besides the spec and the peer.
struct NodeOpenContext {
  explicit NodeOpenContext(Env& e) : env(e) {}
  Env& env;
  // Folder of the simulator's node files; "" = $EDGECERT_SIM_DIR, else
  // "<the spec's folder>/.edgecert/sim/<metadata.name>".
  std::string sim_dir;
  // The folder that stands for the spec's own folder in that default, when
  // the spec's folder is not one edgecert can write to (a spec read from a
  // git commit, git_source.h: the working folder). "" = the spec's folder.
  std::string local_dir;
  bool insecure = false;  // HTTPS: skip server certificate verification
  // SSH: a host without a pinned key in the known_hosts file is accepted and
  // its key recorded (--trust-new-host-key); a changed key is always refused.
  bool trust_new_host_key = false;
  // The Env a simulated appliance lives in (its clock and files); nullptr =
  // `env`. apply hands the providers an Env whose clock runs ahead once a
  // stop is requested (so every wait ends at once); an in-process simulated
  // node must not see that jump, or a node still mid-restart would report
  // itself up the moment Ctrl-C is pressed.
  Env* appliance_env = nullptr;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{60};
  PasswordResolver resolve_password;  // unset = resolve_password_from(env, ...)
};

// The simulator folder for `spec` under `context` (see NodeOpenContext::sim_dir).
std::string effective_sim_dir(const NodeOpenContext& context, const spec::Spec& spec);

using NodeProviderFactory = std::function<Result<std::unique_ptr<NodeProvider>>(
    const NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer)>;

// Registers (or replaces: the last registration wins) the factory for
// endpoints "SCHEME://...". The binaries register sim:// and https:// at
// start-up (reconciler/cli/wiring.h).
void register_node_provider(const std::string& scheme, NodeProviderFactory factory);
// Schemes with a registered factory, sorted.
std::vector<std::string> registered_node_schemes();

// Opens `peer` by its endpoint's scheme. kInvalidArgument naming the peer and
// the known schemes when the scheme is missing or unknown.
Result<std::unique_ptr<NodeProvider>> open_node(const NodeOpenContext& context,
                                                const spec::Spec& spec, const spec::Peer& peer);

// "edge1: upload server certificate" prefixed onto an error, and the node and
// action recorded in its fields (an error that already names a node is kept).
inline Error node_error(const std::string& node, const char* action, const Error& e) {
  return e.at(node, action);
}

}  // namespace edgecert::node
