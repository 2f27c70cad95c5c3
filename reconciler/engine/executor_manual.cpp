// Manual steps in the executor (executor.h): checked on the node, never sent
// to it; a run stops cleanly (or asks) before the ones not done.
#include "reconciler/engine/executor_run.h"

namespace edgecert::executor_detail {

Run::Settled Run::run_manual(size_t first, size_t& handled) {
  std::vector<ManualWait> open;
  std::set<std::string> open_ids;
  size_t k = first;
  for (; k < plan_.actions.size() && plan_.actions[k].manual; ++k) {
    const Action& a = plan_.actions[k];
    if (std::any_of(a.depends_on.begin(), a.depends_on.end(),
                    [&](const std::string& d) { return open_ids.count(d) > 0; }))
      break;  // after an earlier step of this visit: next time
    if (auto missing = undone_dependency(a)) {
      if (!open.empty()) break;
      return refuse_undone(a, *missing) ? Settled::kStop : Settled::kAborted;
    }
    std::optional<ManualWait> wait;
    if (Settled st = check_manual(a, /*operator_done=*/false, wait); st != Settled::kContinue)
      return st;
    if (wait) {
      open.push_back(*wait);
      open_ids.insert(a.id);
    }
  }
  handled = k - first;
  if (open.empty()) return Settled::kContinue;
  for (const ManualWait& w : open) {
    json data = {{"step", manual_step_key(*w.action)},
                 {"instruction", manual_instruction_line(*w.action)},
                 {"check", w.instruction.check},
                 {"now", w.now}};
    if (!journal(JournalEvent::kManualWait, w.action, w.now, data)) return Settled::kAborted;
    announce_manual(w);
  }
  while (ctx_.manual_prompt) {
    ManualAnswer answer = ctx_.manual_prompt(open);
    if (ctx_.stop.stop_requested() || answer == ManualAnswer::kStop) break;
    std::vector<ManualWait> still;
    for (const ManualWait& w : open) {
      std::optional<ManualWait> again;
      if (Settled st = check_manual(*w.action, /*operator_done=*/true, again);
          st != Settled::kContinue)
        return st;
      if (again) {
        announce_manual(*again);
        still.push_back(*again);
      }
    }
    open = std::move(still);
    if (open.empty()) return Settled::kContinue;
  }
  std::set<std::string> nodes;
  for (const ManualWait& w : open) nodes.insert(w.action->node);
  if (ctx_.stop.stop_requested()) {
    report_.next_steps.push_back(
        "manual steps were waiting: any of them you already did by hand is checked by the next "
        "apply, which goes on from there; to abandon the change instead, set them back as they "
        "were");
    return interrupted("while waiting for manual steps") ? Settled::kStop : Settled::kAborted;
  }
  report_.outcome = ApplyOutcome::kManual;
  report_.message = fmt::format("waiting for {} manual step{} on {}", open.size(),
                                open.size() == 1 ? "" : "s", fmt::join(nodes, ", "));
  bool unverifiable = false;
  for (const ManualWait& w : open) {
    report_.next_steps.push_back(fmt::format(
        "{} (edgecert checks: {})", manual_instruction_line(*w.action), w.instruction.check));
    unverifiable = unverifiable || !w.instruction.verifiable;
  }
  // The spec, not a saved plan: the steps change the live state the plan saw.
  const std::string again = fmt::format(
      "edgecert apply {}", plan_.spec_path.empty() ? std::string("SPEC") : plan_.spec_path);
  report_.next_steps.push_back(
      unverifiable ? fmt::format("when done, run '{} --confirm-manual' (steps the nodes cannot "
                                 "show are taken as done only then); it checks the others and "
                                 "goes on",
                                 again)
                   : fmt::format("when done, run '{}' again: it checks the steps on the nodes "
                                 "and goes on",
                                 again));
  return Settled::kStop;
}

Run::Settled Run::check_manual(const Action& a, bool operator_done,
                               std::optional<ManualWait>& wait) {
  wait.reset();
  Attempt at;
  at.started = ctx_.env.now();
  auto c = ctx_.runner.check_manual(a);
  const bool confirmed = c && c->state == ManualCheck::State::kUnverifiable &&
                         (operator_done || ctx_.confirmed_manual.count(manual_step_key(a)) > 0);
  if (c && c->state != ManualCheck::State::kDone && !confirmed) {
    wait = ManualWait{&a, manual_instruction(a), c->message};
    return Settled::kContinue;
  }
  if (!c) {
    at.result = std::unexpected(c.error());
  } else if (confirmed) {
    Status st = ctx_.runner.record_confirmation(a);
    at.result = st ? Result<ActionOutput>(ActionOutput{
                         operator_done ? "confirmed by the operator (answered 'done')"
                                       : "confirmed by the operator (--confirm-manual)"})
                   : Result<ActionOutput>(std::unexpected(st.error()));
  } else {
    at.result = ActionOutput{"verified: " + c->message};
  }
  if (!journal(JournalEvent::kActionStart, &a, a.reason, start_data(a))) return Settled::kAborted;
  progress(a, ProgressKind::kActionStart, a.reason);
  at.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.env.now() - at.started);
  bool waiting = false;
  return settle(a, at, waiting);
}

void Run::announce_manual(const ManualWait& w) {
  if (!ctx_.progress) return;
  ProgressEvent e =
      action_event(*w.action, ProgressKind::kManual, manual_instruction_line(*w.action));
  e.manual_page = w.instruction.page;
  e.manual_settings = w.instruction.settings;
  e.manual_check = w.instruction.check;
  e.manual_verifiable = w.instruction.verifiable;
  e.manual_now = w.now;
  ctx_.progress(e);
}

}  // namespace edgecert::executor_detail
