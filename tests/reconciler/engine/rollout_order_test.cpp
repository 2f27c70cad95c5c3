// Where cluster TLS verification is relaxed (plan.h steps 2-3): never on a
// one-peer spec, and only after every CSR and signature, right before the
// first disruptive action — for openssl-ca, and for expressway-acme in manual
// mode (the nodes sign up front) and automated mode (a node signs in its
// turn). A failed ACME signature leaves every node enforcing in both modes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;
using nlohmann::json;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

json plan_json(SimCluster& c) {
  auto r = c.plan({"--output", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  return json::parse(r.out);
}

long index_of(const json& plan, const std::string& id) {
  const auto& a = plan["actions"];
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i]["id"] == id) return static_cast<long>(i);
  return -1;
}

std::vector<std::string> ids_of(const json& plan, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& a : plan["actions"])
    if (a["kind"] == kind) out.push_back(a["id"].get<std::string>());
  return out;
}

// The relax actions (set-tls-verification to permissive).
std::vector<std::string> relaxes(const json& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan["actions"])
    if (a["kind"] == "set-tls-verification" && a["params"]["mode"] == "permissive")
      out.push_back(a["id"].get<std::string>());
  return out;
}

bool depends(const json& plan, const std::string& id, const std::string& on) {
  long i = index_of(plan, id);
  REQUIRE(i >= 0);
  auto deps = plan["actions"][static_cast<size_t>(i)]["depends_on"].get<std::vector<std::string>>();
  return std::find(deps.begin(), deps.end(), on) != deps.end();
}

std::string acme_section(const std::string& mode) {
  return "  acme:\n"
         "    provider: {name: unreachable, directory: \"https://localhost:1/dir\"}\n"
         "    email: pki@example.com\n"
         "    acceptTermsOfService: true\n"
         "    mode: " +
         mode + "\n" +
         (mode == "automated" ? "    schedule: {days: [mon], time: \"04:00\"}\n" : "");
}

SimClusterOptions acme_cluster(const std::string& mode) {
  SimClusterOptions o;
  o.peers = 2;
  o.issuer = "{type: expressway-acme}";
  o.init_ca = false;
  o.spec_extra = acme_section(mode);
  return o;
}

void expect_all_enforce(SimCluster& c) {
  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    INFO(name);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
  }
}

}  // namespace

TEST_CASE("rollout order: a one-peer spec never relaxes TLS verification", "[engine][plan][tls]") {
  SimCluster c(testing::with_peers(1));
  json plan = plan_json(c);
  CHECK(ids_of(plan, "restart").size() == 1);
  CHECK(ids_of(plan, "set-tls-verification").empty());
  REQUIRE(c.apply().status == 0);
  expect_all_enforce(c);
  auto audit = c.node("edge1").audit();
  REQUIRE(audit);
  for (const auto& e : *audit) CHECK(e.operation != "set_tls_verification");
}

TEST_CASE("rollout order: openssl-ca signs every CSR and appends the CAs before the relax",
          "[engine][plan][tls]") {
  SimCluster c(testing::with_peers(3));
  json plan = plan_json(c);
  auto relax = relaxes(plan);
  REQUIRE(relax.size() == 3);
  long first_relax = index_of(plan, relax.front());
  long first_upload = index_of(plan, ids_of(plan, "upload-certificate").front());
  for (const auto& kind : {"generate-csr", "sign-csr", "append-trusted-cas"})
    for (const auto& id : ids_of(plan, kind)) {
      INFO(id);
      CHECK(index_of(plan, id) < first_relax);
      for (const auto& r : relax) CHECK(depends(plan, r, id));
    }
  // Every CSR comes before the first signature (the executor runs them in
  // concurrent waves), and a refused signature leaves the trust lists alone.
  long last_gen = index_of(plan, ids_of(plan, "generate-csr").back());
  long first_sign = index_of(plan, ids_of(plan, "sign-csr").front());
  long last_sign = index_of(plan, ids_of(plan, "sign-csr").back());
  CHECK(last_gen < first_sign);
  CHECK(last_sign < index_of(plan, ids_of(plan, "append-trusted-cas").front()));
  // Right before the first disruptive action.
  CHECK(index_of(plan, relax.back()) < first_upload);
  CHECK(first_upload == index_of(plan, relax.back()) + 1);
}

TEST_CASE("rollout order: expressway-acme in manual mode signs every node before the relax",
          "[engine][plan][tls][acme]") {
  SimCluster c(acme_cluster("manual"));
  json plan = plan_json(c);
  auto relax = relaxes(plan);
  REQUIRE(relax.size() == 2);
  auto signs = ids_of(plan, "acme-sign");
  REQUIRE(signs.size() == 2);
  for (const auto& s : signs) {
    CHECK(index_of(plan, s) < index_of(plan, relax.front()));
    for (const auto& r : relax) CHECK(depends(plan, r, s));
  }
  // The first disruptive action (a deploy) comes right after the relax.
  CHECK(index_of(plan, "edge1/acme-deploy") == index_of(plan, relax.back()) + 1);
  CHECK(depends(plan, "edge2/acme-deploy", "edge1/verify-served"));

  // The provider is unreachable: the signature fails before anything was
  // relaxed.
  auto r = c.apply();
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.out + r.err, "acme-sign"));
  CHECK_FALSE(contains(r.out, "set-tls-verification: TLS verification permissive"));
  expect_all_enforce(c);
}

TEST_CASE(
    "rollout order: expressway-acme in automated mode relaxes right before the first node's "
    "signature, and a failed signature restores enforce",
    "[engine][plan][tls][acme]") {
  SimCluster c(acme_cluster("automated"));
  json plan = plan_json(c);
  auto relax = relaxes(plan);
  REQUIRE(relax.size() == 2);
  // Every CSR before the relax; the node's signature (it would deploy a
  // pending certificate at its next slot) waits for its turn.
  for (const auto& g : ids_of(plan, "generate-csr"))
    CHECK(index_of(plan, g) < index_of(plan, relax.front()));
  CHECK(index_of(plan, "edge1/acme-sign") == index_of(plan, relax.back()) + 1);
  CHECK(depends(plan, "edge2/acme-sign", "edge1/verify-served"));

  // The signature fails after the relax; nothing changed what a node serves,
  // so the run sets verification back although the nodes serve factory
  // certificates.
  auto r = c.apply();
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.out, "restored to enforce"));
  expect_all_enforce(c);
}
