// The Expressway simulator core: one appliance node whose state lives in one
// file, behaving like the real node in everything that matters for
// certificates (../shared/reference/expressway.md §1-§4).
//
// Storage: `<dir>/<name>.json` (JSON, mode 0600 because it holds the node's
// private keys, server, CSR and ACME account keys: that file is the node's
// own disk, and no appliance operation returns a key; only tls_identity(),
// for the node's own TLS listener, does) and `<dir>/<name>.audit.jsonl`
// (one JSON object per change: time, operation, outcome, non-secret details
// such as fingerprints). Every change is written through
// Env::write_file_atomic, and the file is re-read at the start of every
// operation, so several processes (edgecert, edgecert-sim, `edgecert-sim
// ui`) see one node. Every operation that may change the node holds
// `<dir>/<name>.lock` (Env::lock_file, waiting for another holder) from its
// read to its write, so a change made by one process while another serves a
// request is not lost; a read that cannot change anything takes no lock.
// The file's format is private to SimNode (providers/sim/sim_node_internal.h):
// code outside providers/sim asks SimNode instead of reading the file (tests
// may inspect it).
//
// Reads write nothing: an operation that only reads (read_state, ping,
// served_chain, acme_settings, ...) neither saves the file nor appends an
// audit line, unless it changed the node (finishing a restart whose time is
// up, catching up the ACME scheduler) or faults were injected through
// set_faults (every request is then audited, even once the fault is used up,
// so tests can count the attempts a client made; set_faults with no fault
// ends that).
//
// A node without a file boots like a fresh install: a "TEMPORARY CA ..." in
// its trusted list, a server certificate for its FQDN issued by that CA (EC
// P-256), TLS verification enforce, CRL updates and revocation checking off,
// ACME disabled, software version X14.3.1, product not set (read_state says
// node::Product::kUnknown until set_product; edgecert-sim sets it), uptime
// counted from the boot and from the end of every restart.
//
// The ACME service (Expressway-E, guide ch.4; §4 of
// ../shared/reference/expressway.md) runs this project's ACME client
// (providers/acme) against the configured provider directory:
// - The account is per node: its key (EC P-256) is created in the node file
//   on first use and never leaves it; the account is registered (newAccount
//   with the e-mail, terms agreed) at the first sign or revoke, and again
//   when the provider directory changes. Status: "Disabled" (mode disabled),
//   "Account not registered", "Account registered".
// - The provider's TLS certificate is verified against the node's trusted CA
//   list only.
// - The node serves http-01 itself from a listener that exists only while a
//   sign runs, on the simulator setting acme_http01_listen (default
//   "0.0.0.0:80" like the appliance; "none" = no listener, for ACME servers
//   that skip validation).
// - last_sign_status / last_deploy_status read "Success: 2027-01-01T00:00:00Z"
//   or "Failed: 2027-01-01T00:00:00Z: <reason>" (the time of the attempt).
// - Automated mode: see run_scheduler().
//
// Errors carry the appliance's wording without node/action context (the
// provider adds "edge1: upload server certificate: "), so an HTTP server can
// map them to status codes and {"Message": ...} bodies unchanged:
// kInvalidArgument -> 400, kNotFound -> 404, kAlreadyExists -> 409,
// kUnavailable -> 503, kInternal -> 500.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/node/node.h"
#include "providers/pki/key.h"

