// fleet_plan.h: many clusters' plans in one file, round-tripped and refused
// when malformed, naming the entry and the field.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "providers/pki/spki.h"
#include "reconciler/engine/fleet_plan.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using nlohmann::json;

namespace {

Plan cluster_plan(const std::string& cluster) {
  Plan p;
  p.spec_path = "fleet/" + cluster + "/cluster.yaml";
  p.spec_absolute_path = "/abs/" + p.spec_path;
  p.spec_sha256 = "00ff";
  p.cluster = cluster;
  p.created_at = "2027-01-01 00:00:00 UTC";
  p.edgecert_version = "0.9.0";
  p.nodes.emplace_back("edge1", NodeSnapshot{"aa", json{{"k", 1}}});
  Action a;
  a.id = "edge1/restart";
  a.node = "edge1";
  a.reason = "test";
  a.params = RestartParams{};
  p.actions.push_back(a);
  return p;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("fleet plan: every cluster's plan round-trips, the file's bytes hashed", "[fleet]") {
  MemoryEnv env;
  json j = fleet_plan_to_json({cluster_plan("tokyo"), cluster_plan("osaka")},
                              "2027-01-01 00:00:00 UTC", "2/8");
  CHECK(j["fleet_format_version"] == 1);
  CHECK(j["shard"] == "2/8");
  const std::string text = j.dump(2) + "\n";
  env.put("fleet.json", text);
  CHECK(is_fleet_plan(env, "fleet.json"));
  auto f = read_fleet_plan(env, "fleet.json");
  REQUIRE(f);
  CHECK(f->clusters == std::vector<std::string>{"tokyo", "osaka"});
  CHECK(f->plans[1] == plan_to_json(cluster_plan("osaka")));
  CHECK(f->sha256 == pki::sha256_hex(text));
  CHECK(fleet_plan_entry_name("fleet.json", "osaka") == "fleet.json, cluster 'osaka'");
}

TEST_CASE("fleet plan: one cluster's plan, a spec, a folder are not fleet plans", "[fleet]") {
  MemoryEnv env;
  env.put("one.json", plan_to_json(cluster_plan("tokyo")).dump());
  env.put("spec.yaml", "apiVersion: edgecert/v1\n");
  env.put("dir/x", "");
  CHECK_FALSE(is_fleet_plan(env, "one.json"));
  CHECK_FALSE(is_fleet_plan(env, "spec.yaml"));
  CHECK_FALSE(is_fleet_plan(env, "dir"));
  CHECK_FALSE(is_fleet_plan(env, "missing.json"));
}

TEST_CASE("fleet plan: malformed files are refused naming the entry and field", "[fleet]") {
  MemoryEnv env;
  json good = fleet_plan_to_json({cluster_plan("tokyo"), cluster_plan("osaka")}, "x", "");
  auto refused = [&](json j) {
    env.put("f.json", j.dump());
    auto r = read_fleet_plan(env, "f.json");
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  json j = good;
  j["fleet_format_version"] = 2;
  CHECK(refused(j) ==
        "f.json: field fleet_format_version: 2 is not supported (this edgecert "
        "reads 1)");
  j = good;
  j["fleet_format_version"] = "1";
  CHECK(contains(refused(j), "field fleet_format_version: \"1\" is not supported"));
  j = good;
  j["plans"] = json::object();
  CHECK(refused(j) == "f.json: field plans: expected a list of plans");
  j = good;
  j.erase("plans");
  CHECK(refused(j) == "f.json: field plans: expected a list of plans");
  j = good;
  j["plans"] = json::array();
  CHECK(refused(j) == "f.json: field plans: the list is empty");
  j = good;
  j["plans"][1] = 7;
  CHECK(refused(j) == "f.json: field plans[1]: expected a plan object");
  j = good;
  j["plans"][1].erase("cluster");
  CHECK(contains(refused(j), "f.json: plans[1]"));
  j = good;
  j["plans"].push_back(j["plans"][0]);
  CHECK(refused(j) ==
        "f.json: field plans[2]: cluster 'tokyo' has a plan earlier in the file: "
        "a fleet plan holds one plan per cluster");
  env.put("f.json", "[1, 2]");
  CHECK(read_fleet_plan(env, "f.json").error().message == "f.json: not a JSON object");
}
