// A session: everything plan and apply share — the loaded spec, its digest,
// the opened nodes and issuer, the desired trust, the live state.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/issuer/issuer.h"
#include "providers/node/node.h"
#include "reconciler/cli.h"
#include "reconciler/diff.h"
#include "reconciler/live_state.h"
#include "reconciler/plan.h"
#include "schema/spec.h"

namespace CLI {
class App;
}

namespace edgecert {

// Options every command that talks to nodes takes.
struct NodeOptions {
  std::string sim_dir;                // --sim-dir
  std::string state_dir;              // --state-dir (root; the cluster name is appended)
  bool insecure = false;              // --insecure
  std::vector<std::string> targets;   // --target (repeatable)
  std::vector<std::string> excludes;  // --exclude (repeatable)
};
void add_node_options(CLI::App& app, NodeOptions& options, bool with_targets);

struct Session {
  spec::Spec spec;
  std::string spec_sha256;  // of the spec file's bytes
  std::string state_dir;    // <root>/<cluster>
  std::unique_ptr<node::NodeOpenContext> open_context;
  OpenedNodes nodes;
  std::unique_ptr<issuer::Issuer> issuer;
  std::string issuer_description;
  DesiredTrust trust;
  std::vector<std::string> targets;  // resolved: empty = all peers
};

// Loads and validates the spec (diagnostics to ctx.err), opens nodes and the
// issuer, loads the trusted CAs. On failure the message is already printed
// and nullopt returned.
std::optional<Session> open_session(const std::string& spec_path, const NodeOptions& options,
                                    CliContext& ctx);

// Reads live state; prints unreachable nodes as "NODE: read state: ..." and
// returns nullopt when any node could not be read. With
// `wait_for_unavailable` (apply), a node that answers kUnavailable — it may be
// restarting after an interrupted run — is first given rollout.healthTimeout
// to come back.
std::optional<ClusterLive> read_live(Session& session, CliContext& ctx,
                                     bool wait_for_unavailable = false);

// Diff + plan (+ next rollout window). Errors printed; nullopt on failure.
std::optional<Plan> make_plan(Session& session, const ClusterLive& live, CliContext& ctx);

}  // namespace edgecert
