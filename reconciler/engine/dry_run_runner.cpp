#include "reconciler/engine/dry_run_runner.h"

#include <fmt/core.h>

namespace edgecert {

Result<ActionOutput> DryRunRunner::run(const Action& action) {
  ran_.push_back(action.id);
  return ActionOutput{fmt::format("would {} (dry run)", action_kind_name(action.kind()))};
}

Result<ManualCheck> DryRunRunner::check_manual(const Action& action) {
  ran_.push_back(action.id);
  return ManualCheck{ManualCheck::State::kDone, "would check the manual step (dry run)"};
}

std::vector<std::string> DryRunRunner::describe_nodes() {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n + ": not touched (dry run)");
  return out;
}

}  // namespace edgecert
