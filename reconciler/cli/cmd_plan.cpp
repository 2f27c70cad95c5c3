// `edgecert plan SPEC...`: what apply would do, node by node. Read-only.
// Many specs or folders (reconciler/cli/fleet_cli.h): each cluster's plan
// under its heading, then a fleet summary line; exit codes aggregate.
//
// Before the plan it says what the state folder knows: a lock held by another
// run (who, since when, for what), an unfinished run the next apply resumes,
// and cluster TLS verification an earlier run relaxed and never restored.
// Ctrl-C exits 130 at once: nothing to restore.
#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/approval.h"
#include "reconciler/engine/fleet_plan.h"
#include "reconciler/engine/site.h"
#include "reconciler/engine/synchronized_env.h"
#include "reconciler/engine/vcs.h"

namespace edgecert {

namespace {

// The start of the warning every session opened with --insecure gives.
constexpr std::string_view kInsecureWarning = "edgecert: warning: --insecure:";

struct Opts {
  std::vector<std::string> specs;
  std::string shard;
  std::string out;
  std::string output = "text";
  bool detailed_exitcode = false;
  std::string change_id;
  bool require_clean = false;
  NodeOptions node;
  GitCliOptions git;
};

// One cluster's plan, and what the state folder says about the cluster.
struct ClusterPlan {
  std::optional<Plan> plan;  // nullopt: failed, the error printed
  std::string run_state;
  std::optional<spec::ChangeControl> change_control;
};

// The nodes whose certificate `plan` replaces.
std::set<std::string> reissued_nodes(const Plan& plan) {
  std::set<std::string> out;
  for (const Action& a : plan.actions)
    if (a.kind() == ActionKind::kUploadCertificate || a.kind() == ActionKind::kAcmeDeploy)
      out.insert(a.node);
  return out;
}

// The live half of the site check (site.h): reads and plans the E cluster
// the C traverses to, as plan reads any cluster (read-only, no lock), and
// compares what both will serve and trust once both plans are applied. Its
// findings become plan notes: they describe the site, not an action of this
// plan. An E that cannot be opened or read is said, and the live checks
// skipped: the C's plan stands on its own.
std::vector<std::string> site_live_findings(const Opts& o, const spec::Spec& e, Session& c,
                                            const ClusterLive& c_live, const Plan& c_plan,
                                            const std::optional<GitSpecs>& git, CliContext& ctx,
                                            CliContext& run_ctx) {
  NodeOptions options = git ? git_session_options(o.node, *git) : o.node;
  // --target, --exclude and --replace name this C's peers, not the E's.
  options.targets.clear();
  options.excludes.clear();
  options.replace.clear();
  CliContext& session_ctx = git ? run_ctx : ctx;
  OpenedSession opened =
      open_session(session_ctx.env, e.path, with_cli_network(options, session_ctx));
  if (!opened.session) {
    std::string why = opened.error                 ? opened.error->message
                      : opened.diagnostics.empty() ? std::string("it did not load")
                                                   : opened.diagnostics.front().to_string();
    return {
        fmt::format("site: the Expressway-E cluster '{}' ({}) could not be opened ({}): "
                    "the live site checks were skipped",
                    e.name, e.path, why)};
  }
  Session& es = *opened.session;
  ClusterLive e_live = read_live(es, /*wait_for_unavailable=*/false, nullptr);
  std::set<std::string> e_reissued;
  if (e_live.all_readable())
    if (auto e_plan = make_plan(es, e_live, run_ctx.env)) e_reissued = reissued_nodes(*e_plan);
  return check_site_live(run_ctx.env,
                         SiteSide{c.spec, c_live, c.trust.issuer_cas, reissued_nodes(c_plan)},
                         SiteSide{es.spec, e_live, es.trust.issuer_cas, e_reissued});
}

// Plans the cluster of `spec_path` (a path in the commit with git). Errors
// go to ctx.err; read_live's notices to run_ctx.out.
ClusterPlan plan_cluster(const Opts& o, const std::string& spec_path,
                         const std::optional<GitSpecs>& git, CliContext& ctx, CliContext& run_ctx) {
  ClusterPlan result;
  auto session = git ? open_session(spec_path, git_session_options(o.node, *git), run_ctx)
                     : open_session(spec_path, o.node, ctx);
  if (!session) return result;
  // A commit's tree is clean by definition.
  if (o.require_clean && !git)
    if (Status st = require_clean_tree(*make_git_vcs(), spec_path); !st) {
      ctx.err << "edgecert: error: " << st.error().message << "\n";
      return result;
    }
  // A change ID the spec's pattern refuses is refused here, where it is
  // typed, not at apply after the plan was reviewed and approved.
  const spec::ChangeControl no_control{0, std::nullopt};
  const auto& cc = session->spec.rollout.change_control;
  result.change_control = cc;
  if (!o.change_id.empty()) {
    if (Status st = check_change_id(cc ? *cc : no_control, o.change_id); !st) {
      ctx.err << "edgecert: error: " << st.error().message << "\n";
      return result;
    }
  } else if (cc && cc->change_id_pattern && cc->approvals > 0 && !o.out.empty()) {
    ctx.err << fmt::format(
        "edgecert: error: spec.rollout.changeControl requires a change ID matching '{}' in "
        "the plan that is approved: give --change-id; nothing was saved\n",
        *cc->change_id_pattern);
    return result;
  } else if (cc && cc->change_id_pattern) {
    ctx.err << fmt::format(
        "edgecert: note: spec.rollout.changeControl requires a change ID matching '{}': give "
        "--change-id here (it is then part of what is approved) or to apply\n",
        *cc->change_id_pattern);
  }
  // A C naming its E (spec.traversal): the two specs are checked as one
  // site before any node is read; a disagreement is an error, as in validate.
  std::optional<spec::Spec> expressway_e;
  if (session->spec.traversal) {
    schema::LoadOptions load;
    if (git) load.read_only_root = git->env->root();
    SiteSpecCheck site = check_site_specs(session->spec, run_ctx.env, load);
    for (const Diagnostic& d : site.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
    if (site.diagnostics.has_errors()) {
      ctx.err << "edgecert: error: the site does not agree (spec.traversal); nothing was read\n";
      return result;
    }
    expressway_e = std::move(site.expressway_e);
  }
  auto live = read_live(*session, run_ctx);
  if (!live) return result;
  auto plan = make_plan(*session, *live, run_ctx);
  if (!plan) return result;
  if (expressway_e) {
    std::vector<std::string> findings =
        site_live_findings(o, *expressway_e, *session, *live, *plan, git, ctx, run_ctx);
    plan->notes.insert(plan->notes.end(), findings.begin(), findings.end());
  }
  if (!o.change_id.empty()) plan->change_id = o.change_id;
  if (git) record_git_origin(*plan, *git);
  std::vector<std::string> permissive;
  for (const NodeLive& n : live->nodes)
    if (n.state && n.state->tls_verification == spec::TlsVerification::kPermissive)
      permissive.push_back(n.peer);
  std::ostringstream run_state;
  print_run_state(run_state, ctx.env, session->state_dir, permissive, &session->spec);
  result.run_state = run_state.str();
  result.plan = std::move(*plan);
  return result;
}

// Approvals recorded for the file at `out` (approval.h) are for the bytes
// a new plan just replaced: void, and left in place they would block the
// new plan's approvals. Removed, and said.
void drop_old_approvals(const std::string& out, CliContext& ctx) {
  const std::string sidecar = approvals_path(out);
  if (!ctx.env.exists(sidecar)) return;
  if (Status st = ctx.env.remove_file(sidecar); st)
    ctx.err << fmt::format(
        "edgecert: note: removed {}: its approvals were for the plan this one replaces\n", sidecar);
  else
    ctx.err << fmt::format(
        "edgecert: warning: {} holds approvals of an earlier plan and could not "
        "be removed ({}); remove it before approving this plan\n",
        sidecar, st.error().message);
}

// A run that saves nothing at `out` leaves no earlier plan there: applied,
// it would pass for this run's plan.
void remove_earlier_plan(const std::string& out, CliContext& ctx) {
  if (out.empty() || !ctx.env.exists(out) || ctx.env.is_directory(out)) return;
  if (Status st = ctx.env.remove_file(out); st)
    ctx.err << fmt::format("edgecert: note: removed {}, an earlier plan: this run saved none\n",
                           out);
  else
    ctx.err << fmt::format(
        "edgecert: warning: {} holds an earlier plan and could not be removed "
        "({}); do not apply it\n",
        out, st.error().message);
  drop_old_approvals(out, ctx);
}

}  // namespace

std::function<int()> setup_plan(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->specs,
                 "Spec files or folders (searched for specs); with --git, in the repository "
                 "(default: every spec under --path)");
  add_shard_option(app, o->shard);
  app.add_option("--out", o->out, "Save the plan (JSON) for 'edgecert apply FILE'");
  app.add_option("--output,-o", o->output,
                 "Output format (markdown: a summary for a pull-request comment)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  app.add_flag("--detailed-exitcode", o->detailed_exitcode,
               "Exit 0 when there are no changes, 2 when there are, 1 on error");
  app.add_option("--change-id", o->change_id,
                 "The change this plan is for: checked against "
                 "spec.rollout.changeControl.changeIdPattern, recorded in the saved plan");
  app.add_flag("--require-clean", o->require_clean,
               "Refuse unless the spec is committed in git and its working tree has no "
               "uncommitted change to a tracked file");
  add_node_options(app, o->node, true);
  add_git_options(app, o->git);

