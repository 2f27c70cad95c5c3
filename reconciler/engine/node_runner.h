// NodeRunner: performs plan actions on the cluster's nodes and its issuer.
//
// One handler per action kind (node_runner*.cpp). Every handler re-reads the
// node before it changes anything, so a retry after a lost reply, or a resumed
// run, does not do the work twice; what was signed, staged or deployed in this
// run is remembered for the actions after it (upload uses sign's chain,
// verify-served checks for the leaf that was staged).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/issuer/issuer.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/management_trust.h"
#include "reconciler/engine/runner.h"
#include "schema/spec.h"

namespace edgecert {

// run() may be called from several threads at once for actions on different
// nodes (the executor's concurrent CSR/sign phase): what it remembers across
// actions is guarded by mu_, and the issuer must be safe to call concurrently
// (issuer.h). Everything else is called from one thread.
class NodeRunner : public ActionRunner {
 public:
  NodeRunner(Env& env, const spec::Spec& spec, OpenedNodes& nodes, issuer::Issuer* issuer,
             const DesiredTrust& trust)
      : env_(env), spec_(spec), nodes_(nodes), issuer_(issuer), trust_(trust) {}

  // Signed chains (PEM, leaf first) from an unfinished earlier run, keyed by
  // the SHA-256 fingerprint of the CSR they answer: reused instead of signing
  // the same CSR twice.
  // A chain that fails the checks is not reused: the issuer is asked again
  // (external: the file an operator corrected).
  void reuse_signed_chains(std::map<std::string, std::vector<std::string>> chains) {
    std::lock_guard lock(mu_);
    signed_chains_ = std::move(chains);
  }

  // CSR generation and signing for this many nodes at once: a real node
  // spends seconds making a key, an ACME CA minutes validating.
  static constexpr size_t kConcurrency = 4;

  // What edgecert's own https:// connection trusts: every signed chain is
  // refused when a node serving it would lock edgecert out
  // (management_trust.h). Unset: not checked.
  void set_management_trust(const ManagementTrust* trust) { management_trust_ = trust; }

  // Where a confirmed manual step's value is remembered (the cluster's
  // state folder, manual_steps.h) and the run that records it. Unset:
  // record_confirmation() fails (nothing may be confirmed unrecorded).
  void set_confirmation_record(std::string cluster_state_dir, std::string run_id) {
    confirm_dir_ = std::move(cluster_state_dir);
    run_id_ = std::move(run_id);
  }

  Result<ActionOutput> run(const Action& action) override;
  Result<ManualCheck> check_manual(const Action& action) override;
  Status record_confirmation(const Action& action) override;
  size_t concurrency() const override { return kConcurrency; }
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
  // A chain an issuer (or the node's ACME service) returned, checked before
  // it is recorded or goes anywhere near a node: the Expressway checks
  // `edgecert show` runs (pki::check_issued_chain), the spec's own rules and,
  // for https:// peers, the management connection's trust
  // (management_lockout). An error finding or a spec problem refuses it
  // (kConflict naming each check id, or the caBundle file); the warnings come
  // back, one line each ("warning [expires-2050-or-later]: ...").
  Result<std::vector<std::string>> check_issued(const std::vector<pki::Certificate>& chain,
                                                const spec::Peer& pr,
                                                const std::string& source) const;

  // The maps below, under mu_.
  std::optional<std::vector<std::string>> reusable_chain(const std::string& csr_fp);
  void forget_chain(const std::string& csr_fp);
  std::optional<std::string> remembered(const std::map<std::string, std::string>& m,
                                        const std::string& node) const;
  void remember(std::map<std::string, std::string>& m, const std::string& node,
                const std::string& value);

  Env& env_;
  const spec::Spec& spec_;
  OpenedNodes& nodes_;
  issuer::Issuer* issuer_;
  const DesiredTrust& trust_;
  const ManagementTrust* management_trust_ = nullptr;
  std::string confirm_dir_;
  std::string run_id_;
  mutable std::mutex mu_;  // guards the maps below (run() is called concurrently)
  std::map<std::string, std::vector<std::string>> signed_chains_;  // csr sha256 -> chain
  std::map<std::string, std::vector<std::string>> signed_;         // node -> chain signed this run
  std::map<std::string, std::string> uploaded_;     // node -> leaf staged/deployed this run
  std::map<std::string, std::string> acme_signed_;  // node -> pending ACME leaf signed this run
};

}  // namespace edgecert
