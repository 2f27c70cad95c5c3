// DryRunRunner: performs nothing, answers every action "done".
//
// Walks a plan through the real executor (dependencies, windows, journal
// ordering) without touching a node or an issuer: `edgecert plan` checks
// every plan it shows with it, and the engine's tests use it to test the
// executor's rules on their own. What it ran is kept, in order, in ran().
// One action at a time (concurrency() 1), so ran() is in plan order.
#pragma once

#include <string>
#include <vector>

#include "reconciler/engine/runner.h"

namespace edgecert {

class DryRunRunner : public ActionRunner {
 public:
  // `nodes`: the peers describe_nodes() reports on.
  explicit DryRunRunner(std::vector<std::string> nodes = {}) : nodes_(std::move(nodes)) {}

  Result<ActionOutput> run(const Action& action) override;
  // A manual step counts as done: the walk checks order and dependencies.
  Result<ManualCheck> check_manual(const Action& action) override;
  std::optional<std::string> restart_happened(const Action&) override { return std::nullopt; }
  RecoveryAssessment assess_recovery() override { return {}; }
  Status restore_tls_verification(const std::string&) override { return {}; }
  std::vector<std::string> describe_nodes() override;

  // Ids of the actions run, in order.
  const std::vector<std::string>& ran() const { return ran_; }

 private:
  std::vector<std::string> nodes_;
  std::vector<std::string> ran_;
};

}  // namespace edgecert
