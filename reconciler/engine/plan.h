// Plan: the ordered actions that take a cluster from its live state to the
// spec, following the certificate guide's change procedure
// (../shared/reference/expressway.md §3):
//
//   1. leftover CSRs discarded, the nodes' ACME service configured
//      (spec.acme); issuer expressway-acme: trusted CAs appended here (the
//      node checks the chain it signs against them);
//   2. CSRs generated on the nodes and signed — for every node up front, run
//      concurrently by the executor: they disrupt nothing, and an issuer that
//      refuses or makes us wait (external) stops the run before anything was
//      relaxed, uploaded or restarted. Every chain passes the Expressway
//      checks before it is recorded (node_runner.h). Issuer expressway-acme:
//      the node signs here too when its ACME mode is manual; in automated
//      mode it deploys whatever is pending at its next scheduled slot, so
//      its signature waits for its turn (step 4). Other issuers: the trusted
//      CAs are appended after the signatures;
//   3. cluster TLS verification relaxed to permissive (rollout.relaxTlsVerification;
//      never on a one-peer spec: an unclustered node has no peers to verify),
//      right before the first disruptive action;
//   4. per node, in rollout order, one node at a time: upload → restart →
//      wait until up → verify the certificate really served → next node
//      (issuer expressway-acme: [automated: the node signs →] the node
//      deploys without a restart → verify → next node);
//   5. TLS verification restored to the spec's value;
//   6. CAs pruned (prune: true), never one a serving or staged chain needs;
//   7. superseded certificates revoked (rollout.revokeSuperseded; a failure is
//      reported, not fatal: the replacements already serve);
//   8. settings that need no restart (CRL, manual CRL, revocation checking).
//
// An action a node cannot do itself (NodeState::manual_operations) keeps
// its place in this order and is marked manual (manual_steps.h): the
// operator does it in the web UI when apply gets there.
//
// Invariant: at most one node is disrupted at a time — every restart (and
// every ACME deploy) depends on the previous node's verify-served.
//
// A plan holds public data only. Its JSON form is docs/plan-format.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/clock.h"
#include "reconciler/engine/action.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/git_origin.h"
#include "reconciler/engine/live_state.h"
#include "schema/spec.h"

namespace edgecert {

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
  std::string created_at;  // format_time: "2026-11-27 13:00:00 UTC"
  std::string edgecert_version = EDGECERT_VERSION;
  std::vector<std::pair<std::string, NodeSnapshot>> nodes;  // every peer, spec order
  std::vector<std::string> targets;                         // empty = all peers
  std::vector<std::string> replace;  // --replace: reissued anyway (apply re-derives with it)
  std::vector<Action> actions;
  std::vector<std::string> notes;          // e.g. refused prunes, waiting issuers
  std::optional<std::string> next_window;  // RFC 3339 UTC, when windows are set
  // `plan --change-id`: the change this plan is for (approval.h).
  std::optional<std::string> change_id;
  // The spec was read from a git ref (--git): spec_path is its path in the
  // commit's tree, and `apply PLAN` reads it from the same ref again.
  std::optional<GitOrigin> git;

  size_t restart_count() const;
  size_t deploy_count() const;  // ACME deploys (they change the served certificate, no restart)
  size_t manual_count() const;  // manual steps (Action::manual)
  std::vector<std::string> manual_nodes() const;  // nodes with a manual step, spec order
  std::vector<std::string> touched_nodes() const;
  // "Plan: N actions on M nodes, K restarts[, D ACME deploys (no restart)][,
  // S manual steps on T nodes], one node at a time"
  std::string summary_line() const;
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

// The saved-plan file (docs/plan-format.md).
nlohmann::json plan_to_json(const Plan& plan);
// Decodes and checks a saved plan. Never throws. Refused, with a message
// naming `source`, the action id and the field: a missing or wrongly typed
// field, an unknown kind, a duplicate action id, a node that is not among the
// plan's nodes, a depends_on naming an action that is missing or comes later.
Result<Plan> plan_from_json(const nlohmann::json& j, const std::string& source);

// The instant a plan's `created_at` names: "2026-11-27 13:00:00 UTC" (as
// format_time prints it, what `plan` writes) or "2026-11-27T13:00:00Z"; nullopt
// for any other text or an impossible date. plan_from_json refuses a plan whose created_at does not
// read.
std::optional<TimePoint> plan_created_time(std::string_view created_at);
// What differs between a saved plan (its JSON as read) and `now`, the plan
// edgecert derives from the same spec and live state: the cluster, the
// targets, --replace, and every action field by field (id, node, kind,
// reason, before, after, params, ...), in order. Empty when they are exactly
// equal. Each line names the action (position, node, kind) and the field; the
// first is the one to lead with. notes, next_window and change_id are not
// compared (change_id is the operator's, bound by the approvals): notes and
// next_window
// describe the clock and the network at the time (an open rollout window, an
// unreachable CRL source) and the executor never reads them.
std::vector<std::string> plan_differences(const nlohmann::json& saved, const Plan& now);

// The same checks on a plan in memory (ids unique, nodes known, every
// dependency an earlier action); the error names the action and field.
Status check_plan(const Plan& plan);

// Terraform-like readable form, grouped by node, with the summary line.
std::string render_plan_text(const Plan& plan);

// Markdown for a pull-request comment (plan_markdown.cpp): heading, summary,
// a table of the actions in order, notes, the text form folded in
// <details>, and where the plan came from. Whatever the plan holds is
// escaped: no cell or line of it can inject markup.
std::string render_plan_markdown(const Plan& plan);
// `s` as one line of inert Markdown text (HTML, pipes, line breaks, emphasis
// and links escaped), as the plan's table cells are: for headings that
// quote a file name or a cluster.
std::string markdown_text(std::string_view s);

}  // namespace edgecert
