// apply: the whole of `edgecert apply` below the command line.
//
// From a spec: open the session, take the cluster lock, read the journal and
// the live state, plan (verifying first any restart an earlier run never
// verified), check the rollout window, ask for approval, close an unfinished
// earlier run, execute with the NodeRunner, keep the audit log. From a saved
// plan: the same, but refused when it is for another cluster, when the spec
// file or any node's live state changed since it was made, and unless the
// plan derived now from the spec and the live state is exactly the saved one
// (plan_differences: every action, field by field); what runs is the plan
// derived now, never the file's content. A JSON object without
// format_version is refused as neither a plan nor a spec.
//
// Change control (spec.rollout.changeControl, approval.h): a change ID the
// spec's pattern requires, from the saved plan or --change-id; with
// approvals required, only a saved plan approved by that many people for
// its current bytes runs. Refused before the lock: nothing changed. The
// audit log records the change ID and the approvers.
//
// Nothing is printed here: the caller is told through the callbacks (in this
// order: notices, the plan for approval, the start of execution, progress
// events)
// and renders the returned result. Any refusal before the first action leaves
// everything as it was: no node touched, no lock left.
//
// A stop request (ApplyRequest::stop) before execution ends apply with
// kInterrupted, nothing changed; during execution the executor stops after
// the action in flight (executor.h) and the report says kInterrupted. Either
// way the lock is released. Nodes, issuer and the node runner see the Env
// through a StoppableEnv, so their waits end early after a stop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/engine/executor.h"
#include "reconciler/engine/git_source.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/session.h"

namespace edgecert {

// One cluster's plan out of a fleet plan file (fleet_plan.h), applied as a
// saved plan is: the file is not read again for it.
struct SavedPlanEntry {
  nlohmann::json plan;  // the cluster's plan, as plan --out writes one
  std::string sha256;   // of the whole file's bytes: what approvals are bound to
  std::string name;     // how messages name it: "fleet.json, cluster 'tokyo'"
};

struct ApplyRequest {
  std::string input;  // a spec file, or a plan saved by `plan --out`
  // Set: `input` is a fleet plan file and this is the cluster's plan in it;
  // its approvals are `input`'s (PLAN.approvals.json, bound to `sha256`).
  std::optional<SavedPlanEntry> saved_plan;
  SessionOptions options;
  bool ignore_windows = false;
  // How long to wait for a lock another run holds (0: refuse at once).
  std::chrono::milliseconds lock_timeout{0};
  // Set when apply is to stop early (Ctrl-C); see above.
  StopToken stop;
  // Notices for people ("Resuming: ...", "edge1: unreachable; waiting ...").
  std::function<void(const std::string&)> notice;
  // A plan made now (not a saved one) is shown here before anything is
  // changed; return false to cancel (nothing is changed). Unset: approved.
  std::function<bool(const Plan&)> approve;
  // Called once, right before the first action runs.
  std::function<void()> on_execute;
  // Typed progress (progress.h): the executor's run and action events, and a
  // heartbeat at least every kHeartbeatInterval of the Env's clock while an
  // action (or the wait for a node before planning) waits. May be called
  // from more than one thread; the caller serialises its output.
  std::function<void(const ProgressEvent&)> progress;
  // Manual steps (executor.h): --confirm-manual takes the steps an earlier
  // run stopped at (its manual-wait entries) that the nodes cannot show as
  // done; `manual_prompt` (a terminal) is asked when the run reaches manual
  // steps not done yet. Unset: the run stops there (ApplyOutcome::kManual).
  bool confirm_manual = false;
  std::function<ManualAnswer(const std::vector<ManualWait>&)> manual_prompt;
  // --change-id: the change this run is for; a saved plan's own change_id
  // is used when this is unset, and must agree when it is set.
  std::optional<std::string> change_id;
  // --require-clean: refuse unless the spec is committed and its working
  // tree has no uncommitted change to a tracked file (vcs.h).
  bool require_clean = false;
  // --git REPO --ref REF [--path DIR] (git_source.h): `input` names the spec
  // in that commit's tree, relative to DIR. A saved plan made from git is
  // applied from its own repository and ref, or from the ones given here
  // (a plan reviewed on a pull request's head, applied from main after the
  // merge): refused when the spec there differs from the plan's, naming
  // both commits. After the run its outcome is added to the commit's note
  // in refs/notes/edgecert: at once in a repository on this machine, in a
  // remote one only with `push_note`.
  struct Git {
    std::string repository;  // "" = the saved plan's
    std::string ref;         // "" = the saved plan's
    std::string path;
  };
  std::optional<Git> git;
  bool push_note = false;
  // Tests: the repository specs come from (instead of libgit2's).
  std::shared_ptr<SpecRepository> git_repository;
  // Tests: called after each journal write; false stops the run as if killed.
  std::function<bool(long seq)> after_journal_write;
};

enum class ApplyStatus {
  kRefused,      // stopped before touching anything; see error (and details)
  kCancelled,    // approval refused; nothing changed
  kInterrupted,  // a stop was requested before execution began; nothing changed
  kNoChanges,    // the live state matches the spec (an unfinished earlier run was closed)
  kExecuted,     // the plan ran; see report
};

struct ApplyResult {
  ApplyStatus status = ApplyStatus::kRefused;
  std::vector<Diagnostic> diagnostics;  // the spec's (warnings, or why it did not load)
  std::vector<std::string> warnings;    // other warnings for people
  std::optional<Error> error;           // kRefused: why
  // kRefused because the saved plan is stale or altered (its spec or a
  // node changed since, or the plan derived now differs from it).
  bool stale_plan = false;
  std::vector<std::string> details;   // kRefused: one line each (e.g. what changed)
  Plan plan;                          // what was (or would have been) applied
  std::optional<ApplyReport> report;  // kExecuted
  // kExecuted from a git ref: what became of its note (git_source.h), for
  // people; `git_note_error` when it could not be written or pushed.
  std::optional<std::string> git_note;
  std::optional<Error> git_note_error;
};

ApplyResult apply(Env& env, const ApplyRequest& request);

// A file that starts like a JSON plan ('{') but does not parse as JSON (a
// truncated or hand-edited plan): the message, naming the file and the byte;
// nullopt for anything else. YAML would otherwise read it as a broken spec.
std::optional<std::string> broken_json_plan(Env& env, const std::string& path);

// A saved plan is JSON with a format_version; anything else is a spec.
// `sha256`, when given, receives the SHA-256 (hex) of the bytes read: what
// approvals are bound to (approval.h).
std::optional<nlohmann::json> read_saved_plan(Env& env, const std::string& path,
                                              std::string* sha256 = nullptr);

}  // namespace edgecert
