// `plan`/`apply --replace NODE`: forced renewal of a certificate that matches
// the spec, through the ordinary rollout.
#include <catch2/catch.hpp>

#include <map>

#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::map<std::string, std::string> serials(SimCluster& c) {
  std::map<std::string, std::string> out;
  for (const auto& name : c.peer_names()) out[name] = c.serving(name).serial_hex();
  return out;
}

}  // namespace

TEST_CASE("apply --replace: reissues only that node's certificate, then the plan is empty",
          "[reconciler][replace]") {
  SimCluster c;
  auto first = c.apply();
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  REQUIRE(c.plan({"--detailed-exitcode"}).status == 0);
  auto before = serials(c);
  std::map<std::string, int> restarts;
  for (const auto& name : c.peer_names()) restarts[name] = c.restarts(name);

  auto plan = c.plan({"--replace", "edge2", "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.status == 2);
  CHECK(contains(plan.out, "replacement requested with --replace"));
  CHECK(contains(plan.out, "edge2"));

  auto second = c.apply({"--replace", "edge2"});
  INFO(second.out << second.err);
  REQUIRE(second.status == 0);
  auto after = serials(c);
  CHECK(after["edge1"] == before["edge1"]);
  CHECK(after["edge3"] == before["edge3"]);
  CHECK(after["edge2"] != before["edge2"]);
  // The same rollout as any reissue: edge2 restarted once, the others not.
  CHECK(c.restarts("edge2") == restarts["edge2"] + 1);
  CHECK(c.restarts("edge1") == restarts["edge1"]);
  CHECK(c.restarts("edge3") == restarts["edge3"]);
  // Cluster TLS verification is back where the spec wants it.
  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
  }

  auto again = c.plan({"--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.status == 0);
  CHECK(contains(again.out, "No changes"));
}

TEST_CASE(
    "plan/apply --replace: an unknown node is exit 1 naming the spec's peers, nothing changed",
    "[reconciler][replace]") {
  SimCluster c;
  for (const char* cmd : {"plan", "apply"}) {
    std::vector<std::string> args = {cmd, c.spec_path, "--replace", "edge9"};
    if (std::string(cmd) == "apply") args.push_back("--auto-approve");
    auto r = c.cli(args);
    INFO(cmd << ": " << r.out << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "'edge9' is not a peer of test (peers: edge1, edge2, edge3)"));
  }
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 0);
  // Outside --target: refused too.
  auto r = c.plan({"--target", "edge1", "--replace", "edge2"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "--replace edge2: the node is outside --target/--exclude"));
}
