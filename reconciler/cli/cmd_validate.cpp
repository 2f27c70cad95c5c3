// `edgecert validate SPEC...`: decode and validate specs without touching nodes.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session_cli.h"
#include "schema/loader.h"

namespace edgecert {

std::function<int()> setup_validate(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::vector<std::string> specs;
    std::string output = "text";
    bool strict = false;
    GitCliOptions git;
    std::string state_dir;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->specs,
                 "Spec files to check; with --git, in the repository (default: every spec in "
                 "the --path folder)");
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--strict", o->strict, "Treat warnings as errors");
  add_git_options(app, o->git);
  app.add_option("--state-dir", o->state_dir,
                 "With --git: the root of the run state, where the repository's cache is kept "
                 "(default .edgecert/state in the working folder)");

  return [o, &ctx]() -> int {
    std::optional<GitSpecs> git;
    std::vector<std::string> specs = o->specs;
    if (o->git.given()) {
      git = open_git_cli(o->git, o->state_dir, ctx);
      if (!git) return kExitError;
      if (!to_tree_paths(*git, specs, ctx)) return kExitError;
      if (specs.empty()) {
        auto all = expand_spec_paths(*git->env, {git->dir()});
        if (!all) {
          ctx.err << "edgecert: error: " << all.error().message << "\n";
          return kExitError;
        }
        specs = std::move(*all);
      }
    } else if (specs.empty()) {
      ctx.err << "edgecert: error: SPEC is required, or --git REPO --ref REF\n";
      return kExitError;
    }
    Env& env = git ? *git->env : ctx.env;
    schema::LoadOptions load_options;
    if (git) load_options.read_only_root = git->env->root();
    Diagnostics all;
    for (const std::string& path : specs) {
      schema::LoadResult r = schema::load_spec_file(path, env, load_options);
      all.append(r.diagnostics);
    }
    bool valid = !all.has_errors() && !(o->strict && all.warning_count() > 0);
    std::vector<Diagnostic> sorted = all.sorted();
    if (o->output == "json") {
      nlohmann::json j;
      j["valid"] = valid;
      if (git)
        j["git"] = {{"repository", git->origin().repository},
                    {"ref", git->origin().ref},
                    {"commit", git->origin().commit}};
      j["diagnostics"] = nlohmann::json::array();
      for (const Diagnostic& d : sorted) j["diagnostics"].push_back(diagnostic_to_json(d));
      // Shown only: a path from the command line may hold any bytes.
      ctx.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      for (const Diagnostic& d : sorted) ctx.err << d.to_string() << "\n";
      if (git) ctx.out << describe_git_origin(git->origin()) << "\n";
      if (valid) {
        for (const std::string& path : specs) ctx.out << path << ": valid\n";
      }
    }
    return valid ? kExitOk : kExitError;
  };
}

}  // namespace edgecert
