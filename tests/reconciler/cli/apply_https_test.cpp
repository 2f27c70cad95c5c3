// End-to-end over HTTPS: plan and apply a 3-peer cluster of edgecert-sim nodes
// through the REST provider, verifying the certificate each node really
// serves with a TLS handshake.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include "providers/issuers/openssl_ca.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/support/test_support.h"

using namespace edgecert;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("apply over HTTPS: edgecert-sim nodes reach the spec one at a time, plan is then empty",
          "[reconciler][e2e][https]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  const std::vector<std::pair<std::string, std::string>> peers = {{"edge1", "edge1.example.com"},
                                                                  {"edge2", "edge2.example.com"},
                                                                  {"edge3", "edge3.example.com"}};
  std::string state = dir.file("sim-state");
  REQUIRE(env->create_dirs(state, 0700));
  std::string pw = dir.write("password.txt", "s3cret-test-password\n");
  testing::SimProcessOptions so;
  so.state_dir = state;
  so.nodes = peers;
  so.password_file = pw;
  so.stderr_file = dir.file("sim.log");
  so.extra_args = {"--restart-seconds", "1"};
  testing::SimProcess sim(so);

  // The local CA, and a management CA bundle: the nodes' factory CAs (their
  // admin interface presents the factory certificate at first) and the new CA.
  issuer::CaInitOptions ca;
  ca.algorithm = spec::KeyAlgorithm::kEcdsa;
  ca.key_size = 256;
  ca.common_name = "HTTPS Test CA";
  REQUIRE(issuer::init_openssl_ca(*env, dir.file("cluster/ca"), ca));
  std::string bundle =
      *env->read_file(dir.file("cluster/ca/cacert.pem"), kTestRead) + sim.trusted_cas_pem(*env);
  dir.write("cluster/management-ca.pem", bundle);

  std::string peers_yaml = sim.peers_yaml();
  // The nodes' SSH host keys, pinned where access.knownHosts defaults to.
  sim.pin_host_keys(dir.file("cluster/.edgecert/known_hosts"));
  std::string spec =
      dir.write("cluster/spec.yaml",
                fmt::format("apiVersion: edgecert/v1\n"
                            "kind: ExpresswayCluster\n"
                            "metadata: {{name: https-test}}\n"
                            "spec:\n"
                            "  product: expressway-e\n"
                            "  clusterFqdn: edge.example.com\n"
                            "  peers:\n{}"
                            "  access: {{username: admin, passwordFrom: \"file:{}\", caBundle: "
                            "management-ca.pem}}\n"
                            "  serverCertificate:\n"
                            "    subject: {{country: JP, organization: Example KK}}\n"
                            "    key: {{algorithm: ecdsa, size: 256}}\n"
                            "    roles: [b2b]\n"
                            "    issuer: {{type: openssl-ca, directory: ca}}\n"
                            // Cluster TLS mode is a manual step on a real node.
                            "  rollout: {{healthTimeout: 1m, relaxTlsVerification: false}}\n",
                            peers_yaml, pw));
  const std::vector<std::string> state_flags = {"--state-dir", dir.file("state")};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), state_flags.begin(), state_flags.end());
    return args;
  };

  auto plan = testing::run_cli(with({"plan", spec, "--detailed-exitcode"}));
  INFO(plan.out << plan.err);
  REQUIRE(plan.status == 2);
  CHECK(contains(plan.out, "3 restarts, one node at a time"));

  auto r = testing::run_cli(with({"apply", spec, "--auto-approve"}));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Apply complete"));
  for (const auto& peer : peers)
    CHECK(contains(r.out, fmt::format("{}] verify-served: serving", peer.first)));

  // Restarts never overlapped: each began after the previous node was back.
  std::vector<std::pair<std::string, std::string>> restarts;
  for (const auto& [name, fqdn] : peers) {
    sim::SimNode node(*env, state, name, fqdn);
    auto trail = node.audit();
    REQUIRE(trail);
    int n = 0;
    for (const auto& e : *trail)
      if (e.operation == "restart" && e.outcome == "ok") {
        ++n;
        restarts.emplace_back(e.time, name);
      }
    CHECK(n == 1);
    auto served = node.served_chain();
    REQUIRE(served);
    CHECK(served->front().subject_cn() == "edge.example.com");
  }
  std::sort(restarts.begin(), restarts.end());
  for (size_t i = 1; i < restarts.size(); ++i) CHECK(restarts[i].first > restarts[i - 1].first);

  auto again = testing::run_cli(with({"plan", spec, "--detailed-exitcode"}));
  INFO(again.out << again.err);
  CHECK(again.status == 0);
  CHECK(contains(again.out, "No changes. Live state matches the spec."));
  // The password never shows up anywhere edgecert writes.
  CHECK_FALSE(contains(r.out + r.err + plan.out + again.out, "s3cret-test-password"));
  auto journal = env->read_file(dir.file("state/https-test/journal.jsonl"), kTestRead);
  REQUIRE(journal);
  CHECK_FALSE(contains(*journal, "s3cret-test-password"));
  CHECK_FALSE(contains(*journal, "PRIVATE KEY"));
}