namespace edgecert::sim {

inline constexpr const char* kSoftwareVersion = "X14.3.1";
inline constexpr int kDefaultRestartSeconds = 3;

// Where a node is in a restart (SimNode::restart_phase).
enum class RestartPhase {
  kUp,            // not restarting
  kShuttingDown,  // accepted, still answering (FaultConfig::restart_delay_seconds)
  kDown,          // restarting: unreachable
  kDue,           // its time is up: the node's next request finishes it
  kNever,         // FaultConfig::restart_never_returns: down for good
};
// NodeState::acme_status.status values.
inline constexpr const char* kAcmeStatusDisabled = "Disabled";
inline constexpr const char* kAcmeStatusNotRegistered = "Account not registered";
inline constexpr const char* kAcmeStatusRegistered = "Account registered";

// Per-node fault injection, persisted in the node file so every process
// driving the node sees it. All randomness comes from `seed` and a request
// counter kept in the file, so a run is reproducible.
struct FaultConfig {
  // Added to every request (Env::sleep_for: free under MemoryEnv).
  int latency_ms = 0;
  // Probability (0..1) that a request fails like a 5xx (kUnavailable) before
  // it does anything.
  double failure_rate = 0.0;
  uint64_t seed = 1;
  // The next N requests lose their connection (kUnavailable). With
  // drop_after_apply the operation takes effect first and only the reply is
  // lost, the case that forces callers to re-read state before retrying.
  int drop_connections = 0;
  bool drop_after_apply = false;
  // The next restart never finishes: the node stays unreachable.
  bool restart_never_returns = false;
  // The next restart comes back serving the old certificate: the staged one
  // is lost and restart-required is cleared (a failed install).
  bool restart_keeps_old_certificate = false;
  // Restart duration override for the next restarts (0 = the node's
  // restart_seconds).
  int slow_restart_seconds = 0;
  // A real appliance accepts a restart and keeps answering (with its old
  // certificate) while it shuts down: the node goes down only this many
  // seconds after accepting the restart.
  int restart_delay_seconds = 0;
};

// What a TLS handshake on the node's admin port presents.
struct TlsIdentity {
  std::vector<std::string> chain;  // PEM, leaf first
  pki::SecretString key;           // PEM of the leaf's private key
};

struct AuditEntry {
  std::string time;       // "2027-01-01T00:00:00Z"
  std::string operation;  // "upload_server_certificate"
  std::string outcome;    // "ok" or "error: <category>: <message>"
  std::string details;    // JSON object text, non-secret
};

namespace internal {
struct NodeFiles;  // sim_node_internal.h
}  // namespace internal

// One simulated node. Cheap to construct: nothing is read until an operation
// runs. Not thread-safe; one instance per thread.
class SimNode {
 public:
  // `dir` holds the node files; `name` names them ([a-z0-9-]+); `fqdn` is used
  // only when the node boots for the first time.
  SimNode(Env& env, std::string dir, std::string name, std::string fqdn);

  const std::string& name() const { return name_; }
  std::string state_path() const;
  std::string audit_path() const;

  // --- Appliance operations (what an admin or the REST API can do) ---
  // Liveness probe: the software version, or kUnavailable while restarting.
  Result<std::string> ping();
  Result<node::NodeState> read_state();
  Result<std::string> generate_csr(const node::CsrRequest& request);
  Status discard_csr();
  Result<node::UploadResult> upload_server_certificate(const node::CertificateUpload& upload);
  Result<node::AppendCasResult> append_trusted_cas(std::string_view pem_bundle);
  Status delete_trusted_ca(const std::string& sha256);
  Status reset_trusted_cas();
  Status set_crl_settings(const node::CrlSettings& settings);
  Status upload_manual_crl(std::string_view data);
  Status remove_manual_crl();
  Status set_revocation_checking(const spec::RevocationChecking& settings);
  Status set_tls_verification(spec::TlsVerification mode);
  Result<node::AcmeSettings> acme_settings();
  Status set_acme_settings(const node::AcmeSettings& settings);
  // Every ACME operation below answers kInvalidArgument when the mode is
  // disabled or the settings are incomplete, and is audited (names, serials,
  // fingerprints, the account URL; never a key).
  //
  // Signs the pending CSR through the provider (registering the account
  // first when needed), serving http-01 for the duration, and stages the
  // chain as the pending ACME certificate (replacing any earlier one). The
  // CSR stays pending until the certificate is deployed. kNotFound when no
  // CSR is pending; otherwise the ACME client's errors (sim_acme.h). Every
  // attempt past the preconditions sets last_sign_status.
  Status acme_sign();
  // Makes the pending ACME certificate (with its CSR's key) the active one at
  // once: served_chain changes, restart_required is untouched. The CSR it
  // answers is consumed and kept as the stored CSR for automated renewal.
  // kNotFound when nothing is pending. Sets last_deploy_status.
  Status acme_deploy();
  // Drops the pending ACME certificate ("Delete Pending Cert"). kNotFound
  // when nothing is pending. Works in any mode.
  Status acme_discard_pending();
  // Revokes the first certificate of `certificate_pem` with the node's
  // account key and RFC 5280 reason `reason` (a value outside the enumerators,
  // e.g. a cast wire code, is kInvalidArgument naming the code).
  // kInvalidArgument "... is in use ..." for the certificate the node serves
  // (guide: never revoke the certificate in use); kAlreadyExists when the
  // provider says it is already revoked.
  Status acme_revoke(std::string_view certificate_pem,
                     pki::RevocationReason reason = pki::RevocationReason::kUnspecified);
  Status restart();
  // The chain a TLS handshake on the admin port would show (leaf first).
  Result<std::vector<pki::Certificate>> served_chain();

