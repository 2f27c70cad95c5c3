// The reconciler's side of the Expressway-E ACME service: spec.acme diffed and
// configured, issuer expressway-acme planned as sign-on-node + deploy without
// restart, `edgecert revoke`. (The end-to-end runs against Pebble are in
// expressway_acme_pebble_test.cpp.)
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "reconciler/engine/plan.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const char* kAcmeSection =
    "  acme:\n"
    "    provider: {name: pebble, directory: \"https://localhost:14000/dir\"}\n"
    "    email: pki@example.com\n"
    "    acceptTermsOfService: true\n"
    "    mode: automated\n"
    "    renewKey: retain\n"
    "    schedule: {days: [mon, thu], time: \"04:00\"}\n";

SimClusterOptions acme_cluster(int peers) {
  SimClusterOptions o;
  o.peers = peers;
  o.issuer = "{type: expressway-acme}";
  o.init_ca = false;
  o.spec_extra = kAcmeSection;
  return o;
}

std::vector<std::string> kinds_of(const nlohmann::json& plan, const std::string& node) {
  std::vector<std::string> out;
  for (const auto& a : plan["actions"])
    if (a["node"] == node) out.push_back(a["kind"].get<std::string>());
  return out;
}

const nlohmann::json* action(const nlohmann::json& plan, const std::string& id) {
  for (const auto& a : plan["actions"])
    if (a["id"] == id) return &a;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "expressway-acme: the plan configures the ACME service, signs on the node and deploys "
    "without restarts, one node at a time",
    "[reconciler][acme]") {
  SimCluster c(acme_cluster(2));
  auto r = c.plan({"--output", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto plan = nlohmann::json::parse(r.out);

  // The node signs in its own turn: in automated mode it would deploy a
  // pending certificate at its next slot, outside the rollout.
  std::vector<std::string> want = {"set-acme-settings",   "generate-csr", "set-tls-verification",
                                   "acme-sign",           "acme-deploy",  "verify-served",
                                   "set-tls-verification"};
  CHECK(kinds_of(plan, "edge1") == want);
  CHECK(kinds_of(plan, "edge2") == want);
  CHECK(plan["summary"]["restarts"] == 0);
  CHECK(plan["summary"]["acme_deploys"] == 2);
  CHECK(plan["summary"]["text"].get<std::string>() ==
        "Plan: 14 actions on 2 nodes, 0 restarts, 2 ACME deploys (no restart), one node at a "
        "time");
  for (const auto& a : plan["actions"]) {
    CHECK(a["kind"] != "restart");
    CHECK(a["kind"] != "upload-certificate");
    CHECK(a["kind"] != "sign-csr");
  }

  // The settings go before signing, and carry the whole spec.acme.
  const auto* settings = action(plan, "edge1/set-acme-settings");
  REQUIRE(settings);
  CHECK(settings->at("params")["provider_directory"] == "https://localhost:14000/dir");
  CHECK(settings->at("params")["mode"] == "automated");
  CHECK(settings->at("params")["renew_key"] == "retain");
  CHECK(settings->at("params")["schedule"]["days"] == nlohmann::json({"mon", "thu"}));
  CHECK(settings->at("params")["schedule"]["time"] == "04:00");
  const auto* sign = action(plan, "edge1/acme-sign");
  REQUIRE(sign);
  auto deps = sign->at("depends_on").get<std::vector<std::string>>();
  CHECK(std::find(deps.begin(), deps.end(), "edge1/set-acme-settings") != deps.end());
  CHECK(std::find(deps.begin(), deps.end(), "edge1/generate-csr") != deps.end());

  // One node at a time: edge2 signs and deploys only after edge1's verified
  // service.
  const auto* sign2 = action(plan, "edge2/acme-sign");
  REQUIRE(sign2);
  auto sdeps2 = sign2->at("depends_on").get<std::vector<std::string>>();
  CHECK(std::find(sdeps2.begin(), sdeps2.end(), "edge1/verify-served") != sdeps2.end());
  const auto* deploy2 = action(plan, "edge2/acme-deploy");
  REQUIRE(deploy2);
  auto deps2 = deploy2->at("depends_on").get<std::vector<std::string>>();
  CHECK(std::find(deps2.begin(), deps2.end(), "edge1/verify-served") != deps2.end());
  CHECK(deploy2->at("disruptive") == false);

  // The saved plan reads back with the new kinds.
  auto back = plan_from_json(plan, "plan.json");
  REQUIRE(back);
  CHECK(back->deploy_count() == 2);

  auto text = c.plan();
  CHECK(contains(text.out, "acme-sign: the node signs its CSR with its ACME provider"));
  CHECK(contains(text.out, "acme-deploy: deploy the certificate the node's ACME service signed"));
  CHECK(contains(text.out, "mode: disabled -> automated"));
}

TEST_CASE("spec.acme alone: apply configures every node's ACME service, then no changes",
          "[reconciler][acme]") {
  SimClusterOptions o;
  o.peers = 2;
  o.spec_extra = kAcmeSection;
  SimCluster c(o);
  REQUIRE(c.apply().status == 0);  // certificates first (openssl-ca)

  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->acme.provider_name == "pebble");
    CHECK(st->acme.provider_directory == "https://localhost:14000/dir");
    CHECK(st->acme.email == "pki@example.com");
    CHECK(st->acme.terms_accepted);
    CHECK(st->acme.mode == spec::AcmeMode::kAutomated);
    CHECK(st->acme.renew_key == spec::KeyRotation::kRetain);
    REQUIRE(st->acme.schedule);
    CHECK(st->acme.schedule->days == std::vector<spec::Weekday>{1, 4});
    CHECK(st->acme.schedule->minute_of_day == 4 * 60);
  }
  auto again = c.plan();
  INFO(again.out << again.err);
  CHECK(contains(again.out, "No changes."));

  // Someone switches one node to manual on the appliance: only that drifts.
  auto edge2 = c.node("edge2");
  auto s = edge2.acme_settings();
  REQUIRE(s);
  s->mode = spec::AcmeMode::kManual;
  REQUIRE(edge2.set_acme_settings(*s));
  auto drift = c.plan({"--output", "json"});
  REQUIRE(drift.status == 0);
  auto plan = nlohmann::json::parse(drift.out);
  REQUIRE(plan["actions"].size() == 1);
  CHECK(plan["actions"][0]["id"] == "edge2/set-acme-settings");
  CHECK(plan["actions"][0]["before"]["mode"] == "manual");
  CHECK(plan["actions"][0]["after"]["mode"] == "automated");
  REQUIRE(c.apply().status == 0);
  CHECK(contains(c.plan().out, "No changes."));
}

