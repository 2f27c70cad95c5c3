// `edgecert plan SPEC`: what apply would do, node by node. Read-only.
//
// Before the plan it says what the state folder knows: a lock held by another
// run (who, since when, for what), an unfinished run the next apply resumes,
// and cluster TLS verification an earlier run relaxed and never restored.
// Ctrl-C exits 130 at once: nothing to restore.
#include <sstream>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/approval.h"
#include "reconciler/engine/vcs.h"

namespace edgecert {

std::function<int()> setup_plan(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string spec;
    std::string out;
    std::string output = "text";
    bool detailed_exitcode = false;
    std::string change_id;
    bool require_clean = false;
    NodeOptions node;
    GitCliOptions git;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->spec, "Spec file (with --git: its path in the repository)")->required();
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
    if (o->git.given()) {
      git = open_git_cli(o->git, o->node.state_dir, ctx);
      if (!git) return kExitError;
    }
    // From git, everything the spec names is read from the commit.
    CliContext run_ctx = with_env(ctx, git ? *git->env : ctx.env);
    std::optional<std::string> spec_in_tree;
    if (git && !(spec_in_tree = git->spec_path(o->spec))) {
      ctx.err << "edgecert: error: " << not_in_repository(o->spec) << "\n";
      return kExitError;
    }
    auto session = git ? open_session(*spec_in_tree, git_session_options(o->node, *git), run_ctx)
                       : open_session(o->spec, o->node, ctx);
    if (!session) return kExitError;
    // A commit's tree is clean by definition.
    if (o->require_clean && !git)
      if (Status st = require_clean_tree(*make_git_vcs(), o->spec); !st) {
        ctx.err << "edgecert: error: " << st.error().message << "\n";
        return kExitError;
      }
    // A change ID the spec's pattern refuses is refused here, where it is
    // typed, not at apply after the plan was reviewed and approved.
    const spec::ChangeControl no_control{0, std::nullopt};
    const auto& cc = session->spec.rollout.change_control;
    if (!o->change_id.empty()) {
      if (Status st = check_change_id(cc ? *cc : no_control, o->change_id); !st) {
        ctx.err << "edgecert: error: " << st.error().message << "\n";
        return kExitError;
      }
    } else if (cc && cc->change_id_pattern && cc->approvals > 0 && !o->out.empty()) {
      ctx.err << fmt::format(
          "edgecert: error: spec.rollout.changeControl requires a change ID matching '{}' in "
          "the plan that is approved: give --change-id; nothing was saved\n",
          *cc->change_id_pattern);
      return kExitError;
    } else if (cc && cc->change_id_pattern) {
      ctx.err << fmt::format(
          "edgecert: note: spec.rollout.changeControl requires a change ID matching '{}': give "
          "--change-id here (it is then part of what is approved) or to apply\n",
          *cc->change_id_pattern);
    }
    auto live = read_live(*session, run_ctx);
    if (!live) return kExitError;
    auto plan = make_plan(*session, *live, run_ctx);
    if (!plan) return kExitError;
    if (!o->change_id.empty()) plan->change_id = o->change_id;
    if (git) record_git_origin(*plan, *git);
    if (!o->out.empty()) {
      if (auto st = ctx.env.write_file_atomic(o->out, plan_to_json(*plan).dump(2) + "\n", 0644);
          !st) {
        ctx.err << "edgecert: error: saving the plan: " << st.error().message << "\n";
        return kExitError;
      }
    }
    std::vector<std::string> permissive;
    for (const NodeLive& n : live->nodes)
      if (n.state && n.state->tls_verification == spec::TlsVerification::kPermissive)
        permissive.push_back(n.peer);
    // JSON mode keeps stdout to the one document.
    std::ostringstream run_state;
    print_run_state(run_state, ctx.env, session->state_dir, permissive, &session->spec);
    if (git) run_state << describe_git_origin(git->origin()) << "\n";
    if (o->output == "json") {
      ctx.err << run_state.str();
      ctx.out << plan_to_json(*plan).dump(2) << "\n";
    } else if (o->output == "markdown") {
      // What the state folder says goes to stderr: the comment is the plan.
      ctx.err << run_state.str();
      ctx.out << render_plan_markdown(*plan);
    } else {
      if (!run_state.str().empty()) ctx.out << run_state.str() << "\n";
      ctx.out << render_plan_text(*plan);
      if (plan->change_id) ctx.out << fmt::format("Change: {}\n", *plan->change_id);
      if (!o->out.empty() && !plan->empty()) {
        if (cc && cc->approvals > 0)
          ctx.out << fmt::format(
              "\nSaved the plan to {}. spec.rollout.changeControl requires {} approval{}: "
              "'edgecert approve {} --by NAME' (each approver), then 'edgecert apply {}'\n",
              o->out, cc->approvals, cc->approvals == 1 ? "" : "s", o->out, o->out);
        else
          ctx.out << fmt::format(
              "\nSaved the plan to {}. Apply exactly it with: edgecert apply {}\n", o->out, o->out);
      }
    }
    if (o->detailed_exitcode && !plan->empty()) return kExitChanges;
    return kExitOk;
  };
}

}  // namespace edgecert
