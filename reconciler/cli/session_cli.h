// The CLI's side of a session: the node options every command that talks to
// nodes takes, and the engine's session calls rendered for a person (spec
// diagnostics as PATH:LINE:COL, other errors as "edgecert: error: ...").
#pragma once

#include <optional>
#include <string>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/session.h"

namespace CLI {
class App;
}

namespace edgecert {

using NodeOptions = SessionOptions;
// --sim-dir, --state-dir, --insecure (+ --target/--exclude/--replace with
// `with_targets`: plan and apply).
void add_node_options(CLI::App& app, NodeOptions& options, bool with_targets);

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
