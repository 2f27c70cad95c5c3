// Manual steps: plan actions a node cannot do itself (issue 11).
//
// A real Expressway has no API for some operations (the interface reference,
// §4): cluster TLS verification mode, trusted-CA delete, discarding a CSR,
// automatic CRL settings, the manual CRL, and the file an ACME revocation
// needs on the node. Such a node lists them in NodeState::manual_operations;
// the planner then marks the action `manual` (Action::manual) and the
// executor, instead of calling the provider, prints what to do in the web UI,
// stops (exit 4) or asks in a terminal, and on the next run checks what it
// can from read_state() (check_manual_step). What nothing on the node shows
// (CRL settings, the manual CRL, an ACME revocation) the operator confirms;
// a confirmed CRL value is remembered in the cluster's state folder
// (`manual.json`, docs/state-format.md) and treated as the node's live value
// from then on, so the next plan does not ask again.
//
// sim:// nodes list no manual operations: they do everything themselves.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/node/node.h"
#include "reconciler/engine/action.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/plan.h"

namespace edgecert {

// The ManualOperation behind an action kind; nullopt for kinds a node always
// does itself. revoke-superseded is the node's ACME revocation only when the
// nodes sign themselves (issuer expressway-acme); otherwise the issuer revokes.
std::optional<node::ManualOperation> manual_operation_for(ActionKind kind, bool node_signs);

// What the operator does, and how edgecert checks it afterwards.
struct ManualInstruction {
  std::string page;                   // web UI menu path, "System > Clustering"
  std::vector<std::string> settings;  // "TLS verification mode = Enforce", "Save"
  std::string check;                  // how edgecert verifies it (or that it cannot)
  bool verifiable = true;             // false: the operator must confirm it
};
ManualInstruction manual_instruction(const Action& action);
// One line: "edge1: System > Clustering: TLS verification mode = Enforce, Save".
std::string manual_instruction_line(const Action& action);

// Identifies a manual step by what it asks (node, kind, params), not by its
// id: a confirmation given for one plan's step carries over to the same step
// in the next plan, never to a different value.
std::string manual_step_key(const Action& action);

// What the node shows now about a manual step.
struct ManualCheck {
  enum class State { kDone, kNotDone, kUnverifiable };
  State state = State::kNotDone;
  std::string message;  // "alarm 40049 absent: TLS verification is enforce"
};
ManualCheck check_manual_step(const Action& action, const node::NodeState& state);

// --- Values the operator confirmed (the state folder's manual.json) ---------

struct ConfirmedNode {
  std::optional<node::CrlSettings> crl_settings;
  // Set when confirmed: the manual CRL's SHA-256, or nullopt = none loaded.
  std::optional<std::optional<std::string>> manual_crl_sha256;
};
using ConfirmedValues = std::map<std::string, ConfirmedNode>;  // by peer name

std::string confirmed_values_path(const std::string& cluster_state_dir);
// A missing file is empty; a damaged one is an error naming the file.
Result<ConfirmedValues> read_confirmed_values(Env& env, const std::string& cluster_state_dir);
// Records the value a confirmed set-crl-settings, upload-manual-crl or
// remove-manual-crl step set (other kinds record nothing). Atomic write.
Status record_confirmed_value(Env& env, const std::string& cluster_state_dir, const Action& action,
                              const std::string& run_id);
// Nodes that cannot show a value take the confirmed one as live (and their
// summary says so: "confirmed": {"crl_settings": true, ...}); fingerprints
// are recomputed.
void apply_confirmed_values(ClusterLive& live, const ConfirmedValues& confirmed);

// Marks the plan's actions that are manual on their node (Action::manual).
void mark_manual_steps(Plan& plan, const ClusterLive& live, bool node_signs);

}  // namespace edgecert