TEST_CASE("edgecert revoke: bad input and certificates in use are refused, nothing changes",
          "[reconciler][acme][revoke]") {
  SimClusterOptions o;
  o.peers = 2;
  SimCluster c(o);
  REQUIRE(c.apply().status == 0);
  auto serving = c.serving("edge1");
  c.memory.put("cluster/in-use.pem", serving.to_pem());

  auto bad_reason = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate",
                           "cluster/in-use.pem", "--reason", "because", "--auto-approve"});
  CHECK(bad_reason.status == 1);
  CHECK(contains(bad_reason.err, "--reason 'because' is not a revocation reason"));

  auto bad_node = c.cli({"revoke", c.spec_path, "--node", "edge9", "--certificate",
                         "cluster/in-use.pem", "--reason", "superseded", "--auto-approve"});
  CHECK(bad_node.status == 1);
  CHECK(contains(bad_node.err, "'edge9' is not a peer of test"));

  auto missing = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate",
                        "cluster/nope.pem", "--reason", "superseded", "--auto-approve"});
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "cluster/nope.pem"));

  auto in_use = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate",
                       "cluster/in-use.pem", "--reason", "superseded", "--auto-approve"});
  INFO(in_use.out << in_use.err);
  CHECK(in_use.status == 1);
  CHECK(contains(in_use.err, "edge1: revoke: refused"));
  CHECK(contains(in_use.err, "edge1 serves it"));
  auto index = c.memory.read_file("cluster/ca/index.txt", kTestRead);
  REQUIRE(index);
  CHECK(!contains(*index, "\nR\t"));
  CHECK(index->rfind("R\t", 0) != 0);
}

TEST_CASE("edgecert revoke: a superseded certificate is revoked at the openssl-ca issuer",
          "[reconciler][acme][revoke]") {
  SimClusterOptions o;
  o.peers = 1;
  SimCluster c(o);
  REQUIRE(c.apply().status == 0);
  auto old = c.serving("edge1");
  c.memory.put("cluster/old.pem", old.to_pem());

  // A spec change (another SAN) makes edge1 replace its certificate.
  o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  c.write_spec(o);
  REQUIRE(c.apply().status == 0);
  REQUIRE(c.serving("edge1").sha256_fingerprint() != old.sha256_fingerprint());

  auto no_tty = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate", "cluster/old.pem",
                       "--reason", "superseded"});
  CHECK(no_tty.status == 1);
  CHECK(contains(no_tty.err, "approval needed"));

  auto declined = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate",
                         "cluster/old.pem", "--reason", "superseded"},
                        "no\n", true);
  CHECK(declined.status == 1);
  CHECK(contains(declined.err, "Revoke cancelled"));

  auto r = c.cli({"revoke", c.spec_path, "--node", "edge1", "--certificate", "cluster/old.pem",
                  "--reason", "key-compromise"},
                 "yes\n", true);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Revoked serial " + old.serial_hex() + " (keyCompromise)"));
  auto index = c.memory.read_file("cluster/ca/index.txt", kTestRead);
  REQUIRE(index);
  CHECK(contains(*index, "\t" + old.serial_hex() + "\t"));
  CHECK(contains(*index, "keyCompromise"));
  auto audit = c.memory.read_file("cluster/.edgecert/state/test/audit.jsonl", kTestRead);
  REQUIRE(audit);
  CHECK(contains(*audit, "\"kind\":\"revoke\""));
  // The lock was released.
  CHECK(!c.memory.exists("cluster/.edgecert/state/test/lock.json"));
}
