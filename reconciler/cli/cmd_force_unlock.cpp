// `edgecert force-unlock ID SPEC`: remove a lock left by a dead run.
//
// The lock is found where apply takes it: in the cluster's state folder,
// `.edgecert/state/<cluster>` next to SPEC (or under --state-dir). Removing a
// lock whose run is still going lets two runs change the cluster at once, so
// it asks for confirmation ("Only 'yes' will be accepted", like apply) unless
// --force; without a terminal and without --force it refuses. ID `unreadable`
// removes a lock file that cannot be read (empty or garbled: it names no
// holder), and only such a one. With the spec's rollout.lockRepository, the
// lock across machines (git_lock.h) with that id is removed first, by a
// compare-and-swap ref deletion; apply takes both locks under one id.
#include <optional>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/git_lock.h"
#include "reconciler/engine/lock.h"
#include "reconciler/engine/session.h"
#include "schema/loader.h"

namespace edgecert {
namespace {

// `what`: the lock, as describe_lock says it, or the unreadable file.
bool confirm(const std::string& what, bool maybe_running, bool force, CliContext& ctx) {
  if (force) return true;
  if (!ctx.stdin_is_tty || !ctx.in) {
    ctx.err << "edgecert: error: force-unlock needs confirmation but standard input is not a "
               "terminal; make sure the run that holds the lock is gone, then rerun with "
               "--force. Nothing was changed.\n";
    return false;
  }
  ctx.out << fmt::format(
      "Do you really want to force-unlock?\n"
      "  edgecert will remove the {}{}.\n"
      "  If that run is still going, two runs may then change the cluster at once.\n"
      "  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
      what, maybe_running ? " (the process may still be running)" : "");
  ctx.out.flush();
  std::string answer;
  std::getline(*ctx.in, answer);
  if (answer != "yes") {
    ctx.err << "\nForce-unlock cancelled; the lock stays.\n";
    return false;
  }
  return true;
}

struct Opts {
  std::string id;
  std::string spec;
  std::string state_dir;
  bool force = false;
};

// Removes the cluster's lock in its lock repository when it carries the id
// asked for: true when removed, false when there is none or another (the
// state folder's lock is looked at next); an error has been printed.
std::optional<bool> remove_git_lock(const std::string& repo, const std::string& state_dir,
                                    const std::string& cluster, const Opts& o, CliContext& ctx) {
  auto fail = [&](const std::string& message) -> std::optional<bool> {
    ctx.err << "edgecert: error: force-unlock: " << message << "\n";
    return std::nullopt;
  };
  auto store = open_lock_repository(ctx.env, repo, state_dir);
  if (!store) return fail(store.error().message);
  auto lock = read_git_lock(**store, cluster, o.spec);
  const std::string ref = git_lock_ref(cluster);
  std::string what;
  if (!lock && lock.error().code == ErrorCode::kCorrupt && o.id == kUnreadableLockId)
    what = fmt::format("unreadable lock {} in {}", ref, repo);
  else if (!lock)
    return fail(lock.error().message);
  else if (!*lock || (*lock)->id != o.id)
    return false;
  else
    what = fmt::format("{} ({} in {})", describe_lock(**lock), ref, repo);
  if (!confirm(what, !lock || !holder_is_gone(**lock), o.force, ctx)) return std::nullopt;
  if (auto st = force_unlock_git(**store, cluster, o.id); !st) return fail(st.error().message);
  ctx.out << fmt::format("Removed {}\n", what);
  return true;
}

}  // namespace

std::function<int()> setup_force_unlock(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<Opts>();
  app.add_option("ID", o->id,
                 "Lock id, as printed by the apply that found the lock ('unreadable' for a lock "
                 "file that cannot be read)")
      ->required();
  app.add_option("SPEC", o->spec,
                 "Spec of the cluster: the lock is in .edgecert/state/<cluster> next to it "
                 "(or under --state-dir)");
  app.add_option("--state-dir", o->state_dir,
                 "Root of edgecert's run state, when apply was given one (without SPEC: every "
                 "cluster under it is searched)");
  app.add_flag("-f,--force", o->force, "Do not ask for confirmation");

  return [o, &ctx]() -> int {
    std::vector<std::string> dirs;
    std::string where;
    // The lock across machines (rollout.lockRepository): removed first; apply
    // took the state folder's lock under the same id, removed below.
    bool removed_git = false;
    if (!o->spec.empty()) {
      auto loaded = schema::load_spec_file(o->spec, ctx.env);
      for (const Diagnostic& d : loaded.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
      if (!loaded.ok()) return kExitError;
      dirs.push_back(path_join(state_root(o->spec, o->state_dir), loaded.spec->name));
      where = dirs.back() + " (the state folder of " + o->spec + ")";
      if (const auto& repo = loaded.spec->rollout.lock_repository) {
        auto r = remove_git_lock(*repo, dirs.back(), loaded.spec->name, *o, ctx);
        if (!r) return kExitError;
        removed_git = *r;
        where += " or " + *repo;
      }
    } else if (o->id == kUnreadableLockId) {
      ctx.err << "edgecert: error: force-unlock unreadable: give the cluster's spec file "
                 "('edgecert force-unlock unreadable SPEC'): an unreadable lock names no "
                 "cluster, so edgecert does not pick one for you\n";
      return kExitError;
    } else if (!o->state_dir.empty()) {
      if (auto names = ctx.env.list_dir(o->state_dir); names)
        for (const auto& n : *names) dirs.push_back(path_join(o->state_dir, n));
      where = o->state_dir + " (--state-dir)";
    } else {
      ctx.err << "edgecert: error: force-unlock: give the cluster's spec file ('edgecert "
                 "force-unlock ID SPEC': the lock is in .edgecert/state next to it) or the "
                 "--state-dir apply was given\n";
      return kExitError;
    }
    // What the operator typed, for the commands messages suggest.
    std::string args = o->spec.empty() ? "--state-dir " + o->state_dir : o->spec;
    if (!o->spec.empty() && !o->state_dir.empty()) args += " --state-dir " + o->state_dir;
    for (const auto& dir : dirs) {
      auto lock = read_lock(ctx.env, dir, args);
      if (!lock && lock.error().code == ErrorCode::kCorrupt && o->id == kUnreadableLockId) {
        // Empty or garbled: it names no holder, so no id can be matched.
        const std::string file = path_join(dir, "lock.json");
        if (!confirm("unreadable lock file " + file, true, o->force, ctx)) return kExitError;
        if (auto st = force_unlock(ctx.env, dir, o->id); !st) {
          ctx.err << "edgecert: error: force-unlock: " << st.error().message << "\n";
          return kExitError;
        }
        ctx.out << fmt::format("Removed the unreadable lock file {}\n", file);
        return kExitOk;
      }
      if (!lock) {
        ctx.err << "edgecert: error: force-unlock: " << lock.error().message << "\n";
        return kExitError;
      }
      if (!*lock) continue;
      if ((*lock)->id != o->id) {
        if (removed_git) {
          ctx.out << fmt::format("The lock in {} is another: {}; it stays\n", dir,
                                 describe_lock(**lock));
          return kExitOk;
        }
        if (dirs.size() == 1) {
          ctx.err << fmt::format(
              "edgecert: error: force-unlock: lock id {} does not match the current {} in {}; "
              "nothing was changed\n",
              o->id, describe_lock(**lock), dir);
          return kExitError;
        }
        continue;
      }
      // Same id as the git lock just removed: the same run, confirmed already.
      if (!removed_git && !confirm(describe_lock(**lock), !holder_is_gone(**lock), o->force, ctx))
        return kExitError;
      auto st = force_unlock(ctx.env, dir, o->id);
      if (!st) {
        ctx.err << "edgecert: error: force-unlock: " << st.error().message << "\n";
        return kExitError;
      }
      ctx.out << fmt::format("Removed {} ({})\n", describe_lock(**lock), dir);
      return kExitOk;
    }
    if (removed_git) return kExitOk;
    ctx.err << fmt::format("edgecert: error: force-unlock: no lock with id {} in {}\n", o->id,
                           where);
    return kExitError;
  };
}

}  // namespace edgecert
