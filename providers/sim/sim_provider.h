// The `sim://NAME` node provider: the simulator core (sim_node.h) in-process.
//
// NAME names the node file, `<sim dir>/NAME.json`; it is not required to equal
// the peer's name, so two specs (or a spec and a test) can drive one node.
// NAME must be 1-63 characters of a-z, 0-9 and '-' (it becomes a file name).
// The peer's FQDN is used only when the node boots for the first time (its
// factory certificate is issued for it). The sim dir comes from
// node::effective_sim_dir (--sim-dir, $EDGECERT_SIM_DIR, or
// .edgecert/sim/<metadata.name>).
#pragma once

#include <memory>

#include "providers/node/node.h"
#include "providers/sim/sim_node.h"

namespace edgecert::sim {

// The NAME of "sim://NAME"; kInvalidArgument for anything else.
Result<std::string> sim_node_name(const std::string& endpoint);

// Factory registered for the "sim" scheme.
Result<std::unique_ptr<node::NodeProvider>> make_sim_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer);

// The simulator core behind a sim:// peer, for tests and tools that need the
// administration API (faults, restart time, audit trail, the ACME http-01
// address and scheduler: SimNode::set_acme_http01_listen, run_scheduler).
Result<SimNode> sim_node_for(const node::NodeOpenContext& context, const spec::Spec& spec,
                             const spec::Peer& peer);

}  // namespace edgecert::sim
