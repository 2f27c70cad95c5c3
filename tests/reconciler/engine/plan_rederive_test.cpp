// apply PLAN re-derives the plan from the spec and the live state it reads,
// and refuses (exit 1, nothing changed, no lock) unless the saved actions are
// exactly those, field by field; what runs is the re-derived plan (issue 16,
// defect 4: an edited plan installed a rogue trusted CA on every node).
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/engine/plan.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::CliRun;
using edgecert::testing::SimCluster;
using nlohmann::json;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const char* kLock = "cluster/.edgecert/state/test/lock.json";

// Every node's file: a refused apply must leave each byte as it was.
std::map<std::string, std::string> node_files(SimCluster& c) {
  std::map<std::string, std::string> out;
  for (const auto& name : c.peer_names()) {
    auto text = c.memory.read_file(c.node(name).state_path(), kTestRead);
    out[name] = text ? *text : "";
  }
  return out;
}

json saved_plan(SimCluster& c) {
  REQUIRE(c.plan({"--out", "cluster/plan.json"}).status == 0);
  auto text = c.memory.read_file("cluster/plan.json", kTestRead);
  REQUIRE(text);
  return json::parse(*text);
}

// The position of the first action of `kind` (on `node` when given).
size_t index_of(const json& plan, const std::string& kind, const std::string& node = "") {
  for (size_t i = 0; i < plan["actions"].size(); ++i) {
    const json& a = plan["actions"][i];
    if (a["kind"] == kind && (node.empty() || a["node"] == node)) return i;
  }
  FAIL("the plan has no " << kind << " action" << (node.empty() ? "" : " on " + node) << ":\n"
                          << plan["actions"].dump(1));
  return 0;
}

// Writes the altered plan, applies it, and checks the refusal: exit 1, the
// message has every `expected` part, no node changed, no lock left.
CliRun expect_refused(SimCluster& c, const json& altered,
                      const std::vector<std::string>& expected) {
  REQUIRE(c.memory.write_file_atomic("cluster/altered.json", altered.dump(2), 0644));
  auto before = node_files(c);
  CliRun r = c.cli({"apply", "cluster/altered.json"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  for (const auto& part : expected) CHECK(contains(r.err, part));
  CHECK(node_files(c) == before);
  CHECK_FALSE(c.memory.exists(kLock));
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 0);
  return r;
}

std::string action_label(const json& plan, size_t i) {
  const json& a = plan["actions"][i];
  return "action " + std::to_string(i + 1) + " (" + a["node"].get<std::string>() + " " +
         a["kind"].get<std::string>() + ")";
}

}  // namespace

