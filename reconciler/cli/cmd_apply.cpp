// `edgecert apply SPEC|PLANFILE`: take the cluster to the spec.
//
// With a spec: lock, read live state, plan, show it, ask for approval
// ("Only 'yes' will be accepted"; --auto-approve skips; no terminal and no
// --auto-approve refuses), execute. With a saved plan: apply exactly it, but
// only if neither the spec file nor any node's live state changed since the
// plan was made — otherwise refuse and say what changed, per node and field.
// Progress: a line per action start and end and a heartbeat during waits; with
// --output json one JSON event per line instead (docs/apply-events.md).
//
// Manual steps (a node with no interface for an operation): apply stops
// before the first one not done yet, prints what to do in the web UI and
// exits 4; the next run checks them on the nodes and goes on
// (--confirm-manual confirms what a node cannot show). In a terminal (text
// output) it waits instead: "type done when finished".
//
// SIGINT/SIGTERM (interrupt.h): the run stops after the action in flight,
// restores TLS verification when every node serves a valid certificate,
// releases the lock, prints every node's state and exits 130 / 143.
//
// Many specs or folders (fleet_cli.h): each cluster is applied as one is,
// with its own lock and journal, one after another or up to
// --cluster-parallelism at once (every line then prefixed with its
// cluster); a failure stops that cluster only, unless --fail-fast (no
// cluster starts after it; those running finish). The end report is a table
// of clusters and outcomes; the exit status is the interruption's, else 1
// when any cluster failed or was refused, else 4 for a manual step, else 3
// for a wait, else 0.
#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "providers/base/time.h"
#include "reconciler/cli/apply_events.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/apply.h"
#include "reconciler/engine/fleet_plan.h"
#include "reconciler/engine/synchronized_env.h"

