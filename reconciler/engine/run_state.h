// What a cluster's state folder says about runs, for `plan` and `status`:
// who holds the lock, an unfinished run the next apply resumes, and nodes
// whose cluster TLS verification an edgecert run relaxed and never restored.
// Read-only; results, never printing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconciler/engine/journal.h"
#include "reconciler/engine/lock.h"
#include "schema/spec.h"

namespace edgecert {

struct UnfinishedRun {
  std::string run_id;
  TimePoint started;
  size_t actions_done = 0;
  size_t actions_planned = 0;  // from the run-start entry (0: not recorded)
};

// A node an edgecert run set to permissive (a relax action done) with no
// later set-tls-verification to another mode done.
struct TlsRelaxed {
  std::string node;
  std::string run_id;
  TimePoint since;
};

// A manual step the last run stopped at (its run-end says "manual").
struct ManualStepWaiting {
  std::string run_id;
  TimePoint since;
  std::string node;
  std::string instruction;  // "edge1: System > Clustering: TLS verification mode = ..., Save"
};

struct RunState {
  std::optional<LockInfo> lock;
  // The lock in the spec's rollout.lockRepository (git_lock.h), when it
  // names one and a run holds it; `git_lock_where` names the repository.
  std::optional<LockInfo> git_lock;
  std::string git_lock_where;
  std::optional<UnfinishedRun> unfinished;
  std::vector<TlsRelaxed> relaxed;  // journal order of the relax
  std::vector<ManualStepWaiting> manual_waiting;
  // The newest run-end entry: when the last finished run ended and how
  // (`message`: complete, failed, interrupted, waiting, manual, ...).
  std::optional<JournalEntry> last_end;
  std::vector<std::string> problems;  // an unreadable lock file or journal
};

// The journal's view alone (testable without files).
std::optional<UnfinishedRun> unfinished_run(const std::vector<JournalEntry>& entries);
std::vector<TlsRelaxed> tls_relaxed_by_runs(const std::vector<JournalEntry>& entries);
// The manual steps the last run stopped at; empty when it ended otherwise.
std::vector<ManualStepWaiting> manual_steps_waiting(const std::vector<JournalEntry>& entries);

// The newest run-end entry, if any.
std::optional<JournalEntry> last_run_end(const std::vector<JournalEntry>& entries);

// Reads <state_dir>/lock.json and journal.jsonl (both may be missing), and
// with a `spec` whose rollout.lockRepository is set, the lock there (a
// repository that cannot be read is a problem, not an error).
RunState read_run_state(Env& env, const std::string& state_dir, const spec::Spec* spec = nullptr);

// One line each for people: the lock, the unfinished run, the manual steps
// the last run stopped at, and per relaxing
// run "cluster TLS verification relaxed since TIME by run ID (edge1, edge2
// permissive)" for the nodes of `permissive_now` (live state) it relaxed.
std::vector<std::string> describe_run_state(const RunState& state,
                                            const std::vector<std::string>& permissive_now);

}  // namespace edgecert
