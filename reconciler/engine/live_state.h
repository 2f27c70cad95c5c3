// Live state of a cluster: what every node reports, read once per run.
//
// The planner diffs against a ClusterLive; saved plans store each node's
// summary so that apply can tell, field by field, what changed since the plan.
// A summary is canonical JSON of everything certificate-related a node
// reports, minus what changes on its own (alarms, which tick daily), and holds
// public data only (fingerprints, names, settings) — never key material.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/node/node.h"
#include "schema/spec.h"

namespace edgecert {

struct NodeLive {
  std::string peer;  // peer name
  std::optional<node::NodeState> state;
  std::optional<Error> error;  // set when the node could not be read
  nlohmann::json summary;      // node_summary(*state), or null
  std::string fingerprint;     // sha256 hex of summary.dump(), "" when unreadable
};

struct ClusterLive {
  std::vector<NodeLive> nodes;  // in spec peer order
  const NodeLive* find(const std::string& peer) const;
  bool all_readable() const;
};

// Opens providers for every peer (or those in `only`, when not empty).
// Returns the providers keyed by peer name, in spec order.
struct OpenedNodes {
  std::vector<std::pair<std::string, std::unique_ptr<node::NodeProvider>>> providers;
  node::NodeProvider* find(const std::string& peer) const;
};
Result<OpenedNodes> open_nodes(const node::NodeOpenContext& context, const spec::Spec& spec);

// A bound on node reads in flight across the clusters of one command
// (--parallelism over a fleet: "N nodes at once", whatever cluster they
// belong to). read_cluster holds a slot for each read.
class ReadSlots {
 public:
  explicit ReadSlots(size_t slots) : free_(std::max<size_t>(slots, 1)) {}
  void acquire();
  void release();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t free_;
};

// Reads every node; a node that fails is recorded with its error, the others
// are still read. Up to `parallelism` nodes are read at once (each on its
// own thread; 1 = one after another); the result is in the nodes' order
// whatever order the reads finish in. With more than one, the providers
// must have been opened on an Env many threads may share
// (synchronized_env.h). A provider that throws is that node's kInternal
// error. With `slots`, each read also holds one of them (shared with other
// clusters' reads).
ClusterLive read_cluster(OpenedNodes& nodes, size_t parallelism = 1, ReadSlots* slots = nullptr);

// The appliance's factory certificate, issued at install by its factory
// "TEMPORARY CA ..." (Cisco strongly recommends replacing both, guide ch.6).
bool is_factory_certificate(const pki::Certificate& leaf);
// The factory temporary CA itself: a self-signed "TEMPORARY CA ..." root.
bool is_factory_ca(const pki::Certificate& ca);
// How status and plan reasons name them: "the factory temporary certificate
// (issued by the factory TEMPORARY CA 'TEMPORARY CA 1b2c...')" and "the
// factory TEMPORARY CA 'TEMPORARY CA 1b2c...'".
std::string describe_factory_certificate(const pki::Certificate& leaf);
std::string describe_factory_ca(const pki::Certificate& ca);

// Public facts of a certificate; a factory one also has "factory": true.
nlohmann::json certificate_summary(const pki::Certificate& cert);
nlohmann::json node_summary(const node::NodeState& state);

// Field-by-field differences between two summaries, as
// "server_certificate.sha256: AB:.. -> CD:.." lines (dotted paths).
std::vector<std::string> summary_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace edgecert