namespace edgecert {
namespace {

// The approval prompt, Terraform's words.
// Ctrl-C at the prompt ends the read (no SA_RESTART); apply then reports the
// interruption, so nothing more is said here.
bool ask_approval(const Plan& plan, bool auto_approve, CliContext& ctx,
                  const InterruptScope& interrupts) {
  ctx.out << render_plan_text(plan);
  if (auto_approve) return true;
  if (!ctx.stdin_is_tty || !ctx.in) {
    ctx.err << "edgecert: error: approval needed but standard input is not a terminal; "
               "review the plan and rerun with --auto-approve, or save it with 'edgecert "
               "plan --out FILE' and apply that file\n";
    return false;
  }
  ctx.out << "\nDo you want to perform these actions?\n"
             "  edgecert will perform the actions described above.\n"
             "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ";
  ctx.out.flush();
  std::string answer;
  std::getline(*ctx.in, answer);
  if (interrupts.signal() != 0) return false;
  if (answer != "yes") {
    ctx.err << "\nApply cancelled; nothing was changed.\n";
    return false;
  }
  return true;
}

// The terminal's answer for manual steps: "done" checks them again; anything
// else (or end of input, or Ctrl-C) stops the run (exit 4, or 130 on Ctrl-C).
ManualAnswer ask_manual(const std::vector<ManualWait>& steps, CliContext& ctx,
                        const InterruptScope& interrupts) {
  ctx.out << fmt::format("\nManual step{} to do now (these nodes have no interface for {}):\n",
                         steps.size() == 1 ? "" : "s", steps.size() == 1 ? "it" : "them");
  for (const ManualWait& w : steps) {
    ctx.out << fmt::format("  {}: {} ({})\n", w.action->node, w.instruction.page, w.action->id);
    for (const auto& setting : w.instruction.settings) ctx.out << "      " << setting << "\n";
    ctx.out << "    edgecert checks: " << w.instruction.check << "\n";
    if (w.instruction.verifiable)
      ctx.out << "    the node shows now: " << w.now << "\n";
    else
      ctx.out << "    " << w.now << ": typing 'done' confirms it\n";
  }
  ctx.out << "\n  Type 'done' when finished (anything else stops here; run apply again later): ";
  ctx.out.flush();
  std::string answer;
  if (!std::getline(*ctx.in, answer) || interrupts.signal() != 0) return ManualAnswer::kStop;
  return answer == "done" ? ManualAnswer::kDone : ManualAnswer::kStop;
}

// "3 actions done".
std::string actions_done(const ApplyReport& report) {
  return fmt::format("{} action{} done", report.actions_done, report.actions_done == 1 ? "" : "s");
}

// `interrupted_exit`: the exit status after a stop request (128 + signal).
int render(const ApplyResult& r, CliContext& ctx, int interrupted_exit) {
  for (const std::string& w : r.warnings) ctx.err << "edgecert: warning: " << w << "\n";
  switch (r.status) {
    case ApplyStatus::kRefused:
      if (r.error) ctx.err << "edgecert: error: " << r.error->message << "\n";
      for (const auto& d : r.details) ctx.err << "  " << d << "\n";
      return kExitError;
    case ApplyStatus::kCancelled:
      return kExitError;
    case ApplyStatus::kInterrupted:
      // It may have been waiting for another run's lock: that one is left
      // alone; only a lock this run took is gone.
      ctx.err << "\nedgecert: apply interrupted before any change; nothing was changed, and no "
                 "lock of this run remains.\n";
      return interrupted_exit;
    case ApplyStatus::kNoChanges:
      ctx.out << render_plan_text(r.plan);
      return kExitOk;
    case ApplyStatus::kExecuted:
      break;
  }
  const ApplyReport& report = *r.report;
  ctx.out << "\n";
  for (const auto& line : report.node_report) ctx.out << "  " << line << "\n";
  switch (report.outcome) {
    case ApplyOutcome::kComplete:
      ctx.out << fmt::format("\nApply complete: {}.\n", actions_done(report));
      return kExitOk;
    case ApplyOutcome::kWaiting:
      // Not done and not failed: its own exit status, so CI can tell.
      ctx.out << fmt::format("\nApply incomplete: {}.\n", report.message);
      for (const auto& n : report.next_steps) ctx.out << "  " << n << "\n";
      return kExitWaiting;
    case ApplyOutcome::kManual:
      ctx.out << fmt::format("\nApply stopped for manual steps: {} ({}).\n", report.message,
                             actions_done(report));
      for (const auto& n : report.next_steps) ctx.out << "  " << n << "\n";
      return kExitManual;
    case ApplyOutcome::kInterrupted:
      ctx.err << fmt::format("\nedgecert: apply {} ({}); the lock is released.\n", report.message,
                             actions_done(report));
      for (const auto& n : report.next_steps) ctx.err << "  " << n << "\n";
      return interrupted_exit;
    case ApplyOutcome::kFailed:
    case ApplyOutcome::kAborted:
      ctx.err << fmt::format("\nedgecert: error: apply {}: {}\n",
                             apply_outcome_name(report.outcome), report.message);
      for (const auto& n : report.next_steps) ctx.err << "  " << n << "\n";
      return kExitError;
  }
  return kExitError;
}

// The note of an apply from git: a line saying where it went, or an error
// that makes the exit status 1 (the run itself is over: its record is in
// the audit log, and the note can be added by hand).
int render_git_note(const ApplyResult& r, CliContext& ctx, int rc, bool json = false) {
  if (r.git_note && !json) ctx.out << "Git: " << *r.git_note << "\n";
  if (!r.git_note_error) return rc;
  ctx.err << fmt::format(
      "edgecert: error: the apply's outcome could not be added as a git note: {}. The apply "
      "itself ended as reported; its record is in the audit log.\n",
      r.git_note_error->message);
  return rc == kExitOk ? kExitError : rc;
}

// Text progress: one line per event, whole lines even when a heartbeat comes
// from another thread.
std::function<void(const ProgressEvent&)> progress_lines(CliContext& ctx) {
  auto mu = std::make_shared<std::mutex>();
  return [&ctx, mu](const ProgressEvent& e) {
    std::lock_guard<std::mutex> lock(*mu);
    ctx.out << progress_line(e) << "\n" << std::flush;
  };
}

// --output json: events only on stdout; nobody can answer a prompt there.
int apply_with_events(ApplyRequest req, bool auto_approve, CliContext& ctx,
                      std::function<int()> interrupted_exit, const std::string& cluster = "",
                      std::mutex* out_mutex = nullptr, ApplyResult* result_out = nullptr) {
  ApplyEventStream events(ctx, std::move(interrupted_exit), cluster, out_mutex);
  if (!auto_approve && !req.saved_plan && !read_saved_plan(ctx.env, req.input)) {
    ApplyResult refused;
    refused.error = Error{ErrorCode::kInvalidArgument,
                          "apply --output json cannot ask for approval: review the plan and add "
                          "--auto-approve, or apply a plan saved by 'edgecert plan --out FILE'; "
                          "nothing was changed"};
    return events.finish(refused);
  }
  req.notice = [&events](const std::string& line) { events.notice(line); };
  req.progress = [&events](const ProgressEvent& e) { events.progress(e); };
  ApplyResult result = apply(ctx.env, req);
  for (const Diagnostic& d : result.diagnostics) ctx.err << d.to_string() << "\n";
  const int rc = render_git_note(result, ctx, events.finish(result), /*json=*/true);
  if (result_out) *result_out = std::move(result);
  return rc;
}

struct ApplyOpts {
  std::vector<std::string> inputs;
  std::string shard;
  size_t cluster_parallelism = 1;
  bool fail_fast = false;
  bool auto_approve = false;
  bool ignore_windows = false;
  bool confirm_manual = false;
  std::string output = "text";
  std::string lock_timeout = "0";
  std::string change_id;
  bool require_clean = false;
  NodeOptions node;
  GitCliOptions git;
  bool push_note = false;
};

// Over a fleet with --output json: the cluster every event of this apply
// names, and the lock the clusters' streams share for whole lines.
struct FleetEvents {
  std::string cluster;
  std::mutex* out_mutex = nullptr;
};

// One cluster's apply, rendered on ctx; its exit status. `prompts`: may
// ask on the terminal (approval, manual steps). *result receives the
// engine's result.
int apply_one(const ApplyOpts& o, const std::string& input, std::chrono::milliseconds lock_timeout,
              CliContext& ctx, const InterruptScope& interrupts, bool prompts,
              ApplyResult* result_out = nullptr,
              const std::optional<SavedPlanEntry>& saved_plan = std::nullopt,
              const FleetEvents* fleet_events = nullptr) {
  ApplyRequest req;
  req.lock_timeout = lock_timeout;
  req.stop = interrupts.token();
  req.input = input;
  req.saved_plan = saved_plan;
  req.options = with_cli_network(o.node, ctx);
  req.ignore_windows = o.ignore_windows;
  req.confirm_manual = o.confirm_manual;
  if (!o.change_id.empty()) req.change_id = o.change_id;
  req.require_clean = o.require_clean;
  // --ref alone re-reads a saved plan's repository at another ref.
  if (o.git.given()) req.git = ApplyRequest::Git{o.git.repository, o.git.ref, o.git.path};
  req.push_note = o.push_note;
  if (o.output == "json") {
    int rc = apply_with_events(
        std::move(req), o.auto_approve, ctx,
        [&interrupts] { return interrupts.signal() ? interrupts.exit_code() : 130; },
        fleet_events ? fleet_events->cluster : std::string(),
        fleet_events ? fleet_events->out_mutex : nullptr, result_out);
    return interrupts.signal() != 0 && rc == kExitError ? interrupts.exit_code() : rc;
  }
  req.notice = [&ctx](const std::string& line) { ctx.out << line << "\n" << std::flush; };
  const bool auto_approve = o.auto_approve;
  req.approve = [&ctx, auto_approve, &interrupts](const Plan& plan) {
    return ask_approval(plan, auto_approve, ctx, interrupts);
  };
  req.on_execute = [&ctx] { ctx.out << "\n"; };
  if (prompts && ctx.stdin_is_tty && ctx.in)
    req.manual_prompt = [&ctx, &interrupts](const std::vector<ManualWait>& steps) {
      return ask_manual(steps, ctx, interrupts);
    };
  req.progress = progress_lines(ctx);
  ApplyResult result = apply(ctx.env, req);
  for (const Diagnostic& d : result.diagnostics) ctx.err << d.to_string() << "\n";
  int rc = render(result, ctx, interrupts.exit_code());
  rc = render_git_note(result, ctx, rc);
  if (result_out) *result_out = std::move(result);
  // Interrupted while refusing or failing: the interrupt is the news.
  return interrupts.signal() != 0 && rc == kExitError ? interrupts.exit_code() : rc;
}

// One line of the fleet's end report.
struct FleetApplyRow {
  std::string cluster;
  std::string spec_path;
  std::string outcome = "not started";
  size_t actions_done = 0;
  int rc = -1;  // -1: not started
};

// The fleet's exit status: an interruption first (the caller must know the
// run was stopped), then any failure, then a manual step, then a wait.
int fleet_apply_exit(const std::vector<FleetApplyRow>& rows, const InterruptScope& interrupts) {
  if (interrupts.signal() != 0) return interrupts.exit_code();
  bool manual = false, waiting = false;
  for (const FleetApplyRow& r : rows) {
    if (r.rc == kExitError) return kExitError;
    manual = manual || r.rc == kExitManual;
    waiting = waiting || r.rc == kExitWaiting;
  }
  return manual ? kExitManual : waiting ? kExitWaiting : kExitOk;
}

// What one row of a fleet's apply runs: a spec, or a cluster's plan in a
// fleet plan file (`input` is then the file).
struct FleetApplyItem {
  std::string input;
  std::optional<SavedPlanEntry> saved_plan;
};

// Applies rows[i] from items[i], one cluster after another or
// --cluster-parallelism at once, then prints the end table and the summary
// line ("<head>: 2 applied, ..."; head: "Fleet: N clusters ..."). Returns the
// fleet's exit status.
int run_fleet_apply(const ApplyOpts& o, std::vector<FleetApplyRow>& rows,
                    const std::vector<FleetApplyItem>& items, const std::string& head,
                    std::chrono::milliseconds lock_timeout, CliContext& ctx,
                    const InterruptScope& interrupts);

// A fleet apply refused before anything was read: exit 1.
int refuse_fleet(CliContext& ctx, const std::string& why) {
  ctx.err << "edgecert: error: " << why << "; nothing was changed\n";
  return kExitError;
}

int apply_fleet(const ApplyOpts& o, std::chrono::milliseconds lock_timeout, CliContext& ctx,
                const InterruptScope& interrupts) {
  auto refuse = [&](const std::string& why) { return refuse_fleet(ctx, why); };
  if (o.git.given())
    return refuse(
        "apply --git takes one spec: apply each cluster with its own command (a CI matrix of "
        "specs, docs/scaling.md)");
  for (const std::string& in : o.inputs)
    if (!ctx.env.is_directory(in) && (read_saved_plan(ctx.env, in) || is_fleet_plan(ctx.env, in)))
      return refuse(fmt::format("{} is a saved plan: a saved plan is applied alone", in));
  auto selection = select_fleet(ctx.env, o.inputs, o.shard, o.node, {}, ctx);
  if (!selection) return kExitError;
  if (selection->specs.empty()) {
    ctx.out << fleet_summary({}, *selection) << "\n";
    return kExitOk;
  }
  const bool parallel = o.cluster_parallelism > 1 && selection->specs.size() > 1;
  if (!o.auto_approve && (parallel || !ctx.stdin_is_tty || !ctx.in))
    return refuse(
        parallel ? "clusters applied concurrently cannot ask for approval: review 'edgecert "
                   "plan' of the fleet and add --auto-approve"
                 : "approval needed but standard input is not a terminal; review 'edgecert plan' "
                   "of the fleet and rerun with --auto-approve");

  std::vector<FleetApplyRow> rows(selection->specs.size());
  std::vector<FleetApplyItem> items(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].spec_path = selection->specs[i];
    rows[i].cluster = selection->cluster_of[selection->specs[i]];
    items[i].input = selection->specs[i];
  }
  return run_fleet_apply(o, rows, items, fleet_summary_head(rows.size(), *selection), lock_timeout,
                         ctx, interrupts);
}

// `edgecert apply FLEET_PLAN`: every cluster's plan in the file, each applied
// as a saved plan is (apply.h), so a cluster whose spec or nodes changed
// since is refused and named while the others are applied.
int apply_fleet_plan(const ApplyOpts& o, const std::string& path,
                     std::chrono::milliseconds lock_timeout, CliContext& ctx,
                     const InterruptScope& interrupts) {
  auto refuse = [&](const std::string& why) { return refuse_fleet(ctx, why); };
  if (o.git.given())
    return refuse(
        fmt::format("{} is a fleet plan: each cluster's plan names where its spec "
                    "comes from; apply it without --git, --ref and --path",
                    path));
  if (!o.shard.empty())
    return refuse(
        "--shard selects specs; a fleet plan is applied whole (plan each shard with "
        "its own --out)");
  if (!o.node.targets.empty() || !o.node.excludes.empty() || !o.node.replace.empty())
    return refuse(
        "--target/--exclude/--replace cannot change a saved plan: plan again with them and "
        "--out");
  auto file = read_fleet_plan(ctx.env, path);
  if (!file) return refuse(file.error().message);
  std::vector<FleetApplyRow> rows(file->plans.size());
  std::vector<FleetApplyItem> items(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].cluster = file->clusters[i];
    const nlohmann::json& spec = file->plans[i]["spec"];
    rows[i].spec_path = spec.is_object() && spec["path"].is_string()
                            ? spec["path"].get<std::string>()
                            : std::string("-");
    items[i].input = path;
    items[i].saved_plan = SavedPlanEntry{file->plans[i], file->sha256,
                                         fleet_plan_entry_name(path, file->clusters[i])};
  }
  return run_fleet_apply(
      o, rows, items,
      fmt::format("Fleet: {} cluster{} of {}", rows.size(), rows.size() == 1 ? "" : "s", path),
      lock_timeout, ctx, interrupts);
}

