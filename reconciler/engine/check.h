// `edgecert check`: what monitoring needs to know about a cluster — drift
// from the spec, when certificates expire and are due for renewal, the
// node's alarms, the lock, the last apply — and its Prometheus text form for
// node_exporter's textfile collector (docs/monitoring.md). Read-only: the
// summary is built from a live state, a plan and a run state the caller
// already read; nothing here talks to a node.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/error.h"
#include "reconciler/engine/action.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/run_state.h"
#include "schema/spec.h"

namespace edgecert {

struct NodeCheck {
  std::string node;                    // peer name
  std::optional<std::string> error;    // why the node could not be read
  std::optional<TimePoint> not_after;  // the served leaf's, when the node serves one
  std::optional<TimePoint> renewal_due;
  bool renewal_is_due = false;      // renewal_due has passed
  std::vector<ActionKind> drift;    // kinds the plan has for the node: ActionKind order, unique
  std::vector<std::string> alarms;  // ids of the alarms the node raises, sorted, unique
};

struct ClusterCheck {
  std::string spec_path;  // as given
  std::string cluster;    // metadata.name; empty when the spec did not load
  TimePoint checked_at;
  std::vector<NodeCheck> nodes;  // spec peer order
  // What kept the check from being complete: an unreadable node, a plan
  // that could not be made, an unreadable lock or journal, a spec that did
  // not load. Drift is only known (`plan_known`) when a plan was made.
  std::vector<std::string> errors;
  bool plan_known = false;
  bool lock_held = false;
  std::optional<TimePoint> last_apply;  // the newest run-end
  std::string last_apply_outcome;       // its message: "complete", "failed", ...

  bool complete() const { return errors.empty(); }
  // Any node drifts or is due for renewal.
  bool needs_apply() const;
};

// The check of a loaded cluster. `plan` is the plan made from `live` (an
// error when none could be made, or nullopt when the live state was
// incomplete and no plan was tried).
ClusterCheck summarize_check(const std::string& spec_path, const spec::Spec& spec,
                             const ClusterLive& live, const std::optional<Result<Plan>>& plan,
                             const RunState& run_state, TimePoint now);

// The check of a spec that did not load (`error` says why).
ClusterCheck failed_check(const std::string& spec_path, std::string error, TimePoint now);

// The Prometheus text exposition format (version 0.0.4) of every check: one
// HELP and TYPE line per metric, then its samples, clusters in the order
// given. Every sample is labelled by cluster (and node where it belongs to
// one); edgecert_check_success also by spec so a spec that did not load is
// still seen. Metrics and labels: docs/monitoring.md.
std::string check_metrics_text(const std::vector<ClusterCheck>& checks);

// {"cluster", "spec", "status": "in-sync"|"needs-apply"|"error", ...}
// (docs/monitoring.md).
nlohmann::json check_to_json(const ClusterCheck& check);

}  // namespace edgecert