TEST_CASE("saved plan re-derived: the unaltered plan applies, and runs the re-derived actions",
          "[engine][plan][rederive]") {
  SimCluster c;
  json plan = saved_plan(c);
  CliRun r = c.cli({"apply", "cluster/plan.json"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 1);
  CHECK_FALSE(c.memory.exists(kLock));
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("saved plan re-derived: each kind of edit is refused naming the action and the field",
          "[engine][plan][rederive]") {
  SimCluster c;
  const json plan = saved_plan(c);
  const std::string tail = "differs from the plan edgecert makes now";
  const std::string rogue = "-----BEGIN CERTIFICATE-----\nMIIBrogue\n-----END CERTIFICATE-----\n";

  SECTION("an added action (a rogue trusted CA)") {
    json a = plan;
    size_t i = index_of(plan, "append-trusted-cas");
    json extra = plan["actions"][i];
    extra["id"] = "edge1/append-trusted-cas/rogue";
    extra["node"] = "edge1";
    extra["params"] = {{"pem", {rogue}}, {"sha256", {"AA:BB"}}};
    extra["depends_on"] = json::array();
    a["actions"].push_back(extra);
    size_t n = a["actions"].size();
    expect_refused(c, a,
                   {action_label(a, n - 1) + ": not in the plan edgecert makes now",
                    "altered or is stale", "run plan again", "nothing was changed"});
  }
  SECTION("a dropped action") {
    json a = plan;
    size_t last = a["actions"].size() - 1;
    json dropped = a["actions"][last];
    a["actions"].erase(last);
    expect_refused(
        c, a,
        {"action " + std::to_string(last + 1) + " (" + dropped["node"].get<std::string>() + " " +
         dropped["kind"].get<std::string>() + "): missing from the saved plan"});
  }
  SECTION("two independent actions swapped") {
    json a = plan;
    size_t i = index_of(plan, "generate-csr", "edge1");
    size_t j = index_of(plan, "generate-csr", "edge2");
    std::swap(a["actions"][i], a["actions"][j]);
    expect_refused(c, a, {action_label(a, std::min(i, j)) + ": field `id` " + tail});
  }
  SECTION("a trusted CA's PEM replaced") {
    json a = plan;
    size_t i = index_of(plan, "append-trusted-cas");
    a["actions"][i]["params"]["pem"][0] = rogue;
    expect_refused(c, a, {action_label(a, i) + ": field `params.pem` " + tail});
  }
  SECTION("an action moved to another node") {
    json a = plan;
    size_t i = index_of(plan, "generate-csr", "edge1");
    a["actions"][i]["node"] = "edge3";
    expect_refused(c, a, {action_label(a, i) + ": field `node` " + tail});
  }
  SECTION("the subject of a CSR") {
    json a = plan;
    size_t i = index_of(plan, "generate-csr", "edge2");
    a["actions"][i]["params"]["subject"]["organization"] = "Rogue Inc";
    expect_refused(c, a, {action_label(a, i) + ": field `params.subject.organization` " + tail});
  }
  SECTION("the key size of a CSR") {
    json a = plan;
    size_t i = index_of(plan, "generate-csr", "edge1");
    a["actions"][i]["params"]["key_size"] = 1024;
    expect_refused(c, a, {action_label(a, i) + ": field `params.key_size` " + tail});
  }
  SECTION("the SANs of a signature") {
    json a = plan;
    size_t i = index_of(plan, "sign-csr", "edge3");
    a["actions"][i]["params"]["dns_names"].push_back("evil.example.net");
    expect_refused(c, a, {action_label(a, i) + ": field `params.dns_names` " + tail});
  }
  SECTION("a trusted CA removal added") {
    json a = plan;
    json del = {{"id", "edge2/delete-trusted-ca"},
                {"node", "edge2"},
                {"kind", "delete-trusted-ca"},
                {"reason", "prune"},
                {"before", nullptr},
                {"after", nullptr},
                {"disruptive", false},
                {"manual", false},
                {"depends_on", json::array()},
                {"params", {{"sha256", "AA:BB"}}}};
    a["actions"].insert(a["actions"].begin(), del);
    expect_refused(c, a, {action_label(a, 0) + ": field `id` " + tail});
  }
  SECTION("only the words people review (reason, after)") {
    json a = plan;
    size_t i = index_of(plan, "restart", "edge1");
    a["actions"][i]["reason"] = "harmless";
    CliRun r = expect_refused(c, a, {action_label(a, i) + ": field `reason` " + tail});
    // The others are listed too, at most a handful.
    json b = plan;
    for (auto& act : b["actions"]) act["reason"] = "edited";
    r = expect_refused(c, b, {action_label(b, 0) + ": field `reason`", "... and "});
  }
  SECTION("the cluster it is for") {
    json a = plan;
    a["cluster"] = "production";
    expect_refused(c, a, {"'production'", "'test'", "cluster"});
  }
  SECTION("targets widened") {
    REQUIRE(c.plan({"--out", "cluster/plan.json", "--target", "edge2"}).status == 0);
    json a = json::parse(*c.memory.read_file("cluster/plan.json", kTestRead));
    // The plan derived for every peer then has more actions than the file.
    a["targets"] = json::array();
    expect_refused(c, a, {"action 1 (edge2 generate-csr): field `id` " + tail});
  }
  SECTION("a wrongly typed field is refused by the loader, naming it") {
    json a = plan;
    size_t i = index_of(plan, "generate-csr", "edge1");
    a["actions"][i]["params"]["key_size"] = "4096";
    expect_refused(c, a, {a["actions"][i]["id"].get<std::string>(), "key_size"});
    json b = plan;
    b["cluster"] = 7;
    expect_refused(c, b, {"cluster"});
    json d = plan;
    d["actions"][0]["depends_on"] = "x";
    expect_refused(c, d, {"depends_on"});
  }
  SECTION("a JSON object without format_version is neither a plan nor a spec") {
    json a = plan;
    a.erase("format_version");
    CliRun r = expect_refused(c, a, {"without format_version"});
    CHECK_FALSE(contains(r.err, "altered.json:1:"));  // not read as a YAML spec
  }
}

TEST_CASE("saved plan re-derived: a revocation's reason flag edited is refused",
          "[engine][plan][rederive]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  auto o = c.options();
  o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  o.rollout = "{healthTimeout: 2m, revokeSuperseded: true}";
  c.write_spec(o);
  json plan = saved_plan(c);
  size_t i = index_of(plan, "revoke-superseded", "edge2");
  json a = plan;
  a["actions"][i]["params"]["reason"] = "keyCompromise";
  REQUIRE(c.memory.write_file_atomic("cluster/altered.json", a.dump(2), 0644));
  std::map<std::string, int> restarts;
  for (const auto& name : c.peer_names()) restarts[name] = c.restarts(name);
  CliRun r = c.cli({"apply", "cluster/altered.json"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.err, action_label(a, i) + ": field `params.reason`"));
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == restarts[name]);
  CHECK_FALSE(c.memory.exists(kLock));
  // Unaltered, the same plan applies.
  r = c.cli({"apply", "cluster/plan.json"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
}

TEST_CASE("saved plan re-derived: plan_differences lists nothing for the plan itself",
          "[engine][plan][rederive]") {
  SimCluster c(testing::with_peers(2));
  json plan = saved_plan(c);
  auto p = plan_from_json(plan, "plan.json");
  REQUIRE(p);
  CHECK(plan_differences(plan, *p).empty());
  // A plan saved before `replace` was recorded carries none: the same as [].
  plan.erase("replace");
  CHECK(plan_differences(plan, *p).empty());
  json other = plan;
  other["actions"][0]["after"] = "x";
  auto d = plan_differences(other, *p);
  REQUIRE(d.size() == 1);
  CHECK(contains(d[0], "action 1 ("));
  CHECK(contains(d[0], "field `after`"));
}
