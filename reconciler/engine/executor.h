// The apply engine: runs a Plan against the nodes.
//
// Contract:
// - Actions run in plan order, one at a time, except consecutive
//   generate-csr / sign-csr actions (nothing disrupted, one node each; not
//   acme-sign, whose http-01 challenges involve every peer): those run in
//   waves of up to runner.concurrency() at once, each wave the longest run
//   of them whose dependencies are done. The journal, the audit log and the
//   progress lines still come out in plan order (a wave's action-starts,
//   then its outcomes), written from one thread.
// - Before an action touches anything, "action-start" is in the journal
//   (fsynced); after its effect is confirmed, "action-done" (with any public
//   output the rest of the run needs, e.g. a signed chain). If a journal write
//   fails the engine stops at once and does nothing more: it can no longer
//   record what it does, exactly as if the process had been killed there.
// - The first failing action stops the rollout: no further node is touched.
//   Then cluster TLS verification is restored to the spec's value when
//   nothing that changes what a node serves (restart, ACME deploy) started
//   since this run relaxed it, or else when every node serves a valid
//   certificate; the report says which node is in which state and what to
//   do next.
// - An issuer that must wait (external) stops the run cleanly before any node
//   is disrupted (signing precedes every upload in a plan).
// - An action runs only when every action it depends on is done in this run;
//   otherwise the run stops before it (kFailed), nothing more is touched.
// - Every wait goes through Env::sleep_for; every side effect through the
//   ActionRunner (runner.h): the NodeRunner for apply, the DryRunRunner for
//   plan and tests. The rules above are the executor's alone.
// - A manual step (Action::manual) is never sent to the node: the runner
//   checks what the node shows (check_manual). Done: journalled as done
//   ("verified: ..."). Not done: the run of consecutive manual steps from
//   there (up to one that depends on another not done) is journalled
//   (manual-wait) and reported (progress kManual), and the run stops cleanly
//   (kManual) — or, with a manual_prompt, waits for the operator and checks
//   again. A step the node cannot show needs the operator's confirmation
//   (confirmed_manual, or "done" at the prompt); the runner then records its
//   value. Stopping for a manual step restores nothing: the operator is in
//   the middle of the change procedure (a manual relax of TLS verification
//   comes right before the first disruptive action, as an automatic one).
// - A stop request (ExecutorContext::stop: Ctrl-C, SIGTERM) lets the action in
//   flight finish or fail on its own (its waits end early: the runner is given
//   a StoppableEnv), journals it, starts no further action, restores TLS
//   verification as after a failure, and ends the run as kInterrupted.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reconciler/engine/cancel.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/journal.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/progress.h"
#include "reconciler/engine/runner.h"

namespace edgecert {

// A manual step the run reached and the operator has not done yet.
struct ManualWait {
  const Action* action = nullptr;
  ManualInstruction instruction;
  std::string now;  // what the node shows now, e.g. "alarm 40049 absent: ..."
};
enum class ManualAnswer {
  kDone,  // the operator says the steps are done: check again, confirm what cannot be checked
  kStop,  // stop here (ApplyOutcome::kManual)
};

struct ExecutorContext {
  ExecutorContext(Env& e, ActionRunner& r, Journal& j, std::string run)
      : env(e), runner(r), journal(j), run_id(std::move(run)) {}

  Env& env;  // the clock (windows, timings) and sleeping between retries
  ActionRunner& runner;
  Journal& journal;
  std::string run_id;
  // sign-csr goes to an ACME CA (issuer acme): every attempt is a new order
  // against its rate limits, so it is not retried within the run.
  bool signs_through_acme = false;
  // End of the rollout window apply started in (unset: no windows, or
  // --ignore-windows). No window-gated action (restart, ACME deploy) begins at
  // or after it: the run stops cleanly (kWaiting) and the next window's apply
  // resumes.
  std::optional<TimePoint> window_closes;
  // Set when the run is to stop early (see the contract above). Backoff
  // between retries ends early too.
  StopToken stop;
  // Manual steps (Action::manual). Keys (manual_step_key) of the steps the
  // operator confirmed on the command line (--confirm-manual): a step the
  // node cannot show is taken as done only when it is among them.
  std::set<std::string> confirmed_manual;
  // Set (a terminal): called when the run reaches manual steps not done yet,
  // after they are journalled and reported; kDone checks them again (what
  // cannot be checked counts as confirmed) and asks again while a checkable
  // one is still not done. Unset, or kStop: the run stops (kManual).
  std::function<ManualAnswer(const std::vector<ManualWait>&)> manual_prompt;
  // Typed progress (progress.h): run-start, then per action start and
  // done/failed/waiting, and retries; progress_line() renders one for people
  // ("[2/3 edge2] restart: node went down (0.4s)"). Heartbeats come from the
  // waits themselves (heartbeat.h), not from here.
  std::function<void(const ProgressEvent&)> progress;
  // Called after each journal write with its sequence number (tests kill the
  // run there); returning false stops the run as if killed.
  std::function<bool(long seq)> after_journal_write;
  // Audit hook: one call per finished action (id, node, kind, outcome, message).
  std::function<void(const Action&, const std::string& outcome, const std::string& message,
                     TimePoint started, TimePoint finished)>
      audit;
};

enum class ApplyOutcome {
  kComplete,     // every action done
  kWaiting,      // stopped cleanly: an issuer is waiting for a certificate
  kFailed,       // an action failed; rollout stopped
  kAborted,      // a journal write failed / the run was killed: nothing more was done
  kInterrupted,  // a stop was requested: the action in flight ended, no other began
  kManual,       // stopped cleanly before manual steps the operator has not done yet
};
const char* apply_outcome_name(ApplyOutcome o);

struct ApplyReport {
  ApplyOutcome outcome = ApplyOutcome::kComplete;
  size_t actions_done = 0;
  std::string failed_action;             // id
  std::string message;                   // the error or waiting message
  std::vector<std::string> node_report;  // "edge1: serving ... (verified)"
  std::vector<std::string> next_steps;
};

ApplyReport execute_plan(const Plan& plan, ExecutorContext& context);

// Walks `plan` through the executor with a DryRunRunner and an in-memory
// journal: every action's dependencies come earlier and are done, so apply
// can run it. The report's outcome is kComplete for a runnable plan; any
// other outcome names the action that could not run.
ApplyReport dry_run_plan(const Plan& plan, TimePoint now);

// A verify-served action for `node` (resume: a restart never verified).
Action resume_verify_action(const std::string& node, const std::string& fqdn);

// Signed chains recorded in the journal (sign-csr action-done entries of any
// run), keyed by the CSR's SHA-256: a CSR still pending on a node is never
// signed twice. A later failed sign-csr of the same node (a chain refused by
// the Expressway checks, a CSR replaced) drops that node's chains: they are
// never replayed again.
std::map<std::string, std::vector<std::string>> signed_chains_from_journal(
    const std::vector<JournalEntry>& entries);

// Nodes whose last restart (started or done, in any run) was never followed by
// a successful verify-served: the next apply verifies them first.
std::vector<std::string> unverified_restarts(const std::vector<JournalEntry>& entries);

}  // namespace edgecert
