// `edgecert check PATH...`: drift and expiry for monitoring, read-only
// (docs/monitoring.md).
//
// For every spec (folders are searched for specs, reconciler/engine/fleet.h;
// with many, errors are prefixed with their cluster and a summary line
// ends the text) it reads the live state of every node and makes the plan apply would
// make, then reports per node the kinds of change the plan has (drift), when
// the served certificate expires and is due for renewal, the node's alarms,
// and per cluster the lock and the last apply. One cluster that cannot be
// checked never hides the others. Exit 0 when every cluster is in sync, 2
// when one needs an apply (drift or a renewal due), 1 on any error (which
// wins over 2). `--metrics-file` writes the Prometheus text format
// atomically, errors included (edgecert_check_success 0), so a broken check
// shows in monitoring rather than leaving the last good values in place.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/check.h"
#include "reconciler/engine/run_state.h"
#include "reconciler/engine/session.h"
#include "reconciler/engine/site.h"
#include "reconciler/engine/synchronized_env.h"

namespace edgecert {
namespace {

ClusterCheck check_one(const std::string& path, const NodeOptions& options, CliContext& ctx) {
  OpenedSession opened = open_session(ctx.env, path, with_cli_network(options, ctx));
  for (const Diagnostic& d : opened.diagnostics) ctx.err << d.to_string() << "\n";
  for (const std::string& w : opened.warnings) ctx.err << "edgecert: warning: " << w << "\n";
  if (!opened.session) {
    std::string why = opened.error ? opened.error->message : "the spec does not load";
    if (opened.error) ctx.err << "edgecert: error: " << why << "\n";
    if (!opened.error) why = fmt::format("{}: the spec does not load (see above)", path);
    return failed_check(path, why, ctx.env.now());
  }
  Session& session = *opened.session;
  ClusterLive live =
      read_live(session, false, [&ctx](const std::string& line) { ctx.err << line << "\n"; });
  std::optional<Result<Plan>> plan;
  if (live.all_readable()) plan = make_plan(session, live, ctx.env);
  ClusterCheck c =
      summarize_check(path, session.spec, live, plan,
                      read_run_state(ctx.env, session.state_dir, &session.spec), ctx.env.now());
  // A C whose site (spec.traversal) does not agree is not in order, however
  // its own nodes look: the disagreement is an error of the cluster.
  schema::LoadOptions load;
  load.read_only_root = options.read_only_root;
  for (const Diagnostic& d : check_site_specs(session.spec, ctx.env, load).diagnostics.sorted())
    if (d.severity == Severity::kError)  // printed after "error: ": the position and message
      c.errors.push_back(fmt::format("{}:{}:{}: {}", d.path, d.line, d.column, d.message));
  for (const std::string& e : c.errors) ctx.err << "edgecert: error: " << e << "\n";
  return c;
}

// "Fleet: 5 clusters: 2 need an apply, 2 in sync, 1 failed (kyoto)".
std::string check_summary(const std::vector<ClusterCheck>& checks, const FleetSelection& sel) {
  size_t apply = 0, in_sync = 0;
  std::string failed;
  size_t failures = 0;
  for (const ClusterCheck& c : checks) {
    if (!c.complete()) {
      failed += (failed.empty() ? "" : ", ") + (c.cluster.empty() ? c.spec_path : c.cluster);
      ++failures;
    } else if (c.needs_apply()) {
      ++apply;
    } else {
      ++in_sync;
    }
  }
  std::string text = fleet_summary_head(checks.size(), sel);
  if (checks.empty()) return text + ": nothing in this shard";
  text += fmt::format(": {} need{} an apply, {} in sync", apply, apply == 1 ? "s" : "", in_sync);
  if (failures) text += fmt::format(", {} failed ({})", failures, failed);
  return text;
}

// "in 59 days", "3 days ago", "in 5 hours".
std::string relative(TimePoint t, TimePoint now) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
  const auto abs = secs < 0 ? -secs : secs;
  const std::string amount = abs >= 2 * 86400  ? fmt::format("{} days", abs / 86400)
                             : abs >= 2 * 3600 ? fmt::format("{} hours", abs / 3600)
                                               : fmt::format("{} minutes", abs / 60);
  return secs < 0 ? amount + " ago" : "in " + amount;
}

void print_text(std::ostream& out, const ClusterCheck& c) {
  const std::string status =
      !c.complete() ? "ERROR" : (c.needs_apply() ? "NEEDS APPLY" : "in sync");
  out << fmt::format("{} ({}): {}\n", c.cluster.empty() ? "?" : c.cluster, c.spec_path, status);
  if (c.cluster.empty()) {
    for (const std::string& e : c.errors) out << "  error: " << e << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"  NODE", "EXPIRES", "RENEWAL", "DRIFT"}};
  for (const NodeCheck& n : c.nodes) {
    if (n.error) {
      rows.push_back({"  " + n.node, "-", "-", "unreadable"});
      continue;
    }
    std::string expires = n.not_after ? fmt::format("{} ({})", format_date(*n.not_after),
                                                    relative(*n.not_after, c.checked_at))
                                      : "no certificate";
    std::string renewal = !n.renewal_due ? "-"
                          : n.renewal_is_due
                              ? fmt::format("due since {}", format_date(*n.renewal_due))
                              : fmt::format("due {}", format_date(*n.renewal_due));
    std::string drift;
    if (!c.plan_known) {
      drift = "unknown (no plan)";
    } else if (n.drift.empty()) {
      drift = "none";
    } else {
      std::vector<std::string> kinds;
      for (ActionKind k : n.drift) kinds.emplace_back(action_kind_name(k));
      drift = fmt::format("{}", fmt::join(kinds, ", "));
    }
    rows.push_back({"  " + n.node, expires, renewal, drift});
  }
  print_columns(out, rows);
  for (const NodeCheck& n : c.nodes)
    if (!n.alarms.empty())
      out << fmt::format("  {}: alarms {}\n", n.node, fmt::join(n.alarms, ", "));
  if (c.lock_held) out << "  locked by a run (edgecert status says by whom)\n";
  if (c.last_apply)
    out << fmt::format("  last apply: {}, {}\n", format_time(*c.last_apply), c.last_apply_outcome);
  for (const std::string& e : c.errors) out << "  error: " << e << "\n";
  if (c.complete() && c.needs_apply())
    out << fmt::format("  why, action by action: edgecert plan {}\n", c.spec_path);
}

}  // namespace

