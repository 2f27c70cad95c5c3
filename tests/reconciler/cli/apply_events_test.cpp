// `apply` progress: a line when an action starts, heartbeats during long
// waits, and `--output json` as one event per line (docs/apply-events.md).
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<json> events_of(const std::string& out) {
  std::vector<json> events;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    INFO("not a JSON line: " << line);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_object());
    REQUIRE(j.contains("event"));
    REQUIRE(j.contains("time"));
    events.push_back(std::move(j));
  }
  return events;
}

void set_faults(SimCluster& c, const std::string& node, const sim::FaultConfig& faults) {
  REQUIRE(c.node(node).ensure_booted());
  REQUIRE(c.node(node).set_faults(faults));
}

// edge2 takes 45 s (virtual) to come back from its restart.
void slow_edge2(SimCluster& c) {
  sim::FaultConfig slow;
  slow.slow_restart_seconds = 45;
  set_faults(c, "edge2", slow);
}

}  // namespace

TEST_CASE("apply: a line when each action starts and heartbeats during a long wait",
          "[reconciler][progress]") {
  SimCluster c;
  slow_edge2(c);
  // edge3 keeps answering for 15 s after accepting its restart, like a real
  // appliance shutting down.
  sim::FaultConfig delayed;
  delayed.restart_delay_seconds = 15;
  set_faults(c, "edge3", delayed);
  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "[2/3 edge2] restart: started\n"));
  CHECK(contains(r.out, "[2/3 edge2] wait-healthy: started\n"));
  // healthTimeout is 2m in SimCluster's spec.
  CHECK(contains(r.out, "edge2: waiting for the node to come back: 10s of 120s\n"));
  CHECK(contains(r.out, "edge2: waiting for the node to come back: 40s of 120s\n"));
  CHECK_FALSE(contains(r.out, "edge1: waiting for the node to come back"));  // 3 s: no beat
  CHECK(contains(r.out, "edge3: waiting for the node to go down for its restart: 10s of 600s\n"));
  // Start before end, per action.
  CHECK(r.out.find("[2/3 edge2] wait-healthy: started") <
        r.out.find("edge2: waiting for the node to come back: 10s"));
  CHECK(r.out.find("edge2: waiting for the node to come back: 40s") <
        r.out.find("[2/3 edge2] wait-healthy: up after"));
}

