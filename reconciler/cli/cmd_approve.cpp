// `edgecert approve PLAN --by NAME [--comment TEXT]`: record that NAME
// reviewed the saved plan PLAN, bound to its bytes (approval.h), in
// PLAN.approvals.json. The plan is decoded and checked as apply decodes it
// first: a malformed plan cannot be approved. With the plan's spec at hand,
// it says how many of the approvals spec.rollout.changeControl requires are
// there now. Exit 1 (nothing written) for a bad name, a second approval by
// the same name, an unreadable approvals file or one for other plan bytes.
#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/apply.h"
#include "reconciler/engine/approval.h"
#include "reconciler/engine/fleet_plan.h"
#include "reconciler/engine/plan.h"
#include "schema/loader.h"

namespace edgecert {

std::function<int()> setup_approve(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string plan;
    std::string by;
    std::string comment;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("PLAN", o->plan,
                 "A plan saved by 'edgecert plan --out' (one cluster's, or a fleet's)")
      ->required();
  app.add_option("--by", o->by,
                 "Who approves (a name or a login, as your change process "
                 "knows them)")
      ->required();
  app.add_option("--comment", o->comment, "Why, or the review's reference");

  return [o, &ctx]() -> int {
    auto fail = [&](const std::string& message) {
      ctx.err << "edgecert: error: approve: " << message << "\n";
      return kExitError;
    };
    // A fleet plan (fleet_plan.h): one approval covers every cluster's plan
    // in the file, as its bytes.
    if (is_fleet_plan(ctx.env, o->plan)) {
      auto file = read_fleet_plan(ctx.env, o->plan);
      if (!file) return fail(file.error().message);
      auto recorded = approve_plan(ctx.env, o->plan, file->sha256, o->by, o->comment);
      if (!recorded) return fail(recorded.error().message);
      ctx.out << fmt::format("Approved {} ({} clusters: {}; sha256 {}) by {}.\n", o->plan,
                             file->clusters.size(), fmt::join(file->clusters, ", "),
                             recorded->plan_sha256.substr(0, 16), o->by);
      const size_t have = distinct_approvers(*recorded).size();
      for (const nlohmann::json& entry : file->plans) {
        auto plan = plan_from_json(entry, o->plan);
        if (!plan) continue;  // read_fleet_plan checked each
        std::string spec_path =
            ctx.env.exists(plan->spec_path) ? plan->spec_path : plan->spec_absolute_path;
        auto loaded = schema::load_spec_file(spec_path, ctx.env);
        if (!loaded.ok() || !loaded.spec->rollout.change_control ||
            loaded.spec->rollout.change_control->approvals == 0)
          continue;
        const int need = loaded.spec->rollout.change_control->approvals;
        ctx.out << fmt::format("  {}: {} of the {} approval{} its spec requires\n", plan->cluster,
                               std::min<size_t>(have, need), need, need == 1 ? "" : "s");
      }
      return kExitOk;
    }
    std::string sha256;  // of the bytes decoded below: what the approval binds
    auto saved = read_saved_plan(ctx.env, o->plan, &sha256);
    if (!saved) {
      if (auto st = ctx.env.read_file(o->plan, read_limits::kSavedPlan); !st)
        return fail(st.error().message);
      return fail(o->plan +
                  ": not a saved plan (a JSON object with format_version, as 'plan "
                  "--out' writes)");
    }
    auto plan = plan_from_json(*saved, o->plan);
    if (!plan) return fail(plan.error().message);
    auto recorded = approve_plan(ctx.env, o->plan, sha256, o->by, o->comment);
    if (!recorded) return fail(recorded.error().message);
    ctx.out << fmt::format("Approved {} (cluster {}, sha256 {}) by {}.\n", o->plan, plan->cluster,
                           recorded->plan_sha256.substr(0, 16), o->by);
    // How far along: the spec, when it can be read, says what is required.
    std::string spec_path =
        ctx.env.exists(plan->spec_path) ? plan->spec_path : plan->spec_absolute_path;
    auto loaded = schema::load_spec_file(spec_path, ctx.env);
    if (loaded.ok() && loaded.spec->rollout.change_control) {
      const int need = loaded.spec->rollout.change_control->approvals;
      const size_t have = distinct_approvers(*recorded).size();
      if (need == 0)
        ctx.out << fmt::format("{} requires no approval; this one is recorded.\n", spec_path);
      else
        ctx.out << fmt::format("{} of the {} approval{} {} requires{}.\n",
                               std::min<size_t>(have, need), need, need == 1 ? "" : "s", spec_path,
                               have >= static_cast<size_t>(need)
                                   ? ": 'edgecert apply " + o->plan + "' may run it"
                                   : "");
    } else {
      ctx.out << fmt::format("{} approval{} recorded in {}.\n", recorded->approvals.size(),
                             recorded->approvals.size() == 1 ? "" : "s", approvals_path(o->plan));
    }
    return kExitOk;
  };
}

}  // namespace edgecert
