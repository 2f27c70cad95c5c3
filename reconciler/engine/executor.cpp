#include "reconciler/engine/executor.h"

#include "reconciler/engine/dry_run_runner.h"
#include "reconciler/engine/executor_run.h"

namespace edgecert {

using executor_detail::Run;

ApplyReport dry_run_plan(const Plan& plan, TimePoint now) {
  MemoryEnv memory(now);
  ApplyReport failed;
  failed.outcome = ApplyOutcome::kAborted;
  if (auto st = memory.create_dirs("/dry-run", 0700); !st) {
    failed.message = st.error().message;
    return failed;
  }
  Journal journal(memory, "/dry-run/journal.jsonl");
  std::vector<std::string> nodes;
  for (const auto& [name, snap] : plan.nodes) nodes.push_back(name);
  DryRunRunner runner(std::move(nodes));
  ExecutorContext context{memory, runner, journal, "dry-run"};
  return execute_plan(plan, context);
}

const char* apply_outcome_name(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::kComplete:
      return "complete";
    case ApplyOutcome::kWaiting:
      return "waiting";
    case ApplyOutcome::kFailed:
      return "failed";
    case ApplyOutcome::kAborted:
      return "aborted";
    case ApplyOutcome::kInterrupted:
      return "interrupted";
    case ApplyOutcome::kManual:
      return "manual";
  }
  return "?";
}

ApplyReport execute_plan(const Plan& plan, ExecutorContext& context) {
  Run run(plan, context);
  return run.go();
}

}  // namespace edgecert
