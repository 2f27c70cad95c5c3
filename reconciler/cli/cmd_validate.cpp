// `edgecert validate SPEC...`: decode and validate specs without touching nodes.
#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/site.h"
#include "schema/loader.h"

namespace edgecert {

std::function<int()> setup_validate(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::vector<std::string> specs;
    std::string shard;
    std::string output = "text";
    bool strict = false;
    GitCliOptions git;
    std::string state_dir;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->specs,
                 "Spec files or folders (searched for specs) to check; with --git, in the "
                 "repository (default: every spec under the --path folder)");
  add_shard_option(app, o->shard);
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--strict", o->strict, "Treat warnings as errors");
  add_git_options(app, o->git);
  app.add_option("--state-dir", o->state_dir,
                 "With --git: the root of the run state, where the repository's cache is kept "
                 "(default .edgecert/state in the working folder)");

  return [o, &ctx]() -> int {
    std::optional<GitSpecs> git;
    std::vector<std::string> paths = o->specs;
    if (!open_spec_args(o->git, o->state_dir, paths, git, ctx)) return kExitError;
    Env& env = git ? *git->env : ctx.env;
    schema::LoadOptions load_options;
    if (git) load_options.read_only_root = git->env->root();
    NodeOptions node;
    node.state_dir = o->state_dir;
    if (git) node = git_session_options(node, *git);
    // Two specs for one cluster or one node are refused here too: validate
    // is what a pull request's CI runs first.
    CliContext run_ctx = with_env(ctx, env);
    auto selection = select_fleet(env, paths, o->shard, node, load_options, run_ctx,
                                  /*refuse_conflicts=*/false);
    if (!selection) return kExitError;
    const std::vector<std::string>& specs = selection->specs;
    Diagnostics all;
    for (const std::string& path : specs) {
      schema::LoadResult r = schema::load_spec_file(path, env, load_options);
      all.append(r.diagnostics);
      // A C naming its E: the two are checked as one site (site.h).
      if (r.spec) all.append(check_site_specs(*r.spec, env, load_options).diagnostics);
    }
    bool valid = !all.has_errors() && !(o->strict && all.warning_count() > 0) &&
                 selection->conflicts.empty();
    std::vector<Diagnostic> sorted = all.sorted();
    if (o->output == "json") {
      nlohmann::json j;
      j["valid"] = valid;
      j["specs"] = specs;
      if (!selection->shard.empty()) j["shard"] = selection->shard;
      if (git) j["git"] = git_origin_json(git->origin());
      j["diagnostics"] = nlohmann::json::array();
      for (const Diagnostic& d : sorted) j["diagnostics"].push_back(diagnostic_to_json(d));
      // A conflict is about two files, not a place in one: the later file,
      // no position.
      for (const auto& [path, message] : selection->conflicts)
        j["diagnostics"].push_back({{"path", path},
                                    {"line", 0},
                                    {"column", 0},
                                    {"severity", "error"},
                                    {"message", message}});
      // Shown only: a path from the command line may hold any bytes.
      ctx.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      for (const Diagnostic& d : sorted) ctx.err << d.to_string() << "\n";
      for (const auto& [path, message] : selection->conflicts)
        ctx.err << "edgecert: error: " << message << "\n";
      if (!selection->conflicts.empty())
        ctx.err << "edgecert: error: the specs given do not describe one fleet\n";
      if (git) ctx.out << describe_git_origin(git->origin()) << "\n";
      if (valid) {
        for (const std::string& path : specs) ctx.out << path << ": valid\n";
      }
      if (selection->fleet)
        ctx.out << fmt::format(
            "{} spec{}{}: {}\n", specs.size(), specs.size() == 1 ? "" : "s",
            selection->shard.empty()
                ? ""
                : fmt::format(" (shard {} of {} found)", selection->shard, selection->found),
            valid ? "valid" : "not valid");
    }
    return valid ? kExitOk : kExitError;
  };
}

}  // namespace edgecert