  return [o, &ctx]() -> int {
    InterruptScope interrupts(InterruptScope::Mode::kExit);
    std::optional<GitSpecs> git;
    std::vector<std::string> paths = o->specs;
    if (!open_spec_args(o->git, o->node.state_dir, paths, git, ctx)) return kExitError;
    // From git, everything the spec names is read from the commit.
    CliContext run_ctx = with_env(ctx, git ? *git->env : ctx.env);
    schema::LoadOptions load;
    if (git) load.read_only_root = git->env->root();
    auto selection = select_fleet(run_ctx.env, paths, o->shard,
                                  git ? git_session_options(o->node, *git) : o->node, load, ctx);
    if (!selection) return kExitError;
    // One cluster with --out is saved and told as one spec's plan is, however
    // it was selected (a folder with one spec, a shard of one); more are
    // saved as a fleet plan (fleet_plan.h) below.
    if (!selection->fleet || (!o->out.empty() && selection->specs.size() == 1)) {
      ClusterPlan r = plan_cluster(*o, selection->specs.front(), git, ctx, run_ctx);
      if (!r.plan) {
        remove_earlier_plan(o->out, ctx);
        return kExitError;
      }
      Plan& plan = *r.plan;
      if (!o->out.empty()) {
        if (auto st = ctx.env.write_file_atomic(o->out, plan_to_json(plan).dump(2) + "\n", 0644);
            !st) {
          ctx.err << "edgecert: error: saving the plan: " << st.error().message << "\n";
          return kExitError;
        }
        drop_old_approvals(o->out, ctx);
      }
      if (git) r.run_state += describe_git_origin(git->origin()) + "\n";
      // JSON mode keeps stdout to the one document.
      if (o->output == "json") {
        ctx.err << r.run_state;
        ctx.out << plan_to_json(plan).dump(2) << "\n";
      } else if (o->output == "markdown") {
        // What the state folder says goes to stderr: the comment is the plan.
        ctx.err << r.run_state;
        ctx.out << render_plan_markdown(plan);
      } else {
        if (!r.run_state.empty()) ctx.out << r.run_state << "\n";
        ctx.out << render_plan_text(plan);
        if (plan.change_id) ctx.out << fmt::format("Change: {}\n", *plan.change_id);
        const auto& cc = r.change_control;
        if (!o->out.empty() && !plan.empty()) {
          if (cc && cc->approvals > 0)
            ctx.out << fmt::format(
                "\nSaved the plan to {}. spec.rollout.changeControl requires {} approval{}: "
                "'edgecert approve {} --by NAME' (each approver), then 'edgecert apply {}'\n",
                o->out, cc->approvals, cc->approvals == 1 ? "" : "s", o->out, o->out);
          else
            ctx.out << fmt::format(
                "\nSaved the plan to {}. Apply exactly it with: edgecert apply {}\n", o->out,
                o->out);
        }
      }
      if (o->detailed_exitcode && !plan.empty()) return kExitChanges;
      return kExitOk;
    }

    // A fleet: each cluster under its heading, its errors prefixed with its
    // name, then one summary line.
    // Clusters are planned concurrently, up to --parallelism at once, and
    // their node reads share one bound of --parallelism (live_state.h's
    // ReadSlots); each cluster's output is kept and printed in the order
    // the specs were found.
    const size_t n = selection->specs.size();
    std::vector<FleetRow> rows(n);
    std::vector<std::optional<Plan>> plans(n);  // for --out
    std::vector<int> approvals_needed(n, 0);
    std::vector<nlohmann::json> entries(n);
    std::vector<std::string> markdowns(n);
    // Envs many threads may share: the real one is; tests' MemoryEnv and a
    // commit's GitTreeEnv are wrapped once for all the clusters.
    std::optional<SynchronizedEnv> shared_env, shared_run_env;
    if (!ctx.env_thread_safe) shared_env.emplace(ctx.env);
    Env& env = shared_env ? static_cast<Env&>(*shared_env) : ctx.env;
    Env* run_env = &env;
    if (git) run_env = &shared_run_env.emplace(*git->env);
    Opts fleet_opts = *o;
    fleet_opts.node.read_slots = std::make_shared<ReadSlots>(o->node.parallelism);
    fleet_opts.node.env_is_shared = git || shared_env.has_value();
    if (git && o->output == "text") ctx.out << describe_git_origin(git->origin()) << "\n\n";
    if (o->node.insecure)
      ctx.err << kInsecureWarning
              << " HTTPS nodes' management certificates are NOT verified; anyone on the path can "
                 "impersonate them\n";
    run_in_order(
        n, o->node.parallelism, ctx, [&](size_t i, std::ostream& out, std::ostream& err_buf) {
          const std::string& spec_path = selection->specs[i];
          FleetRow& row = rows[i];
          row.cluster = selection->cluster_of[spec_path];
          row.spec_path = git ? git->tree_path(spec_path) : spec_path;
          // What the cluster says on stderr, kept for the JSON and Markdown
          // of a failed cluster too. A spec that did not load has no name to
          // prefix: its diagnostics name its file.
          std::ostringstream errors;
          CliContext cluster_ctx{env, out, errors, ctx.stdin_is_tty, ctx.in, ctx.crl_transport,
                                 true};
          CliContext cluster_run_ctx = with_env(cluster_ctx, *run_env);
          if (o->output == "text") out << fleet_heading(row.cluster, row.spec_path) << "\n";
          ClusterPlan r = plan_cluster(fleet_opts, spec_path, git, cluster_ctx, cluster_run_ctx);
          nlohmann::json& entry = entries[i];
          entry = {{"cluster", row.cluster}, {"spec", row.spec_path}};
          if (r.plan) {
            plans[i] = r.plan;
            if (r.change_control) approvals_needed[i] = r.change_control->approvals;
            row.cluster = r.plan->cluster;
            row.outcome = r.plan->empty() ? FleetOutcome::kInSync : FleetOutcome::kChanges;
            row.actions = r.plan->actions.size();
            entry["cluster"] = row.cluster;
            entry["plan"] = plan_to_json(*r.plan);
            if (o->output == "text") {
              if (!r.run_state.empty()) out << r.run_state << "\n";
              out << render_plan_text(*r.plan);
              if (r.plan->change_id) out << fmt::format("Change: {}\n", *r.plan->change_id);
            } else {
              errors << r.run_state;
              markdowns[i] = render_plan_markdown(*r.plan) + "\n";
            }
          } else {
            if (o->output == "text") out << "(failed: the errors are on stderr)\n";
            std::vector<std::string> lines;
            std::istringstream in(errors.str());
            for (std::string line; std::getline(in, line);)
              if (!line.empty()) lines.push_back(line);
            entry["errors"] = lines;
            std::string quoted;
            for (const std::string& line : lines) quoted += "    " + line + "\n";
            markdowns[i] = fmt::format("### {}: failed\n\nNo plan could be made:\n\n{}\n",
                                       row.cluster.empty() ? row.spec_path : row.cluster, quoted);
          }
          {
            PrefixedStream err(err_buf, row.cluster.empty() ? "" : "[" + row.cluster + "] ");
            std::istringstream in(errors.str());
            for (std::string line; std::getline(in, line);)
              // Said once for the fleet, above, not once per cluster.
              if (line.rfind(kInsecureWarning, 0) != 0) err << line << "\n";
          }
          entry["outcome"] = row.outcome == FleetOutcome::kFailed    ? "failed"
                             : row.outcome == FleetOutcome::kChanges ? "changes"
                                                                     : "in_sync";
          if (o->output == "text") out << "\n";
        });
    nlohmann::json clusters = nlohmann::json::array();
    for (nlohmann::json& e : entries) clusters.push_back(std::move(e));
    std::string markdown;
    for (const std::string& m : markdowns) markdown += m;
    const std::string summary = fleet_summary(rows, *selection);
    // --out: the fleet's plans in one file, reviewed, approved and applied
    // as one; saved only when every cluster has a plan (a file missing a
    // cluster would apply as if the fleet were complete).
    std::string saved_note, save_error;
    if (!o->out.empty()) {
      std::vector<std::string> failed;
      std::vector<Plan> saved;
      for (size_t i = 0; i < n; ++i) {
        if (plans[i])
          saved.push_back(*plans[i]);
        else
          failed.push_back(rows[i].cluster.empty() ? rows[i].spec_path : rows[i].cluster);
      }
      if (saved.empty() && failed.empty()) {
        saved_note = "No cluster in this run: nothing was saved to " + o->out;
        remove_earlier_plan(o->out, ctx);
      } else if (!failed.empty()) {
        remove_earlier_plan(o->out, ctx);
        save_error = fmt::format(
            "--out: no plan could be made for {}; a fleet plan holds every cluster's plan, so "
            "nothing was saved",
            fmt::join(failed, ", "));
      } else if (auto st = ctx.env.write_file_atomic(
                     o->out,
                     fleet_plan_to_json(saved, saved.front().created_at, selection->shard).dump(2) +
                         "\n",
                     0644);
                 !st) {
        save_error = "saving the plan: " + st.error().message;
      } else {
        drop_old_approvals(o->out, ctx);
        saved_note = fmt::format(
            "Saved the plans of {} clusters to {}. Apply exactly them with: edgecert apply {} "
            "(a cluster whose spec or nodes changed since is refused, the others applied)",
            n, o->out, o->out);
        if (std::ranges::any_of(approvals_needed, [](int a) { return a > 0; }))
          saved_note += fmt::format(
              "\nspec.rollout.changeControl of some clusters requires approvals: 'edgecert "
              "approve {} --by NAME' (each approver; one approval covers the whole file)",
              o->out);
      }
    }
    if (o->output == "json") {
      nlohmann::json doc{{"clusters", clusters}, {"summary", summary}};
      if (!selection->shard.empty()) doc["shard"] = selection->shard;
      if (git) doc["git"] = git_origin_json(git->origin());
      ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (o->output == "markdown") {
      ctx.out << "**" << summary << "**\n\n" << markdown;
    } else {
      ctx.out << summary << "\n";
    }
    if (!saved_note.empty()) (o->output == "text" ? ctx.out : ctx.err) << saved_note << "\n";
    if (!save_error.empty()) {
      ctx.err << "edgecert: error: " << save_error << "\n";
      return kExitError;
    }
    return fleet_exit(rows, o->detailed_exitcode);
  };
}

}  // namespace edgecert
