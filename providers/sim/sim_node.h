// The Expressway simulator core: one appliance node whose state lives in one
// file, behaving like the real node in everything that matters for
// certificates (../shared/reference/expressway.md §1-§3).
//
// Storage: `<dir>/<name>.json` (JSON, mode 0600 because it holds the node's
// private keys: that file is the node's own disk, and no operation returns a
// key) and `<dir>/<name>.audit.jsonl` (one JSON object per operation: time,
// operation, outcome, non-secret details such as fingerprints). Every change
// is written through Env::write_file_atomic, and the file is re-read at the
// start of every operation, so two processes (edgecert and an HTTP front end
// such as the future edgecert-sim server) see one node. There is no
// cross-process lock: concurrent writers race (last writer wins), which is
// acceptable for a test double driven one request at a time.
//
// A node without a file boots like a fresh install: a "TEMPORARY CA ..." in
// its trusted list, a server certificate for its FQDN issued by that CA (EC
// P-256), TLS verification enforce, CRL updates and revocation checking off,
// ACME disabled, software version X14.3.1.
//
// Errors carry the appliance's wording without node/action context (the
// provider adds "edge1: upload server certificate: "), so an HTTP server can
// map them to status codes and {"Message": ...} bodies unchanged:
// kInvalidArgument -> 400, kNotFound -> 404, kAlreadyExists -> 409,
// kUnavailable -> 503, kInternal -> 500.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "providers/env/env.h"
#include "providers/node/node.h"

namespace edgecert::sim {

inline constexpr const char* kSoftwareVersion = "X14.3.1";
inline constexpr int kDefaultRestartSeconds = 3;

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

struct AuditEntry {
  std::string time;       // "2027-01-01T00:00:00Z"
  std::string operation;  // "upload_server_certificate"
  std::string outcome;    // "ok" or "error: <category>: <message>"
  std::string details;    // JSON object text, non-secret
};

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
  // kInternal "ACME signing lands with the ACME issue" (not implemented yet).
  Status acme_sign();
  Status acme_deploy();
  Status acme_revoke(std::string_view certificate_pem);
  Status restart();
  // The chain a TLS handshake on the admin port would show (leaf first).
  Result<std::vector<pki::Certificate>> served_chain();

  // --- Test/administration API (not reachable through NodeProvider) ---
  // Boots the node if it has no file yet. Subject to no faults.
  Status ensure_booted();
  Status set_faults(const FaultConfig& faults);
  Result<FaultConfig> faults();
  Status set_restart_seconds(int seconds);
  Result<std::vector<AuditEntry>> audit();

 private:
  Env& env_;
  std::string dir_;
  std::string name_;
  std::string fqdn_;
};

}  // namespace edgecert::sim
