#include "reconciler/cli/session_cli.h"

#include <algorithm>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "reconciler/engine/run_state.h"
#include "schema/values.h"

namespace edgecert {

void add_node_options(CLI::App& app, NodeOptions& o, bool with_targets) {
  app.add_option("--sim-dir", o.sim_dir,
                 "Folder of simulator node files for sim:// peers (default: $EDGECERT_SIM_DIR, "
                 "else .edgecert/sim/<cluster> next to the spec)");
  app.add_option(
      "--state-dir", o.state_dir,
      "Root of edgecert's run state: locks, journals, audit logs (default .edgecert/state "
      "in the spec's folder, whatever the working folder)");
  app.add_flag("--insecure", o.insecure,
               "Do not verify HTTPS nodes' management certificates (dangerous; warned)");
  add_trust_new_host_key_option(app, o.trust_new_host_key);
  app.add_option("--parallelism", o.parallelism,
                 "Read up to this many nodes at once (default 10; 1 reads one after another). "
                 "Changes still go one node at a time")
      ->check(CLI::Range(1, 64));
  if (with_targets) {
    app.add_option("--target", o.targets, "Only change this node (repeatable)");
    app.add_option("--exclude", o.excludes, "Do not change this node (repeatable)");
    app.add_option("--replace", o.replace,
                   "Reissue this node's certificate even when it matches the spec, through the "
                   "same one-node-at-a-time rollout (repeatable)");
    add_allow_unreachable_crl_option(app, o.allow_unreachable_crl);
  }
}

void add_trust_new_host_key_option(CLI::App& app, bool& flag) {
  app.add_flag("--trust-new-host-key", flag,
               "Accept and record (in access.knownHosts) the SSH host key of a node that has "
               "none pinned yet; check the fingerprint the refusal printed first. A changed key "
               "is always refused");
}

void add_allow_unreachable_crl_option(CLI::App& app, bool& flag) {
  app.add_flag("--allow-unreachable-crl", flag,
               "Go on when a CRL source cannot be fetched now although revocationChecking."
               "fallback is treat-as-revoked (a warning instead of an error; the nodes will "
               "reject the certificates it covers until it is reachable)");
}

SessionOptions with_cli_network(SessionOptions options, const CliContext& ctx) {
  if (!options.crl_transport) options.crl_transport = ctx.crl_transport;
  return options;
}

void add_lock_timeout_option(CLI::App& app, std::string& text) {
  app.add_option("--lock-timeout", text,
                 "Wait this long for a cluster lock another run holds, e.g. 30s or 5m, "
                 "showing who holds it (default 0: refuse at once, naming the holder)");
}

std::optional<std::chrono::milliseconds> parse_lock_timeout(const std::string& text,
                                                            CliContext& ctx) {
  if (text == "0") return std::chrono::milliseconds(0);
  if (auto d = schema::parse_duration(text)) return std::chrono::milliseconds(*d);
  ctx.err << fmt::format(
      "edgecert: error: --lock-timeout '{}' is not a duration (e.g. 30s, 5m, 1h30m; 0 to "
      "refuse at once)\n",
      text);
  return std::nullopt;
}

void print_run_state(std::ostream& out, Env& env, const std::string& cluster_state_dir,
                     const std::vector<std::string>& permissive_now, const spec::Spec* spec) {
  for (const auto& line :
       describe_run_state(read_run_state(env, cluster_state_dir, spec), permissive_now))
    out << line << "\n";
}

void add_git_options(CLI::App& app, GitCliOptions& o) {
  app.add_option("--git", o.repository,
                 "Read the spec (and the files it names) from this git repository, a path or "
                 "URL, fetched into a cache in the state folder; no checkout is used");
  app.add_option("--ref", o.ref,
                 "With --git: the branch, tag, ref (refs/pull/1/head) or commit to read");
  app.add_option("--path", o.path,
                 "With --git: the folder in the repository specs are named from (default: "
                 "its root)");
}

std::optional<GitSpecs> open_git_cli(const GitCliOptions& o, const std::string& state_dir,
                                     CliContext& ctx) {
  if (o.repository.empty()) {
    ctx.err << "edgecert: error: --ref and --path read a spec from git and need --git REPO\n";
    return std::nullopt;
  }
  auto specs = open_git_specs(ctx.env, git_state_root(state_dir), o.repository, o.ref, o.path);
  if (!specs) {
    ctx.err << "edgecert: error: " << specs.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*specs);
}

bool to_tree_paths(const GitSpecs& git, std::vector<std::string>& names, CliContext& ctx) {
  for (std::string& name : names) {
    auto in_tree = git.spec_path(name);
    if (!in_tree) {
      ctx.err << "edgecert: error: " << not_in_repository(name) << "\n";
      return false;
    }
    name = *in_tree;
  }
  return true;
}

bool open_spec_args(const GitCliOptions& options, const std::string& state_dir,
                    std::vector<std::string>& paths, std::optional<GitSpecs>& git,
                    CliContext& ctx) {
  if (!options.given()) {
    if (!paths.empty()) return true;
    ctx.err << "edgecert: error: SPEC is required (a spec, or a folder of specs), or --git REPO "
               "--ref REF\n";
    return false;
  }
  git = open_git_cli(options, state_dir, ctx);
  if (!git || !to_tree_paths(*git, paths, ctx)) return false;
  if (paths.empty()) paths.push_back(git->dir());
  return true;
}

nlohmann::json git_origin_json(const GitOrigin& o) {
  return {{"repository", o.repository}, {"ref", o.ref}, {"commit", o.commit}, {"path", o.path}};
}

CliContext with_env(const CliContext& ctx, Env& env) {
  return CliContext{env,
                    ctx.out,
                    ctx.err,
                    ctx.stdin_is_tty,
                    ctx.in,
                    ctx.crl_transport,
                    &env == &ctx.env && ctx.env_thread_safe};
}

std::string describe_git_origin(const GitOrigin& o) {
  return fmt::format("From git: {} {} at {}{}", o.repository, o.ref, o.commit.substr(0, 12),
                     o.path.empty() ? "" : " (path " + o.path + ")");
}

void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& cells) {
  if (cells.empty()) return;
  std::vector<size_t> width(cells.front().size(), 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < line.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], line[i].size());
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i)
      text += i + 1 == line.size() || i >= width.size()
                  ? line[i]
                  : fmt::format("{:<{}}  ", line[i], width[i]);
    out << text << "\n";
  }
}

