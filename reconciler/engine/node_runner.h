// NodeRunner: performs plan actions on the cluster's nodes and its issuer.
//
// One handler per action kind (node_runner*.cpp). Every handler re-reads the
// node before it changes anything, so a retry after a lost reply, or a resumed
// run, does not do the work twice; what was signed, staged or deployed in this
// run is remembered for the actions after it (upload uses sign's chain,
// verify-served checks for the leaf that was staged).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/issuer/issuer.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/runner.h"
#include "schema/spec.h"

namespace edgecert {

class NodeRunner : public ActionRunner {
 public:
  NodeRunner(Env& env, const spec::Spec& spec, OpenedNodes& nodes, issuer::Issuer* issuer,
             const DesiredTrust& trust)
      : env_(env), spec_(spec), nodes_(nodes), issuer_(issuer), trust_(trust) {}

  // Signed chains (PEM, leaf first) from an unfinished earlier run, keyed by
  // the SHA-256 fingerprint of the CSR they answer: reused instead of signing
  // the same CSR twice.
  void reuse_signed_chains(std::map<std::string, std::vector<std::string>> chains) {
    signed_chains_ = std::move(chains);
  }

  Result<ActionOutput> run(const Action& action) override;
  std::optional<std::string> restart_happened(const Action& action) override;
  RecoveryAssessment assess_recovery() override;
  Status restore_tls_verification(const std::string& node) override;
  std::vector<std::string> describe_nodes() override;

 private:
  struct Handlers;  // one member per action kind (node_runner.cpp)
  friend struct Handlers;

  const spec::Peer* peer(const std::string& name) const { return spec_.find_peer(name); }
  std::optional<Error> pending_csr_problem(const node::NodeState& st, const spec::Peer& pr) const;
  // Problems of `chain` against the spec for `pr`, joined; "" when right.
  std::string problems_of(const std::vector<pki::Certificate>& chain, const spec::Peer& pr) const;

  Env& env_;
  const spec::Spec& spec_;
  OpenedNodes& nodes_;
  issuer::Issuer* issuer_;
  const DesiredTrust& trust_;
  std::map<std::string, std::vector<std::string>> signed_chains_;  // csr sha256 -> chain
  std::map<std::string, std::vector<std::string>> signed_;         // node -> chain signed this run
  std::map<std::string, std::string> uploaded_;     // node -> leaf staged/deployed this run
  std::map<std::string, std::string> acme_signed_;  // node -> pending ACME leaf signed this run
};

}  // namespace edgecert
