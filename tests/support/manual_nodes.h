// Real-Expressway behaviour over the simulator, for manual-step tests: while
// a ManualNodes is alive, sim:// peers it names open through a decorator
// NodeProvider that lists operations as manual (NodeState::manual_operations),
// answers kUnimplemented from those methods (and records that it was asked:
// the engine must never ask), hides the CRL values a real node cannot show,
// and can report another product, release or peer list. The test plays the
// operator by changing the SimNode underneath (SimCluster::node()).
//
// It replaces the "sim" registration and puts the plain one back when it
// goes: one at a time, never across threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/node/node.h"

namespace edgecert::testing {

struct ManualNodeConfig {
  std::vector<node::ManualOperation> manual;  // listed, and kUnimplemented
  bool crl_unknown = false;                   // crl_settings_known = manual_crl_known = false
  std::optional<node::Product> product;
  std::optional<std::string> software_version;
  std::optional<std::vector<std::string>> cluster_peers;
};

// Every operation a real Expressway has no API for, with the CRL values it
// cannot show: what the https:// provider reports.
ManualNodeConfig real_expressway();

class ManualNodes {
 public:
  // Peer name -> behaviour; peers not named behave as plain sim:// nodes.
  explicit ManualNodes(std::map<std::string, ManualNodeConfig> configs);
  ~ManualNodes();
  ManualNodes(const ManualNodes&) = delete;
  ManualNodes& operator=(const ManualNodes&) = delete;

  ManualNodeConfig& config(const std::string& peer) { return state_->configs[peer]; }
  // "edge1: set-tls-verification": manual methods the engine called anyway.
  const std::vector<std::string>& unimplemented_calls() const { return state_->calls; }

  struct State {
    std::map<std::string, ManualNodeConfig> configs;
    std::vector<std::string> calls;
  };

 private:
  std::shared_ptr<State> state_;
};

}  // namespace edgecert::testing
