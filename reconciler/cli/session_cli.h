// The CLI's side of a session: the node options every command that talks to
// nodes takes, and the engine's session calls rendered for a person (spec
// diagnostics as PATH:LINE:COL, other errors as "edgecert: error: ...").
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/git_source.h"
#include "reconciler/engine/session.h"

namespace CLI {
class App;
}

namespace edgecert {

using NodeOptions = SessionOptions;
// --sim-dir, --state-dir, --insecure, --trust-new-host-key (+
// --target/--exclude/--replace and --allow-unreachable-crl with
// `with_targets`: plan and apply).
void add_node_options(CLI::App& app, NodeOptions& options, bool with_targets);

// --allow-unreachable-crl (plan, apply, crl check): see
// SessionOptions::allow_unreachable_crl.
void add_allow_unreachable_crl_option(CLI::App& app, bool& flag);

// `options` with the CLI context's CRL transport when it names none.
SessionOptions with_cli_network(SessionOptions options, const CliContext& ctx);

// --trust-new-host-key: every command that opens nodes takes it (it sets
// node::NodeOpenContext::trust_new_host_key). A node whose SSH host key is
// not pinned yet is refused with the key's fingerprint unless it is given;
// a changed key is refused whatever is given.
void add_trust_new_host_key_option(CLI::App& app, bool& flag);

// --lock-timeout DURATION ("30s", "5m"; "0" = refuse at once) for commands
// that take the cluster lock; parse_lock_timeout prints what is wrong with it.
void add_lock_timeout_option(CLI::App& app, std::string& text);
std::optional<std::chrono::milliseconds> parse_lock_timeout(const std::string& text,
                                                            CliContext& ctx);

// The run state of the cluster (lock holder, an unfinished run, TLS
// verification an interrupted run left relaxed) as lines on `out`, for the
// nodes of `live` that are permissive now. Prints nothing when there is
// nothing to say.
// With `spec`, also the lock in its rollout.lockRepository.
void print_run_state(std::ostream& out, Env& env, const std::string& cluster_state_dir,
                     const std::vector<std::string>& permissive_now,
                     const spec::Spec* spec = nullptr);

// --git REPO --ref REF --path DIR (git_source.h) on validate, plan, apply
// and check.
struct GitCliOptions {
  std::string repository;
  std::string ref;
  std::string path;
  bool given() const { return !repository.empty() || !ref.empty() || !path.empty(); }
};
void add_git_options(CLI::App& app, GitCliOptions& options);

// With --git: the specs at the ref, for a run whose state root is
// git_state_root(state_dir); nullopt (the error printed, naming REPO, REF
// and the commit) when they cannot be read. --ref or --path without --git
// is an error too.
std::optional<GitSpecs> open_git_cli(const GitCliOptions& options, const std::string& state_dir,
                                     CliContext& ctx);

// SPEC/PATH arguments as paths in `git`'s commit (GitSpecs::spec_path), in
// place; false (the refusal printed) when one is not a path in the
// repository.
bool to_tree_paths(const GitSpecs& git, std::vector<std::string>& names, CliContext& ctx);

// The SPEC arguments of a command that takes many (validate, plan): with
// --git, the specs at the ref (`git` set, `paths` mapped into the commit;
// none = the --path folder); without, `paths` as given, at least one.
// False, the error printed, when the ref cannot be read or nothing is
// given.
bool open_spec_args(const GitCliOptions& options, const std::string& state_dir,
                    std::vector<std::string>& paths, std::optional<GitSpecs>& git, CliContext& ctx);

// {"repository", "ref", "commit", "path"}: where the specs of a JSON
// document came from.
nlohmann::json git_origin_json(const GitOrigin& origin);

// `ctx` reading through `env` instead (a GitTreeEnv).
CliContext with_env(const CliContext& ctx, Env& env);

// "From git: REPO REF at 1a2b3c4d5e6f (path DIR)".
std::string describe_git_origin(const GitOrigin& origin);

// A table: the first row is the header; columns left-aligned, two spaces
// apart, the last one unpadded.
void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& cells);

// open_session with its diagnostics, warnings and error printed to ctx.err;
// nullopt when there is no session.
std::optional<Session> open_session(const std::string& spec_path, const NodeOptions& options,
                                    CliContext& ctx);

// read_live with its notices on ctx.out; prints every unreadable node
// ("edgecert: error: edge1: read state: ...") and returns nullopt when any
// node could not be read.
std::optional<ClusterLive> read_live(Session& session, CliContext& ctx,
                                     bool wait_for_unavailable = false);

// make_plan with its error printed; nullopt on failure.
std::optional<Plan> make_plan(Session& session, const ClusterLive& live, CliContext& ctx);

}  // namespace edgecert
