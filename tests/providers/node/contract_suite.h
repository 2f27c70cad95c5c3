// The NodeProvider contract suite: what every node provider must do, written
// only against node::NodeProvider plus the simulator's administration API
// (faults, restart time, audit trail, node file) for setting up conditions.
//
// Operations a node lists in NodeState::manual_operations are expected to
// answer kUnimplemented naming the operation; the suite then plays the
// operator (ContractTarget::play_operator) and checks the result through
// read_state() where the node shows it, else through the simulator core.
//
// A provider is plugged in through a ContractTarget factory. The factory is
// called afresh for every Catch2 section run, so each section starts from new
// nodes. Today it runs against sim:// in-process (MemoryEnv, and posix files
// under a TempDir); the REST provider re-runs it unchanged over HTTPS by
// supplying a target whose open() returns its provider for an edgecert-sim
// server serving the same sim dir:
//
//   EDGECERT_NODE_CONTRACT_TESTS("rest over https", [] { return make_rest_target(); })
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/node/node.h"
#include "providers/sim/sim_node.h"
#include "schema/spec.h"

namespace edgecert::testing {

class ContractTarget {
 public:
  virtual ~ContractTarget() = default;
  // The Env whose clock the node runs on and through which the test reads
  // node files.
  virtual Env& env() = 0;
  // A spec with two peers, edge1 and edge2 (endpoints of the provider's scheme).
  virtual const spec::Spec& spec() = 0;
  virtual Result<std::unique_ptr<node::NodeProvider>> open(const spec::Peer& peer) = 0;
  // The simulator core behind `peer` (administration API; same node files).
  virtual sim::SimNode admin(const spec::Peer& peer) = 0;
  // Restart duration the suite configures on nodes, and the unit for its
  // timeouts: keep it small for targets on a real clock.
  virtual int restart_seconds() const { return 3; }
  // Whether env().sleep_for() moves the node's clock without waiting (a
  // MemoryEnv or virtual clock shared with the node). Sections that jump
  // months ahead (expiry alarms) run only then; a target whose node runs in
  // another process on the real clock returns false.
  virtual bool can_jump_clock() const { return true; }
  // Whether the node shows only what a real Expressway shows (https://): no
  // upload warnings, no ACME account or sign/deploy status page, no CRL
  // read-back, no CSR with the current key, a restarting node refuses
  // connections. Sections check those details only when this is false.
  virtual bool real_expressway() const { return false; }
  // Plays the operator for a manual step on `peer`: the node listed the
  // operation in NodeState::manual_operations and its provider answered
  // kUnimplemented. By default the simulator core behind the node does it on
  // the same node file, as `edgecert-sim ui` does.
  virtual Status play_operator(const spec::Peer& peer,
                               const std::function<Status(sim::SimNode&)>& step) {
    sim::SimNode n = admin(peer);
    return step(n);
  }
};

using ContractTargetFactory = std::function<std::unique_ptr<ContractTarget>()>;

// One function per area; each is a Catch2 test body made of SECTIONs.
void contract_fresh_node(const ContractTargetFactory& make);
void contract_csr(const ContractTargetFactory& make);
void contract_upload(const ContractTargetFactory& make);
void contract_restart(const ContractTargetFactory& make);
void contract_trusted_cas(const ContractTargetFactory& make);
void contract_trusted_ca_limit(const ContractTargetFactory& make);
void contract_settings(const ContractTargetFactory& make);
// ACME sign/deploy/revoke without an ACME server (preconditions and errors);
// issuance itself is tested against Pebble (tests/providers/sim/sim_acme_test.cpp,
// tests/providers/rest/rest_acme_test.cpp).
void contract_acme(const ContractTargetFactory& make);
void contract_faults(const ContractTargetFactory& make);
void contract_no_secrets(const ContractTargetFactory& make);

}  // namespace edgecert::testing

// Defines one Catch2 test case per contract area for a target.
#define EDGECERT_NODE_CONTRACT_TESTS(LABEL, FACTORY)                                              \
  TEST_CASE("node contract [" LABEL "]: fresh node", "[node][contract]") {                        \
    edgecert::testing::contract_fresh_node(FACTORY);                                              \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: CSR", "[node][contract]") {                               \
    edgecert::testing::contract_csr(FACTORY);                                                     \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: server certificate upload", "[node][contract]") {         \
    edgecert::testing::contract_upload(FACTORY);                                                  \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: restart staging", "[node][contract]") {                   \
    edgecert::testing::contract_restart(FACTORY);                                                 \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: trusted CAs", "[node][contract]") {                       \
    edgecert::testing::contract_trusted_cas(FACTORY);                                             \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: trusted CA limit", "[node][contract]") {                  \
    edgecert::testing::contract_trusted_ca_limit(FACTORY);                                        \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: CRL, revocation, TLS, ACME settings",                     \
            "[node][contract]") {                                                                 \
    edgecert::testing::contract_settings(FACTORY);                                                \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: ACME service preconditions", "[node][contract]") {        \
    edgecert::testing::contract_acme(FACTORY);                                                    \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: fault injection", "[node][contract]") {                   \
    edgecert::testing::contract_faults(FACTORY);                                                  \
  }                                                                                               \
  TEST_CASE("node contract [" LABEL "]: no private key ever leaves a node", "[node][contract]") { \
    edgecert::testing::contract_no_secrets(FACTORY);                                              \
  }
