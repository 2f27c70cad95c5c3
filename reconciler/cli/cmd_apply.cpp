// `edgecert apply SPEC|PLANFILE`: take the cluster to the spec.
//
// With a spec: lock, read live state, plan, show it, ask for approval
// ("Only 'yes' will be accepted"; --auto-approve skips; no terminal and no
// --auto-approve refuses), execute. With a saved plan: apply exactly it, but
// only if neither the spec file nor any node's live state changed since the
// plan was made — otherwise refuse and say what changed, per node and field.
#include <filesystem>
#include <random>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/pki/checks.h"
#include "reconciler/cli/cli.h"
#include "reconciler/engine/executor.h"
#include "reconciler/engine/journal.h"
#include "reconciler/engine/lock.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/vcs.h"
#include "reconciler/engine/windows.h"

namespace edgecert {
namespace {

std::string new_run_id(TimePoint now) {
  std::random_device rd;
  return fmt::format(
      "{}-{:06x}", std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
      rd() & 0xffffff);
}

// A saved plan is JSON with a format_version; anything else is a spec.
std::optional<nlohmann::json> as_plan_file(Env& env, const std::string& path) {
  auto text = env.read_file(path);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format_version")) return std::nullopt;
  return j;
}

}  // namespace

std::function<int()> setup_apply(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string input;
    bool auto_approve = false;
    bool ignore_windows = false;
    NodeOptions node;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC_OR_PLAN", o->input, "Spec file, or a plan saved by 'edgecert plan --out'")
      ->required();
  app.add_flag("--auto-approve", o->auto_approve, "Do not ask for approval");
  app.add_flag("--ignore-windows", o->ignore_windows,
               "Apply even outside the spec's rollout windows");
  add_node_options(app, o->node, true);

  return [o, &ctx]() -> int {
    auto saved = as_plan_file(ctx.env, o->input);
    std::optional<Plan> saved_plan;
    std::string spec_path = o->input;
    if (saved) {
      auto p = plan_from_json(*saved, o->input);
      if (!p) {
        ctx.err << "edgecert: error: " << p.error().message << "\n";
        return kExitError;
      }
      saved_plan = std::move(*p);
      // The path as given works when apply runs where plan ran (the CI
      // case); the absolute one when it does not.
      spec_path = ctx.env.exists(saved_plan->spec_path) ? saved_plan->spec_path
                                                        : saved_plan->spec_absolute_path;
      if (!o->node.targets.empty() || !o->node.excludes.empty()) {
        ctx.err << "edgecert: error: --target/--exclude cannot change a saved plan; plan again "
                   "with them\n";
        return kExitError;
      }
      o->node.targets = saved_plan->targets;
    }

    auto session = open_session(spec_path, o->node, ctx);
    if (!session) return kExitError;
    Session& s = *session;

    if (saved_plan && saved_plan->spec_sha256 != s.spec_sha256) {
      ctx.err << fmt::format(
          "edgecert: error: the plan is stale: {} changed since the plan was made (sha256 {} -> "
          "{}); nothing was changed. Plan again.\n",
          spec_path, saved_plan->spec_sha256.substr(0, 16), s.spec_sha256.substr(0, 16));
      return kExitError;
    }

    auto lock = ClusterLock::acquire(ctx.env, s.state_dir, "apply", current_process(ctx.env));
    if (!lock) {
      ctx.err << "edgecert: error: " << lock.error().message << "\n";
      return kExitError;
    }

    Journal journal(ctx.env, path_join(s.state_dir, "journal.jsonl"));
    auto entries = journal.read_all();
    if (!entries) {
      ctx.err << "edgecert: error: " << entries.error().message
              << "\nedgecert: error: refusing to touch the cluster until the journal is looked "
                 "at\n";
      return kExitError;
    }
    std::optional<RunRecord> unfinished;
    if (auto last = last_run(*entries); last && !last->finished) unfinished = last;

    auto live = read_live(s, ctx, /*wait_for_unavailable=*/true);
    if (!live) return kExitError;

    Plan plan;
    if (saved_plan) {
      // Staleness: every node's live state must be what the plan saw.
      std::vector<std::string> changes;
      for (const auto& [name, snap] : saved_plan->nodes) {
        const NodeLive* now = live->find(name);
        if (!now) {
          changes.push_back(name + ": no longer a peer of the spec");
          continue;
        }
        if (now->fingerprint == snap.fingerprint) continue;
        auto fields = summary_changes(snap.summary, now->summary);
        if (fields.empty())  // an edited plan, or a summary of another version
          changes.push_back(name + ": live state fingerprint differs from the plan's");
        for (const auto& c : fields) changes.push_back(name + ": " + c);
      }
      if (!changes.empty()) {
        ctx.err << "edgecert: error: the plan is stale: the live state changed since the plan "
                   "was made; nothing was changed. Plan again. Changes:\n";
        for (const auto& c : changes) ctx.err << "  " << c << "\n";
        return kExitError;
      }
      plan = std::move(*saved_plan);
    } else {
      auto p = make_plan(s, *live, ctx);
      if (!p) return kExitError;
      plan = std::move(*p);
    }

    if (unfinished)
      ctx.out << fmt::format(
          "Resuming: the previous run {} did not finish; the plan below was made from the live "
          "state now, so finished work is not repeated.\n",
          unfinished->run_id);
    {
      // A restart whose result was never verified (in any earlier run) is
      // verified first.
      std::vector<Action> checks;
      for (const auto& node : unverified_restarts(*entries)) {
        if (!s.spec.find_peer(node)) continue;
        bool planned = std::any_of(plan.actions.begin(), plan.actions.end(), [&](const Action& a) {
          return a.node == node && a.kind == ActionKind::kVerifyServed;
        });
        if (planned) continue;
        Action v;
        v.id = node + "/verify-served/resume";
        v.node = node;
        v.kind = ActionKind::kVerifyServed;
        v.reason = "the interrupted run restarted this node but never verified what it serves";
        v.params = {{"fqdn", s.spec.find_peer(node)->fqdn}};
        checks.push_back(std::move(v));
      }
      plan.actions.insert(plan.actions.begin(), checks.begin(), checks.end());
    }

    if (plan.empty()) {
      ctx.out << render_plan_text(plan);
      if (unfinished) {
        JournalEntry end;
        end.run_id = unfinished->run_id;
        end.event = JournalEvent::kRunEnd;
        end.message = "closed: a later apply found the live state matching the spec";
        if (auto st = journal.append(end); !st)
          ctx.err << "edgecert: warning: could not close the earlier run in the journal: "
                  << st.error().message << "\n";
      }
      return kExitOk;
    }

    std::optional<TimePoint> window_closes;
    if (!s.spec.rollout.windows.empty() && !o->ignore_windows) {
      auto ws = window_status(s.spec.rollout.windows, ctx.env.now());
      if (!ws) {
        ctx.err << "edgecert: error: " << ws.error().message << "\n";
        return kExitError;
      }
      if (!ws->open) {
        ctx.err << "edgecert: error: outside the spec's rollout windows; nothing was changed.";
        if (ws->next_open)
          ctx.err << " The next window opens "
                  << format_in_zone(*ws->next_open, s.spec.rollout.windows.front().timezone) << ".";
        ctx.err << " Use --ignore-windows to apply anyway.\n";
        return kExitError;
      }
      window_closes = ws->closes;
    }

    if (!saved_plan) {
      ctx.out << render_plan_text(plan);
      if (!o->auto_approve) {
        if (!ctx.stdin_is_tty || !ctx.in) {
          ctx.err << "edgecert: error: approval needed but standard input is not a terminal; "
                     "review the plan and rerun with --auto-approve, or save it with 'edgecert "
                     "plan --out FILE' and apply that file\n";
          return kExitError;
        }
        ctx.out << "\nDo you want to perform these actions?\n"
                   "  edgecert will perform the actions described above.\n"
                   "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ";
        ctx.out.flush();
        std::string answer;
        std::getline(*ctx.in, answer);
        if (answer != "yes") {
          ctx.err << "\nApply cancelled; nothing was changed.\n";
          return kExitError;
        }
      }
    }

    // Audit context: spec digest and, when the spec is in git, the commit.
    auto vcs = make_git_vcs()->describe(s.spec.path);
    std::string audit_path = path_join(s.state_dir, "audit.jsonl");
    ProcessIdentity who = current_process(ctx.env);
    std::string run_id = new_run_id(ctx.env.now());

    ExecutorContext ec{ctx.env, s.spec, s.nodes, s.issuer.get(), s.trust, journal, run_id};
    ec.signed_chains = signed_chains_from_journal(*entries);
    ec.window_closes = window_closes;
    ec.progress = [&](const std::string& line) { ctx.out << line << "\n" << std::flush; };
    ec.audit = [&](const Action& a, const std::string& outcome, const std::string& message,
                   TimePoint started, TimePoint finished) {
      nlohmann::json j = {{"run", run_id},
                          {"cluster", s.spec.name},
                          {"action", a.id},
                          {"node", a.node},
                          {"kind", action_kind_name(a.kind)},
                          {"outcome", outcome},
                          {"message", message},
                          {"started", pki::format_time(started)},
                          {"finished", pki::format_time(finished)},
                          {"spec_sha256", s.spec_sha256},
                          {"user", who.user},
                          {"host", who.host}};
      if (vcs) {
        j["git_commit"] = vcs->commit;
        j["git_dirty"] = vcs->dirty;
      }
      if (auto st = ctx.env.append_file(audit_path, j.dump() + "\n", 0644); !st)
        ctx.err << "edgecert: warning: audit log: " << st.error().message << "\n";
    };
    if (unfinished) {
      JournalEntry end;
      end.run_id = unfinished->run_id;
      end.event = JournalEvent::kRunEnd;
      end.message = "superseded by run " + run_id;
      if (auto st = journal.append(end); !st) {
        ctx.err << "edgecert: error: " << st.error().message << "\n";
        return kExitError;
      }
    }

    ctx.out << "\n";
    ApplyReport report = execute_plan(plan, ec);
    // A run that could not write its journal died as far as anyone can tell:
    // its lock stays, so the next run has to look first.
    if (report.outcome == ApplyOutcome::kAborted) lock->keep();
    ctx.out << "\n";
    for (const auto& line : report.node_report) ctx.out << "  " << line << "\n";
    switch (report.outcome) {
      case ApplyOutcome::kComplete:
        ctx.out << fmt::format("\nApply complete: {} action{} done.\n", report.actions_done,
                               report.actions_done == 1 ? "" : "s");
        return kExitOk;
      case ApplyOutcome::kWaiting:
        ctx.out << "\nApply incomplete: waiting for signed certificates; nothing was disrupted.\n";
        for (const auto& n : report.next_steps) ctx.out << "  " << n << "\n";
        return kExitOk;
      case ApplyOutcome::kFailed:
      case ApplyOutcome::kAborted:
        ctx.err << fmt::format("\nedgecert: error: apply {}: {}\n",
                               apply_outcome_name(report.outcome), report.message);
        for (const auto& n : report.next_steps) ctx.err << "  " << n << "\n";
        return kExitError;
    }
    return kExitError;
  };
}

}  // namespace edgecert