std::optional<Session> open_session(const std::string& spec_path, const NodeOptions& options,
                                    CliContext& ctx) {
  OpenedSession opened = open_session(ctx.env, spec_path, with_cli_network(options, ctx));
  for (const Diagnostic& d : opened.diagnostics) ctx.err << d.to_string() << "\n";
  for (const std::string& w : opened.warnings) ctx.err << "edgecert: warning: " << w << "\n";
  if (opened.error) ctx.err << "edgecert: error: " << opened.error->message << "\n";
  return std::move(opened.session);
}

std::optional<ClusterLive> read_live(Session& session, CliContext& ctx, bool wait_for_unavailable) {
  ClusterLive live = read_live(session, wait_for_unavailable,
                               [&ctx](const std::string& line) { ctx.out << line << "\n"; });
  if (!live.all_readable()) {
    for (const auto& n : live.nodes)
      if (n.error) ctx.err << "edgecert: error: " << n.error->message << "\n";
    ctx.err << "edgecert: error: cannot plan without the live state of every node; nothing was "
               "changed\n";
    return std::nullopt;
  }
  return live;
}

std::optional<Plan> make_plan(Session& session, const ClusterLive& live, CliContext& ctx) {
  auto plan = make_plan(session, live, ctx.env);
  if (!plan) {
    ctx.err << "edgecert: error: " << plan.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*plan);
}

}  // namespace edgecert
