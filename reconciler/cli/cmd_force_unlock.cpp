// `edgecert force-unlock ID [SPEC]`: remove a lock left by a dead run.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/lock.h"
#include "schema/loader.h"

namespace edgecert {

std::function<int()> setup_force_unlock(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string id;
    std::string spec;
    std::string state_dir;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("ID", o->id, "Lock id, as printed by the apply that found the lock")->required();
  app.add_option("SPEC", o->spec, "Spec of the cluster (default: search every cluster's lock)");
  app.add_option("--state-dir", o->state_dir,
                 "Root of edgecert's run state (default .edgecert/state)");

  return [o, &ctx]() -> int {
    std::string root = o->state_dir.empty() ? ".edgecert/state" : o->state_dir;
    std::vector<std::string> dirs;
    if (!o->spec.empty()) {
      auto loaded = schema::load_spec_file(o->spec, ctx.env);
      for (const Diagnostic& d : loaded.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
      if (!loaded.ok()) return kExitError;
      dirs.push_back(path_join(root, loaded.spec->name));
    } else if (auto names = ctx.env.list_dir(root); names) {
      for (const auto& n : *names) dirs.push_back(path_join(root, n));
    }
    for (const auto& dir : dirs) {
      auto lock = read_lock(ctx.env, dir);
      if (!lock || !*lock || (*lock)->id != o->id) continue;
      auto st = force_unlock(ctx.env, dir, o->id);
      if (!st) {
        ctx.err << "edgecert: error: force-unlock: " << st.error().message << "\n";
        return kExitError;
      }
      ctx.out << fmt::format("Removed {} ({})\n", describe_lock(**lock), dir);
      return kExitOk;
    }
    ctx.err << fmt::format("edgecert: error: force-unlock: no lock with id {} under {}\n", o->id,
                           root);
    return kExitError;
  };
}

}  // namespace edgecert