int run_fleet_apply(const ApplyOpts& o, std::vector<FleetApplyRow>& rows,
                    const std::vector<FleetApplyItem>& items, const std::string& head,
                    std::chrono::milliseconds lock_timeout, CliContext& ctx,
                    const InterruptScope& interrupts) {
  const bool parallel = o.cluster_parallelism > 1 && rows.size() > 1;
  // --output json: stdout is events only, each naming its cluster, whole
  // lines under one lock; the end is one "fleet" event.
  const bool json = o.output == "json";
  std::mutex events_mu;
  std::atomic<bool> failed{false};
  auto name_of = [](const FleetApplyRow& r) { return r.cluster.empty() ? r.spec_path : r.cluster; };
  // Runs rows[i]; `cctx` is the cluster's context.
  // Which clusters are running, for the line a second Ctrl-C ends with:
  // those are the ones whose locks stay.
  std::mutex running_mu;
  std::set<size_t> running;
  auto note_running = [&](size_t i, bool started) {
    std::lock_guard<std::mutex> lock(running_mu);
    if (started)
      running.insert(i);
    else
      running.erase(i);
    std::vector<std::string> named;
    for (size_t r : running)
      named.push_back(fmt::format("{} ({})", name_of(rows[r]), rows[r].spec_path));
    set_interrupt_note(named.empty()
                           ? std::string()
                           : fmt::format("edgecert: the cluster{} running, whose lock{} stay{}: {}",
                                         named.size() == 1 ? "" : "s", named.size() == 1 ? "" : "s",
                                         named.size() == 1 ? "s" : "", fmt::join(named, ", ")));
  };
  auto run = [&](size_t i, CliContext& cctx) {
    note_running(i, true);
    ApplyResult result;
    // One cluster's bug must not take the others down with it (a thread
    // that throws ends the process).
    try {
      const FleetEvents events{name_of(rows[i]), &events_mu};
      rows[i].rc =
          apply_one(o, items[i].input, lock_timeout, cctx, interrupts,
                    /*prompts=*/!parallel, &result, items[i].saved_plan, json ? &events : nullptr);
      rows[i].outcome = apply_result_status(result);
      // A saved plan whose cluster changed since (or that was edited): the
      // table says why.
      if (result.status == ApplyStatus::kRefused && result.stale_plan)
        rows[i].outcome = "refused (stale or altered)";
    } catch (const std::exception& e) {
      cctx.err << "edgecert: error: internal error: " << e.what() << "\n";
      rows[i].rc = kExitError;
      rows[i].outcome = "internal error";
    }
    if (!result.plan.cluster.empty()) rows[i].cluster = result.plan.cluster;
    if (result.report) rows[i].actions_done = result.report->actions_done;
    if (rows[i].rc == kExitError) failed = true;
    note_running(i, false);
  };
  auto may_start = [&] { return interrupts.signal() == 0 && !(o.fail_fast && failed); };

  if (!parallel) {
    for (size_t i = 0; i < rows.size() && may_start(); ++i) {
      if (!json) ctx.out << fleet_heading(rows[i].cluster, rows[i].spec_path) << "\n" << std::flush;
      PrefixedStream err(ctx.err, "[" + name_of(rows[i]) + "] ");
      CliContext cctx{
          ctx.env, ctx.out, err, ctx.stdin_is_tty, ctx.in, ctx.crl_transport, ctx.env_thread_safe};
      run(i, cctx);
      if (!json) ctx.out << "\n";
    }
  } else {
    // Every line of every cluster prefixed and whole; each cluster still one
    // node at a time, under its own lock.
    std::optional<SynchronizedEnv> shared;
    if (!ctx.env_thread_safe) shared.emplace(ctx.env);
    Env& env = shared ? static_cast<Env&>(*shared) : ctx.env;
    std::mutex out_mu, err_mu;
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; may_start() && (i = next++) < rows.size();) {
        // JSON events name their cluster themselves: no prefix on stdout.
        PrefixedStream out(ctx.out, json ? "" : "[" + name_of(rows[i]) + "] ", &out_mu);
        PrefixedStream err(ctx.err, "[" + name_of(rows[i]) + "] ", &err_mu);
        CliContext cctx{env, json ? ctx.out : out, err, false, nullptr, ctx.crl_transport, true};
        run(i, cctx);
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 0; t < std::min(o.cluster_parallelism, rows.size()); ++t)
      threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
  }

  // The end report: every cluster, the ones never started too.
  std::vector<std::vector<std::string>> cells{{"CLUSTER", "SPEC", "OUTCOME", "ACTIONS"}};
  std::vector<FleetRow> summary;
  for (FleetApplyRow& r : rows) {
    if (r.rc < 0)
      r.outcome = interrupts.signal() ? "not started (interrupted)"
                  : o.fail_fast       ? "not started (--fail-fast)"
                                      : "not started";
    cells.push_back({r.cluster.empty() ? "-" : r.cluster, r.spec_path, r.outcome,
                     std::to_string(r.actions_done)});
  }
  if (!json) {
    ctx.out << "\n";
    print_columns(ctx.out, cells);
  }
  size_t done = 0, in_sync = 0, failures = 0, cancelled = 0, other = 0;
  for (const FleetApplyRow& r : rows) {
    if (r.rc == kExitOk && r.outcome == "no-changes")
      ++in_sync;
    else if (r.rc == kExitOk)
      ++done;
    else if (r.outcome == "cancelled")
      ++cancelled;  // the operator said no: not a failure, though the exit status is 1
    else if (r.rc == kExitError)
      ++failures;
    else
      ++other;
  }
  std::string line = head;
  line += fmt::format(": {} applied, {} in sync, {} failed, {} stopped or not started", done,
                      in_sync, failures, other);
  if (cancelled) line += fmt::format(", {} cancelled", cancelled);
  const int rc = fleet_apply_exit(rows, interrupts);
  if (!json) {
    ctx.out << "\n" << line << "\n";
    return rc;
  }
  nlohmann::json clusters = nlohmann::json::array();
  for (const FleetApplyRow& r : rows) {
    nlohmann::json c{{"cluster", r.cluster},
                     {"spec", r.spec_path},
                     {"outcome", r.outcome},
                     {"actions_done", r.actions_done}};
    if (r.rc >= 0) c["exit_code"] = r.rc;
    clusters.push_back(std::move(c));
  }
  nlohmann::json fleet{{"event", "fleet"},
                       {"time", format_time_iso(ctx.env.now())},
                       {"clusters", clusters},
                       {"summary", line},
                       {"exit_code", rc}};
  std::lock_guard<std::mutex> lock(events_mu);
  ctx.out << fleet.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"
          << std::flush;
  return rc;
}

}  // namespace

