// End-to-end: plan and apply an Expressway-E cluster of sim:// nodes whose
// certificates come from a real ACME server (Pebble) through the acme issuer.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include "providers/issuers/acme_issuer.h"
#include "providers/pki/certificate.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::PebbleOptions;
using edgecert::testing::PebbleProcess;
using edgecert::testing::TempDir;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("apply with the acme issuer: an Expressway-E cluster gets Pebble certificates",
          "[reconciler][e2e][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});  // PEBBLE_VA_ALWAYS_VALID=1
  TempDir dir;
  auto env = make_posix_env();

  dir.write("cluster/pebble-root.pem", pebble.management_get("/roots/0"));
  std::string intermediate =
      dir.write("cluster/pebble-intermediate.pem", pebble.management_get("/intermediates/0"));

  // Nodes boot as fresh installs; restarts take no time so the test stays short.
  std::string sim_dir = dir.file("sim");
  REQUIRE(env->create_dirs(sim_dir, 0700));
  for (const char* name : {"edge1", "edge2"}) {
    sim::SimNode node(*env, sim_dir, name, std::string(name) + ".example.com");
    REQUIRE(node.ensure_booted());
    REQUIRE(node.set_restart_seconds(0));
  }

  int http_port = testing::free_loopback_port();
  std::string spec = dir.write(
      "cluster/spec.yaml",
      fmt::format("apiVersion: edgecert/v1\n"
                  "kind: ExpresswayCluster\n"
                  "metadata: {{name: acme-test}}\n"
                  "spec:\n"
                  "  product: expressway-e\n"
                  "  clusterFqdn: edge.example.com\n"
                  "  peers:\n"
                  "    - {{name: edge1, fqdn: edge1.example.com, endpoint: sim://edge1}}\n"
                  "    - {{name: edge2, fqdn: edge2.example.com, endpoint: sim://edge2}}\n"
                  "  serverCertificate:\n"
                  "    key: {{algorithm: ecdsa, size: 256}}\n"
                  "    issuer:\n"
                  "      type: acme\n"
                  "      directory: {}\n"
                  "      email: ops@example.com\n"
                  "      caBundle: {}\n"
                  "      challenge: {{http01: {{listen: \"127.0.0.1:{}\"}}}}\n"
                  "  trustedCAs:\n"
                  "    certificates: [pebble-root.pem, pebble-intermediate.pem]\n"
                  "  rollout: {{healthTimeout: 1m}}\n",
                  pebble.directory_url(), pebble.ca_bundle(), http_port));
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--sim-dir", sim_dir, "--state-dir", dir.file("state")});
    return testing::run_cli(args, env.get());
  };

  auto plan = with({"plan", spec, "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.status == 2);
  CHECK(contains(plan.out, "factory temporary certificate"));
  CHECK(contains(plan.out, "2 restarts, one node at a time"));
  CHECK(contains(plan.out, "acme"));

  auto r = with({"apply", spec, "--auto-approve"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Apply complete"));

  auto pebble_intermediate =
      pki::Certificate::parse_one(*env->read_file(intermediate, kTestRead), "i");
  REQUIRE(pebble_intermediate);
  for (const char* name : {"edge1", "edge2"}) {
    sim::SimNode node(*env, sim_dir, name, std::string(name) + ".example.com");
    auto served = node.served_chain();
    REQUIRE(served);
    REQUIRE_FALSE(served->empty());
    const pki::Certificate& leaf = served->front();
    CHECK(leaf.subject_cn() == "edge.example.com");
    CHECK(leaf.is_signed_by(*pebble_intermediate));
    auto dns = leaf.subject_alt_names().dns;
    CHECK(std::find(dns.begin(), dns.end(), std::string(name) + ".example.com") != dns.end());
  }

  // The account key lives in the cluster's state folder, one per directory.
  std::string key =
      issuer::acme_account_key_path(dir.file("state/acme-test"), pebble.directory_url());
  REQUIRE(env->exists(key));
  CHECK(*env->file_mode(key) == 0600);

  auto again = with({"plan", spec, "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.status == 0);
  CHECK(contains(again.out, "No changes. Live state matches the spec."));
  CHECK_FALSE(contains(plan.out + r.out + r.err + again.out, "PRIVATE KEY"));
  auto journal = env->read_file(dir.file("state/acme-test/journal.jsonl"), kTestRead);
  REQUIRE(journal);
  CHECK_FALSE(contains(*journal, "PRIVATE KEY"));
}