  // --- The node's own TLS listener (edgecert-sim) ---
  // The certificate chain and private key a TLS handshake on the admin port
  // presents now: the active ones. Only for the listener that serves this
  // node (the one call that returns a key). When a restart's time is up, the
  // node's next request finishes it; this makes that request (a ping(),
  // faulted and audited like any) first, so a handshake shows what the node
  // serves after the restart. A node still restarting, or one that never
  // comes back, presents its old certificate. Never boots a node: kNotFound
  // without a node file, kCorrupt for an unreadable one.
  Result<TlsIdentity> tls_identity();

  // --- Test/administration API (not reachable through NodeProvider) ---
  // Boots the node if it has no file yet. Subject to no faults.
  Status ensure_booted();
  Status set_faults(const FaultConfig& faults);
  Result<FaultConfig> faults();
  Status set_restart_seconds(int seconds);
  // Where the node listens for the provider's http-01 requests while a sign
  // runs: "HOST:PORT" (default "0.0.0.0:80"), or "none" for no listener.
  // Persisted in the node file. kInvalidArgument for anything else; a bind
  // failure makes the sign fail (kUnavailable naming the address).
  Status set_acme_http01_listen(const std::string& listen);
  Result<std::string> acme_http01_listen();
  // Makes the node behave like an Expressway-C that discovered these IM and
  // Presence chat node aliases: every CSR it generates lists them as extra
  // DNS names after the requested ones (the real node adds them by itself,
  // guide ch.3). Empty (the default) = none. kInvalidArgument for a name
  // that is not an FQDN.
  Status set_chat_node_aliases(const std::vector<std::string>& aliases);
  // Seed of the automated-mode scheduler's random check times (default 1).
  Status set_acme_scheduler_seed(uint64_t seed);
  // The appliance's ACME scheduler, brought up to Env::now(). Every
  // appliance operation runs it first too (a scheduler that ran while nobody
  // watched); edgecert-sim also runs it periodically. In automated mode with
  // a schedule, for every event since the previous run, in time order:
  // - twice a day, at a random time in each half of the UTC day (seeded,
  //   reproducible): when no ACME certificate is pending, the active
  //   certificate is the one the service deployed, and two thirds of its
  //   lifetime have passed, it signs the stored CSR again (renew key retain)
  //   or a fresh key + CSR with the same subject, names, key type and digest
  //   (rotate) and stages the result as pending (last_sign_status). After a
  //   failed renewal the rest of one run skips further attempts.
  // - at every scheduled slot (days of the week + time of day, UTC): a
  //   pending ACME certificate is deployed (last_deploy_status).
  // Events before automated mode was set are not replayed; without automated
  // mode nothing happens (the appliance does not even warn at two thirds).
  // Subject to no faults; audited as acme_automated_sign/_deploy with the
  // event's time. kUnavailable while the node restarts.
  Status run_scheduler();
  Result<std::vector<AuditEntry>> audit();

  // --- The operator's side channel (edgecert-sim ui) and edgecert-sim flags ---
  // What the node says it is: node::Product (read_state, and edgecert-sim's
  // XML and CLI) and Software/Version. kInvalidArgument for kUnknown or a
  // version that is not "X<major>.<minor>[.<patch>]".
  Status set_product(node::Product product);
  Status set_software_version(const std::string& version);
  // The node's own cluster peer list (xConfiguration Alternates): nullopt =
  // none set (edgecert-sim then serves its own nodes' FQDNs). Up to 6
  // addresses; read_state reports a set list as NodeState::cluster_peers.
  Status set_cluster_peers(std::optional<std::vector<std::string>> peers);
  Result<std::optional<std::vector<std::string>>> cluster_peers();
  // A file on the node's own disk, as root would copy one there (the
  // superseded certificate `xCommand ACME Revoke CertPath:` names).
  // `node_path` must be absolute; the content is kept as given.
  Status put_file(const std::string& node_path, std::string content);
  // kNotFound "File not found: PATH" when nothing was put there.
  Result<std::string> node_file(const std::string& node_path);
  // Where the node is in a restart, read from the file without changing it
  // (edgecert-sim closes and reopens the node's listeners by it).
  Result<RestartPhase> restart_phase();

 private:
  // This node's Env and file paths, for the implementation files.
  internal::NodeFiles files() const;

  Env& env_;
  std::string dir_;
  std::string name_;
  std::string fqdn_;
};

}  // namespace edgecert::sim