std::function<int()> setup_apply(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ApplyOpts>();
  app.add_option("SPEC_OR_PLAN", o->inputs,
                 "Spec files or folders (searched for specs), or one plan saved by 'edgecert "
                 "plan --out'")
      ->required();
  add_shard_option(app, o->shard);
  app.add_option("--cluster-parallelism", o->cluster_parallelism,
                 "With many clusters: apply up to N at once (default 1), each still one node "
                 "at a time under its own lock")
      ->check(CLI::Range(1, 64));
  app.add_flag("--fail-fast", o->fail_fast,
               "With many clusters: start no cluster after one fails (those running finish)");
  app.add_flag("--auto-approve", o->auto_approve, "Do not ask for approval");
  app.add_flag("--ignore-windows", o->ignore_windows,
               "Apply even outside the spec's rollout windows");
  app.add_flag("--confirm-manual", o->confirm_manual,
               "Confirm the manual steps the previous apply stopped at that the nodes cannot "
               "show (CRL settings, the manual CRL, an ACME revocation): you did them as printed");
  app.add_option("--output,-o", o->output,
                 "Output format: text, or json (one event per line, for CI; needs "
                 "--auto-approve or a saved plan)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--change-id", o->change_id,
                 "The change this rollout is for (spec.rollout.changeControl); recorded in the "
                 "audit log. A saved plan's own change ID is used when this is not given");
  app.add_flag("--require-clean", o->require_clean,
               "Refuse unless the spec is committed in git and its working tree has no "
               "uncommitted change to a tracked file");
  add_node_options(app, o->node, true);
  add_lock_timeout_option(app, o->lock_timeout);
  add_git_options(app, o->git);
  app.add_flag("--push-note", o->push_note,
               "With a spec from a remote git repository: push the apply's outcome as a note "
               "on the applied commit (refs/notes/edgecert); a repository on this machine gets "
               "it anyway");

  return [o, &ctx]() -> int {
    auto lock_timeout = parse_lock_timeout(o->lock_timeout, ctx);
    if (!lock_timeout) return kExitError;
    InterruptScope interrupts(InterruptScope::Mode::kStop);
    // A fleet plan on this machine, whatever else was given (apply_fleet_plan
    // refuses what does not apply to one).
    if (o->inputs.size() == 1 && is_fleet_plan(ctx.env, o->inputs.front()))
      return apply_fleet_plan(*o, o->inputs.front(), *lock_timeout, ctx, interrupts);
    const bool one = o->inputs.size() == 1 && o->shard.empty() &&
                     (o->git.given() || !ctx.env.is_directory(o->inputs.front()));
    if (!one) return apply_fleet(*o, *lock_timeout, ctx, interrupts);
    return apply_one(*o, o->inputs.front(), *lock_timeout, ctx, interrupts, /*prompts=*/true);
  };
}

}  // namespace edgecert
