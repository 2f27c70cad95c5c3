// Plan: the ordered actions that take a cluster from its live state to the
// spec, following the certificate guide's change procedure
// (../shared/reference/expressway.md §3):
//
//   1. trusted CAs appended on every node (issuer chain first), leftover CSRs
//      discarded, the nodes' ACME service configured (spec.acme);
//   2. CSRs generated on the nodes and signed by the issuer — for every node
//      up front: they disrupt nothing, and an issuer that makes us wait
//      (external) stops the run before anything was disrupted;
//   3. cluster TLS verification relaxed to permissive (rollout.relaxTlsVerification);
//   4. per node, in rollout order, one node at a time: upload → restart →
//      wait until up → verify the certificate really served → next node
//      (issuer expressway-acme: the node signs with its ACME service → deploys
//      without a restart → verify → next node; signing waits for the node's
//      turn because in automated mode a node deploys whatever is pending at
//      its next scheduled slot);
//   5. TLS verification restored to the spec's value;
//   6. CAs pruned (prune: true), never one a serving or staged chain needs;
//   7. superseded certificates revoked (rollout.revokeSuperseded; a failure is
//      reported, not fatal: the replacements already serve);
//   8. settings that need no restart (CRL, manual CRL, revocation checking).
//
// Invariant: at most one node is disrupted at a time — every restart (and
// every ACME deploy) depends on the previous node's verify-served.
//
// A plan holds public data only. Its JSON form is docs/plan-format.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/engine/diff.h"
#include "reconciler/engine/live_state.h"
#include "schema/spec.h"

namespace edgecert {

enum class ActionKind {
  kDiscardCsr,
  kAppendTrustedCas,
  kGenerateCsr,
  kSignCsr,
  kSetTlsVerification,
  kUploadCertificate,
  kRestart,
  kWaitHealthy,
  kVerifyServed,
  kRevokeSuperseded,
  kDeleteTrustedCa,
  kSetCrlSettings,
  kUploadManualCrl,
  kSetRevocationChecking,
  kSetAcmeSettings,  // the node's ACME service settings (spec.acme)
  kAcmeSign,         // expressway-acme: the node signs its pending CSR with its ACME provider
  kAcmeDeploy,       // expressway-acme: the node deploys its pending ACME certificate, no restart
  kAcmeDiscardPending,  // drop a pending ACME certificate that does not match the spec
};
const char* action_kind_name(ActionKind k);  // "generate-csr", ...
std::optional<ActionKind> parse_action_kind(const std::string& s);

struct Action {
  std::string id;    // "<node>/<kind>[/<n>]", unique in the plan
  std::string node;  // peer name
  ActionKind kind = ActionKind::kRestart;
  std::string reason;
  nlohmann::json before = nullptr;  // non-secret summary of the live value
  nlohmann::json after = nullptr;   // non-secret summary of the desired value
  bool disruptive = false;          // the node stops serving (restart)
  std::vector<std::string> depends_on;
  nlohmann::json params = nlohmann::json::object();  // what the executor needs
};

struct NodeSnapshot {
  std::string fingerprint;  // sha256 hex of summary
  nlohmann::json summary;
};

struct Plan {
  int format_version = 1;
  std::string spec_path;           // as given on the command line
  std::string spec_absolute_path;  // resolved when the plan was made
  std::string spec_sha256;
  std::string cluster;
  std::string created_at;  // RFC 3339 UTC
  std::string edgecert_version = EDGECERT_VERSION;
  std::vector<std::pair<std::string, NodeSnapshot>> nodes;  // every peer, spec order
  std::vector<std::string> targets;                         // empty = all peers
  std::vector<Action> actions;
  std::vector<std::string> notes;          // e.g. refused prunes, waiting issuers
  std::optional<std::string> next_window;  // RFC 3339 UTC, when windows are set

  size_t restart_count() const;
  size_t deploy_count() const;  // ACME deploys (they change the served certificate, no restart)
  std::vector<std::string> touched_nodes() const;
  std::string summary_line() const;  // "Plan: N actions on M nodes, K restarts, one node at a time"
  bool empty() const { return actions.empty(); }
  const Action* find(const std::string& id) const;
};

struct PlanInputs {
  const spec::Spec* spec = nullptr;
  std::string spec_sha256;
  const ClusterLive* live = nullptr;
  const ClusterDiff* diff = nullptr;
  std::string issuer_description;            // "openssl-ca 'edgecert local CA'"
  std::vector<pki::Certificate> issuer_cas;  // the issuer's CA chain (may be empty)
  std::vector<std::string> targets;          // peer names; empty = all
  TimePoint now;
};

Plan build_plan(const PlanInputs& in);

// ACME service settings in plans (before/after/params of set-acme-settings):
// {"provider_name", "provider_directory", "email", "terms_accepted", "mode",
// "renew_key", "schedule": {"days": ["mon"], "time": "04:00"} | null}.
nlohmann::json acme_settings_json(const node::AcmeSettings& settings);
Result<node::AcmeSettings> acme_settings_from_json(const nlohmann::json& j);

nlohmann::json plan_to_json(const Plan& plan);
Result<Plan> plan_from_json(const nlohmann::json& j, const std::string& source);

// Terraform-like readable form, grouped by node, with the summary line.
std::string render_plan_text(const Plan& plan);

}  // namespace edgecert
