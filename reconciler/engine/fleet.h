// Fleets: which specs a command runs on when it is given many files and
// folders, which of them one runner takes (--shard K/N), and what makes a
// set of specs ambiguous (two specs for one cluster, or for one node).
//
// Nothing here reads a node: the CLI discovers and loads the specs, refuses
// a conflicting fleet before any node is touched, and runs each selected
// cluster as it runs one (docs/scaling.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/node/node.h"
#include "schema/spec.h"

namespace edgecert {

// True when `text` has a line, outside any indentation, reading
// "apiVersion: edgecert/v1" (key and value may be quoted, the value followed
// by a comment; a UTF-8 byte order mark is ignored). Folders hold other YAML (CI workflows,
// Kubernetes manifests): only files that say they are specs are taken from them.
bool looks_like_spec(std::string_view text);

// The spec files `paths` stand for, in order, each at most once however it
// is spelled or reached (Env::real_path). A file is taken as given (a
// missing one is reported when it is loaded). A folder is searched
// recursively, in name order, for *.yaml and *.yml files that
// looks_like_spec; names starting with '.' (.git, .edgecert) are skipped,
// a folder met again through a symbolic link is not entered twice, and
// nothing deeper than 16 folders is searched. A folder with no spec in it
// is an error naming it (and saying what was skipped). YAML files in a
// folder that mention edgecert/v1 but do not look_like_spec (an indented or
// misspelt apiVersion) are left out and, with `skipped`, listed there.
Result<std::vector<std::string>> discover_specs(Env& env, const std::vector<std::string>& paths,
                                                std::vector<std::string>* skipped = nullptr);

// One runner's part of a fleet: shard `index` (1-based) of `count`.
struct Shard {
  unsigned index = 1;
  unsigned count = 1;
};

// "K/N" with 1 <= K <= N <= 1000; an error says what is wrong.
Result<Shard> parse_shard(std::string_view text);

// FNV-1a (64 bit) of the cluster's name: stable across versions, machines
// and runs, so shard K of N is the same clusters wherever it runs
// (docs/scaling.md gives the function, for tools that need to agree).
std::uint64_t cluster_hash(std::string_view cluster);

// True when `cluster` belongs to `shard`: cluster_hash % count == index - 1.
// The N shards of a fleet partition its clusters exactly.
bool in_shard(std::string_view cluster, const Shard& shard);

// What a peer's endpoint reaches, for comparing nodes across specs:
// "https://host:port" with the host lower-cased and the port explicit, or
// "sim:<node file>" for a simulated node (two clusters whose sim:// peers
// share a --sim-dir and a name are one node).
std::string node_identity(const node::NodeOpenContext& context, const spec::Spec& spec,
                          const spec::Peer& peer);

struct FleetMember {
  std::string spec_path;
  const spec::Spec* spec = nullptr;  // nullptr: the spec did not load
};

// A spec that names a cluster or a node an earlier spec names.
struct FleetConflict {
  std::string spec_path;  // the later spec
  std::string message;    // names both files
};

// Every pair of members that name the same cluster (metadata.name) or the
// same node, as messages naming both files ("B: cluster 'tokyo' is also
// defined in A"; "B: peers[1] (edge2) reaches https://x:443, as peer edge1
// of cluster 'tokyo' in A does"). Members that did not load are skipped.
std::vector<FleetConflict> fleet_conflicts(const std::vector<FleetMember>& members,
                                           const node::NodeOpenContext& context);

}  // namespace edgecert
