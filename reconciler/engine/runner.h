// ActionRunner: the seam between the executor and what actions touch.
//
// The executor (executor.h) owns the rules of a rollout: order and
// dependencies, the journal, retries, rollout windows, the waiting issuer,
// recovery after a failure. A runner only performs. `apply` runs a plan with
// the NodeRunner (node_runner.h: nodes and the issuer); `plan` and the engine's
// tests walk the very same executor with the DryRunRunner (dry_run_runner.h),
// which touches nothing — ninja's DryRunCommandRunner idea.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/error.h"
#include "reconciler/engine/action.h"
#include "reconciler/engine/manual_steps.h"

namespace edgecert {

// What one action produced.
struct ActionOutput {
  std::string message;                             // one line for people
  nlohmann::json data = nlohmann::json::object();  // public data for the journal
  bool waiting = false;  // an issuer is waiting for a certificate; nothing was changed
};

// After a failure: whether cluster TLS verification can be restored.
struct RecoveryAssessment {
  // Nodes not serving a valid certificate (or unreadable). Non-empty: the
  // cluster stays as it is (permissive keeps it talking).
  std::vector<std::string> not_valid;
  // Nodes whose TLS verification differs from the spec's value.
  std::vector<std::string> to_restore;
  std::string restore_to;  // the spec's value, for messages ("enforce")
};

class ActionRunner {
 public:
  virtual ~ActionRunner() = default;

  // Performs `action` once. A transient failure is kUnavailable (the executor
  // decides about retrying); every handler re-reads what it changes, so a
  // retry after a lost reply does not do the work twice. Errors name the node
  // and the action.
  // With concurrency() > 1 the executor calls run() from several threads at
  // once, for generate-csr and sign-csr actions only (never two on the same
  // node at once: a node's CSR comes before its signature);
  // every other call comes from one thread, with no run() in flight.
  virtual Result<ActionOutput> run(const Action& action) = 0;

  // How many actions run() may perform at once (see run()); 1: not
  // thread-safe, the executor runs one action at a time.
  virtual size_t concurrency() const { return 1; }

  // A manual step (Action::manual; the node has no interface for it): what
  // the node shows now (manual_steps.h, check_manual_step). Never changes
  // anything. An error: the node could not be read.
  virtual Result<ManualCheck> check_manual(const Action& action) = 0;
  // The operator confirmed a manual step nothing on the node shows: remember
  // the value it set (the CRL settings, the manual CRL) as the node's live
  // value from now on.
  virtual Status record_confirmation(const Action&) { return {}; }

  // After a restart's reply was lost: the message to record when the node is
  // seen to have restarted anyway (down, or back with the staged certificate
  // active); nullopt when it cannot tell (the executor retries).
  virtual std::optional<std::string> restart_happened(const Action& action) = 0;

  virtual RecoveryAssessment assess_recovery() = 0;
  // Sets `node`'s cluster TLS verification back to the spec's value.
  virtual Status restore_tls_verification(const std::string& node) = 0;

  // One line per node for the end-of-run report ("edge1: serving ...").
  virtual std::vector<std::string> describe_nodes() = 0;
};

}  // namespace edgecert