std::function<int()> setup_check(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::vector<std::string> paths;
    std::string shard;
    std::string output = "text";
    std::string metrics_file;
    NodeOptions node;
    GitCliOptions git;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("PATH", o->paths,
                 "Spec files, or folders searched for specs; with --git, in the repository "
                 "(default: the --path folder)");
  add_shard_option(app, o->shard);
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--metrics-file", o->metrics_file,
                 "Also write the Prometheus text format here, atomically (node_exporter's "
                 "textfile collector)");
  add_node_options(app, o->node, false);
  add_allow_unreachable_crl_option(app, o->node.allow_unreachable_crl);
  add_git_options(app, o->git);

  return [o, &ctx]() -> int {
    InterruptScope interrupts(InterruptScope::Mode::kExit);
    if (o->paths.empty() && !o->git.given()) {
      ctx.err << "edgecert: error: PATH is required (a spec, or a folder of specs), or --git "
                 "REPO --ref REF\n";
      return kExitError;
    }
    std::vector<ClusterCheck> checks;
    bool error = false;
    // Specs from git: read through the commit's tree. A ref that cannot be
    // read is a failed check, in the metrics too.
    std::optional<GitSpecs> git;
    std::vector<std::string> paths = o->paths;
    NodeOptions options = o->node;
    if (o->git.given()) {
      if (o->git.repository.empty()) {
        ctx.err << "edgecert: error: --ref and --path read specs from git and need --git REPO\n";
        return kExitError;
      }
      auto opened = open_git_specs(ctx.env, git_state_root(o->node.state_dir), o->git.repository,
                                   o->git.ref, o->git.path);
      if (!opened) {
        ctx.err << "edgecert: error: " << opened.error().message << "\n";
        checks.push_back(
            failed_check("--git " + o->git.repository, opened.error().message, ctx.env.now()));
        error = true;
        paths.clear();
      } else {
        git = std::move(*opened);
        if (!to_tree_paths(*git, paths, ctx)) return kExitError;
        if (paths.empty()) paths.push_back(git->dir());
        options = git_session_options(options, *git);
        if (o->output != "json") ctx.out << describe_git_origin(git->origin()) << "\n";
      }
    }
    CliContext run_ctx = with_env(ctx, git ? *git->env : ctx.env);
    schema::LoadOptions load;
    if (git) load.read_only_root = git->env->root();
    auto selection = select_fleet(run_ctx.env, paths, o->shard, options, load, ctx,
                                  /*refuse_conflicts=*/false);
    if (!selection) return kExitError;
    // Clusters are checked concurrently, up to --parallelism at once, their
    // node reads bounded together by --parallelism (as plan's); each
    // cluster's output is kept and printed in the order the specs were found.
    const size_t n = selection->specs.size();
    std::vector<std::optional<ClusterCheck>> results(n);
    std::optional<SynchronizedEnv> shared_env, shared_run_env;
    if (!ctx.env_thread_safe) shared_env.emplace(ctx.env);
    Env& env = shared_env ? static_cast<Env&>(*shared_env) : ctx.env;
    Env* run_env = &env;
    if (git) run_env = &shared_run_env.emplace(*git->env);
    NodeOptions fleet_options = options;
    fleet_options.read_slots = std::make_shared<ReadSlots>(options.parallelism);
    fleet_options.env_is_shared = git.has_value() || shared_env.has_value();
    auto cluster_of = [&](const std::string& path) {
      auto it = selection->cluster_of.find(path);
      return it == selection->cluster_of.end() ? std::string() : it->second;
    };
    run_in_order(
        n, selection->fleet ? options.parallelism : 1, ctx,
        [&](size_t i, std::ostream& out, std::ostream& err_buf) {
          const std::string& path = selection->specs[i];
          const std::string name = cluster_of(path);
          PrefixedStream err(err_buf, selection->fleet && !name.empty() ? "[" + name + "] " : "");
          // Two specs for one cluster would give two sets of
          // samples with the same labels, two for one node two
          // checks of it: the later spec is refused (below), the
          // rest checked.
          if (auto it = selection->conflicts.find(path); it != selection->conflicts.end()) {
            err << "edgecert: error: " << it->second << "\n";
            return;
          }
          CliContext cluster_ctx =
              with_env(CliContext{env, out, err, ctx.stdin_is_tty, ctx.in, ctx.crl_transport, true},
                       *run_env);
          try {
            results[i] = check_one(path, fleet_options, cluster_ctx);
          } catch (const std::exception& e) {
            // One cluster's bug must not end the others' check.
            err << "edgecert: error: internal error: " << e.what() << "\n";
            results[i] =
                failed_check(path, std::string("internal error: ") + e.what(), ctx.env.now());
          }
        });
    std::set<std::string> names;  // clusters with a check already
    for (size_t i = 0; i < n; ++i) {
      const std::string& path = selection->specs[i];
      if (!results[i]) {
        const std::string& why = selection->conflicts.at(path);
        ClusterCheck c = failed_check(git ? git->tree_path(path) : path, why, ctx.env.now());
        // Named, unless the name is the conflict: one cluster's per-cluster
        // series must not appear twice.
        const std::string name = cluster_of(path);
        if (!names.contains(name)) c.cluster = name;
        names.insert(c.cluster);
        checks.push_back(std::move(c));
        error = true;
        continue;
      }
      ClusterCheck c = std::move(*results[i]);
      names.insert(c.cluster);
      // From git, the spec by its path in the repository: a metric's labels
      // stay the same from one commit to the next.
      if (git) c.spec_path = git->tree_path(c.spec_path);
      error = error || !c.complete();
      checks.push_back(std::move(c));
    }
    if (!o->metrics_file.empty()) {
      if (auto st = ctx.env.write_file_atomic(o->metrics_file, check_metrics_text(checks), 0644);
          !st) {
        ctx.err << fmt::format("edgecert: error: writing the metrics to {}: {}\n", o->metrics_file,
                               st.error().message);
        error = true;
      }
    }
    const bool needs_apply = std::any_of(checks.begin(), checks.end(),
                                         [](const ClusterCheck& c) { return c.needs_apply(); });
    if (o->output == "json") {
      nlohmann::json clusters = nlohmann::json::array();
      for (const ClusterCheck& c : checks) clusters.push_back(check_to_json(c));
      nlohmann::json doc{{"clusters", clusters}};
      if (git) doc["git"] = git_origin_json(git->origin());
      // Error texts may quote what a node sent: never let one abort the output.
      ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      for (size_t i = 0; i < checks.size(); ++i) {
        if (i) ctx.out << "\n";
        print_text(ctx.out, checks[i]);
      }
      if (selection->fleet) ctx.out << "\n" << check_summary(checks, *selection) << "\n";
    }
    if (error) return kExitError;
    return needs_apply ? kExitChanges : kExitOk;
  };
}

}  // namespace edgecert
