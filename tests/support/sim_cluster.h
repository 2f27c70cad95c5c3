// A simulated cluster for reconciler tests: a spec, a local CA and sim://
// nodes, all in a MemoryEnv (so restarts and health waits take no real time),
// behind a FaultInjectionEnv (so a test can kill the run at any of edgecert's
// own writes; the nodes' files are outside its scope).
#pragma once

#include <string>
#include <vector>

#include "providers/base/fault_env.h"
#include "providers/pki/certificate.h"
#include "providers/sim/sim_node.h"
#include "tests/support/test_support.h"

namespace edgecert::testing {

struct SimClusterOptions {
  int peers = 3;
  std::string product = "expressway-e";
  // spec.serverCertificate.subject (YAML flow mapping).
  std::string subject = "{country: JP, organization: Example KK}";
  // Extra YAML lines under spec.serverCertificate (indented 4 spaces).
  std::string server_certificate_extra;
  // Extra YAML under spec (indented 2 spaces), e.g. trustedCAs or rollout.
  std::string spec_extra;
  std::string issuer = "{type: openssl-ca, directory: ca}";
  std::string rollout = "{healthTimeout: 2m}";
  bool init_ca = true;
};

inline SimClusterOptions with_peers(int peers) {
  SimClusterOptions o;
  o.peers = peers;
  return o;
}

class SimCluster {
 public:
  explicit SimCluster(SimClusterOptions options = {});

  // Waits are instant unless a test paces them (memory.pace(kPebblePace)) because
  // it talks to a real server.
  PacedMemoryEnv memory;
  FaultInjectionEnv env{memory};
  const std::string spec_path = "cluster/spec.yaml";
  const std::string cluster = "test";
  // What CRL distribution points and OCSP responders answer in this
  // cluster's CLI runs (nothing, unless a test serves something).
  FakeNetwork network;

  // Rewrites the spec (e.g. after changing options).
  void write_spec(const SimClusterOptions& options);
  const SimClusterOptions& options() const { return options_; }

  CliRun plan(std::vector<std::string> extra = {});
  CliRun apply(std::vector<std::string> extra = {});  // adds --auto-approve
  CliRun cli(std::vector<std::string> args, const std::string& input = "", bool tty = false);

  std::vector<std::string> peer_names() const;
  sim::SimNode node(const std::string& name);
  // Successful restarts in the node's audit trail.
  int restarts(const std::string& name);
  // Times of successful restarts, all nodes, sorted (name, time).
  std::vector<std::pair<std::string, std::string>> restart_log();
  pki::Certificate serving(const std::string& name);
  std::vector<pki::Certificate> ca_certificates();

  // Every file the run wrote (journal, audit, plans, node audit trails) must
  // be free of private keys; node state files are the nodes' own disks and
  // are skipped.
  std::vector<std::string> files_with_private_keys();

 private:
  SimClusterOptions options_;
};

}  // namespace edgecert::testing