TEST_CASE("apply --output json: one event per line, in order, with heartbeats",
          "[reconciler][progress]") {
  SimCluster c;
  slow_edge2(c);
  auto r = c.apply({"--output", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto events = events_of(r.out);
  REQUIRE(events.size() > 4);

  CHECK(events.front()["event"] == "run-start");
  CHECK(events.front()["cluster"] == "test");
  CHECK(events.front()["nodes"] == json({"edge1", "edge2", "edge3"}));
  CHECK(events.front()["actions"].get<size_t>() > 0);
  CHECK(events.back()["event"] == "result");
  CHECK(events.back()["status"] == "complete");
  CHECK(events.back()["exit_code"] == 0);
  REQUIRE(events[events.size() - 2]["event"] == "nodes");
  CHECK(events[events.size() - 2]["nodes"].size() == 3);
  CHECK(events[events.size() - 2]["nodes"][1]["node"] == "edge2");

  // Every action: start, then (heartbeats,) then done. CSR generation and
  // signing run concurrently (a wave's starts come first, then its outcomes,
  // in plan order); every other action runs alone, nothing in between.
  std::vector<std::string> open;
  size_t done = 0, heartbeats = 0;
  auto concurrent = [](const json& e) {
    return e["kind"] == "generate-csr" || e["kind"] == "sign-csr";
  };
  for (const json& e : events) {
    std::string ev = e["event"].get<std::string>();
    if (ev == "action-start") {
      if (!concurrent(e)) CHECK(open.empty());
      open.push_back(e["action"].get<std::string>());
      CHECK(e.contains("node"));
      CHECK(e.contains("kind"));
      CHECK(e.contains("reason"));
    } else if (ev == "action-done") {
      REQUIRE_FALSE(open.empty());
      CHECK(e["action"] == open.front());  // outcomes in start order
      CHECK(e.contains("elapsed_ms"));
      open.erase(open.begin());
      ++done;
    } else if (ev == "heartbeat") {
      REQUIRE(open.size() == 1);
      CHECK(e["action"] == open.front());
      CHECK(e["action"] == "edge2/wait-healthy");
      CHECK(e["node"] == "edge2");
      CHECK(e["waiting_for"] == "waiting for the node to come back");
      CHECK(e["timeout_ms"] == 120000);
      CHECK(e["elapsed_ms"].get<long>() == 10000 * static_cast<long>(heartbeats + 1));
      ++heartbeats;
    }
  }
  CHECK(open.empty());
  CHECK(heartbeats == 4);  // 10, 20, 30, 40 s of a 45 s restart
  CHECK(events.back()["actions_done"] == done);
  CHECK(events.front()["actions"] == done);
}

TEST_CASE("apply --output json: refusals and waits are events too, and need no prompt",
          "[reconciler][progress]") {
  SimCluster c;
  // No --auto-approve: nobody can answer a prompt on a JSON stream.
  auto r = c.cli({"apply", c.spec_path, "--output", "json"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  auto events = events_of(r.out);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["event"] == "result");
  CHECK(events[0]["status"] == "refused");
  CHECK(contains(events[0]["message"].get<std::string>(), "--auto-approve"));
  CHECK(contains(r.err, "--auto-approve"));
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 0);

  // Nothing to do: one result event.
  REQUIRE(c.apply().status == 0);
  auto none = c.apply({"-o", "json"});
  INFO(none.out << none.err);
  CHECK(none.status == 0);
  auto only = events_of(none.out);
  REQUIRE(only.size() == 1);
  CHECK(only[0]["status"] == "no-changes");
}

TEST_CASE("apply --output json: the external issuer's wait is exit 3 with what to put where",
          "[reconciler][progress][issuer]") {
  testing::SimClusterOptions o;
  o.peers = 2;
  o.issuer = "{type: external, requestsDir: req, certificatesDir: certs}";
  o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem]}\n";
  SimCluster c(o);
  auto r = c.apply({"--output", "json"});
  INFO(r.out << r.err);
  CHECK(r.status == kExitWaiting);
  auto events = events_of(r.out);
  REQUIRE_FALSE(events.empty());
  const json& result = events.back();
  CHECK(result["status"] == "waiting");
  CHECK(result["exit_code"] == kExitWaiting);
  REQUIRE(result["next_steps"].size() == 2);
  CHECK(contains(result["next_steps"][0].get<std::string>(), "cluster/certs/test/edge1.pem"));
  size_t waiting = 0;
  for (const json& e : events) waiting += e["event"] == "action-waiting" ? 1 : 0;
  CHECK(waiting == 2);
}

TEST_CASE(
    "apply --output json: a failed health gate is an action-failed event and a failed "
    "result",
    "[reconciler][progress]") {
  SimCluster c;
  sim::FaultConfig gone;
  gone.restart_never_returns = true;
  set_faults(c, "edge2", gone);
  auto r = c.apply({"--output", "json"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  auto events = events_of(r.out);
  REQUIRE_FALSE(events.empty());
  const json& result = events.back();
  CHECK(result["event"] == "result");
  CHECK(result["status"] == "failed");
  CHECK(result["exit_code"] == 1);
  CHECK(result["failed_action"] == "edge2/wait-healthy");
  CHECK_FALSE(result["next_steps"].empty());
  size_t beats = 0;
  bool failed = false;
  for (const json& e : events) {
    if (e["event"] == "heartbeat") {
      CHECK_FALSE(failed);
      ++beats;
    }
    if (e["event"] == "action-failed") {
      CHECK(e["action"] == "edge2/wait-healthy");
      CHECK(contains(e["message"].get<std::string>(), "edge2"));
      failed = true;
    }
    // Nothing of edge3 after edge2 failed: it was never touched.
    if (failed) CHECK(e.value("node", "") != "edge3");
  }
  CHECK(failed);
  CHECK(beats == 12);  // every 10 s of the 120 s health gate
  CHECK(contains(r.err, "edgecert: error: apply failed"));
  CHECK(c.restarts("edge3") == 0);
}
