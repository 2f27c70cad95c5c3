// Interruptions and the lock through the CLI, in-process on a SimCluster:
// an apply stopped mid-run (the engine's stop token, as the signal handler
// sets it), what status and plan then say, TLS restored first by the next
// plan, force-unlock's confirmation, and the lock in the spec's folder.
// The real signals and processes: tests/scripts/interrupt_test.sh.
#include <catch2/catch.hpp>

#include <atomic>

#include <nlohmann/json.hpp>

#include "reconciler/engine/apply.h"
#include "reconciler/engine/lock.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const std::string kState = "cluster/.edgecert/state/test";

// apply with a stop requested right after the journal write that records
// `action`'s `event` ("action-start"/"action-done").
ApplyResult apply_stopped_at(SimCluster& c, const std::string& event, const std::string& action) {
  std::atomic<int> flag{0};
  ApplyRequest req;
  req.input = c.spec_path;
  req.stop = StopToken(&flag);
  req.after_journal_write = [&](long) {
    auto text = c.memory.read_file(kState + "/journal.jsonl", kTestRead);
    if (!text || text->size() < 2) return true;
    size_t start = text->rfind('\n', text->size() - 2);
    std::string last = text->substr(start == std::string::npos ? 0 : start + 1);
    if (contains(last, "\"action\":\"" + action + "\"") &&
        contains(last, "\"event\":\"" + event + "\""))
      flag.store(2);
    return true;
  };
  return apply(c.env, req);
}

std::vector<std::string> plan_kinds_and_reasons(SimCluster& c, std::vector<std::string>* reasons) {
  auto r = c.plan({"-o", "json"});
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> ids;
  for (const auto& a : j["actions"]) {
    ids.push_back(a["id"].get<std::string>());
    if (reasons) reasons->push_back(a["reason"].get<std::string>());
  }
  return ids;
}

}  // namespace

TEST_CASE("interrupt: a stopped apply releases the lock and status and plan say TLS is relaxed",
          "[reconciler][cancel]") {
  SimCluster c(testing::with_peers(2));
  auto r = apply_stopped_at(c, "action-done", "edge1/restart");
  REQUIRE(r.status == ApplyStatus::kExecuted);
  REQUIRE(r.report);
  CHECK(r.report->outcome == ApplyOutcome::kInterrupted);
  CHECK_FALSE(c.memory.exists(kState + "/lock.json"));
  CHECK(c.restarts("edge2") == 0);
  // edge2 still has its factory certificate: TLS stays relaxed, said so.
  bool said = false;
  for (const auto& s : r.report->next_steps) said = said || contains(s, "left as it is");
  CHECK(said);
  c.memory.advance(std::chrono::seconds(30));  // edge1's restart finishes
  auto status = c.cli({"status", c.spec_path});
  INFO(status.out << status.err);
  CHECK(contains(status.out, "cluster TLS verification relaxed since"));
  CHECK(contains(status.out, "(edge1, edge2 permissive)"));
  auto json = c.cli({"status", c.spec_path, "-o", "json"});
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["run_state"]["tls_relaxed"].size() == 2);
  CHECK(j["run_state"]["lock"].is_null());
  auto plan = c.plan();
  CHECK(contains(plan.out, "cluster TLS verification relaxed since"));
  // The next apply finishes the rollout; nothing is left.
  auto again = c.apply();
  INFO(again.out << again.err);
  REQUIRE(again.status == 0);
  CHECK(c.restarts("edge1") == 1);
  CHECK(c.restarts("edge2") == 1);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
  CHECK_FALSE(contains(c.cli({"status", c.spec_path}).out, "relaxed since"));
}

TEST_CASE("interrupt: a node caught mid-restart is reported as restarting, not up",
          "[reconciler][cancel]") {
  // The stop ends edge1's health wait at once: the wait's clock runs ahead,
  // but the simulated appliance keeps its own time (NodeOpenContext::
  // appliance_env), so it has not finished restarting in the report.
  SimCluster c(testing::with_peers(2));
  auto r = apply_stopped_at(c, "action-start", "edge1/wait-healthy");
  REQUIRE(r.status == ApplyStatus::kExecuted);
  REQUIRE(r.report);
  CHECK(r.report->outcome == ApplyOutcome::kInterrupted);
  std::string edge1;
  for (const auto& line : r.report->node_report)
    if (line.rfind("edge1:", 0) == 0) edge1 = line;
  INFO(edge1);
  CHECK_FALSE(contains(edge1, "serving"));
  CHECK(contains(edge1, "restarting"));
}

TEST_CASE("interrupt: stopped while every node is valid, TLS verification is restored",
          "[reconciler][cancel]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  // Both nodes say they need a restart: relax, restart one at a time, restore;
  // the certificates (all valid) stay as they are.
  for (const auto& name : c.peer_names()) {
    const std::string file = "cluster/.edgecert/sim/test/" + name + ".json";
    auto text = c.memory.read_file(file, kTestRead);
    REQUIRE(text);
    auto j = nlohmann::json::parse(*text);
    j["restart_required"] = true;
    c.memory.put(file, j.dump(), 0600);
  }
  auto r = apply_stopped_at(c, "action-done", "edge1/verify-served");
  REQUIRE(r.report);
  CHECK(r.report->outcome == ApplyOutcome::kInterrupted);
  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
  }
  CHECK(c.restarts("edge1") == 2);
  CHECK(c.restarts("edge2") == 1);  // only the first apply's
  REQUIRE(c.apply().status == 0);   // the rest: edge2's restart
  CHECK(c.restarts("edge2") == 2);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("interrupt: a plan restores relaxed TLS verification first when every node is valid",
          "[reconciler][plan]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  // What a killed run leaves behind: relaxed, every node valid.
  for (const auto& name : c.peer_names())
    REQUIRE(c.node(name).set_tls_verification(spec::TlsVerification::kPermissive));
  SECTION("nothing else to do: the restore is the whole plan") {
    std::vector<std::string> reasons;
    auto ids = plan_kinds_and_reasons(c, &reasons);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] == "edge1/set-tls-verification");
    CHECK(contains(reasons[0], "first"));
  }
  SECTION("a renewal to do: restored first, relaxed again right before, restored at the end") {
    // 340 days on, the 365-day certificates are inside a 30-day renewal window.
    c.memory.advance(std::chrono::hours(24 * 340));
    auto o = c.options();
    o.server_certificate_extra = "    renewBefore: 30d\n";
    c.write_spec(o);
    std::vector<std::string> reasons;
    auto ids = plan_kinds_and_reasons(c, &reasons);
    REQUIRE(ids.size() > 6);
    CHECK(ids[0] == "edge1/set-tls-verification");
    CHECK(ids[1] == "edge2/set-tls-verification");
    CHECK(contains(reasons[0], "first"));
    CHECK(contains(reasons[1], "first"));
    CHECK(contains(reasons.back(), "restore"));
    // Relaxed again only after every CSR is signed, right before the rollout.
    long relax = -1, sign = -1;
    for (size_t i = 0; i < reasons.size(); ++i) {
      if (contains(reasons[i], "relax cluster TLS verification") && relax < 0)
        relax = static_cast<long>(i);
      if (contains(ids[i], "/sign-csr")) sign = static_cast<long>(i);
    }
    CHECK(relax > sign);
    CHECK(sign > 1);
  }
}

TEST_CASE("force-unlock: asks for confirmation unless --force and refuses without a terminal",
          "[reconciler][lock]") {
  SimCluster c(testing::with_peers(1));
  auto lock = ClusterLock::acquire(c.memory, kState, "apply", {"alice", "hostA", 11});
  REQUIRE(lock);
  lock->keep();
  const std::string id = lock->info().id;
  SECTION("no terminal, no --force: exit 1, lock kept") {
    auto r = c.cli({"force-unlock", id, c.spec_path});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "--force"));
    CHECK(c.memory.exists(kState + "/lock.json"));
  }
  SECTION("a terminal: only 'yes' removes it") {
    auto no = c.cli({"force-unlock", id, c.spec_path}, "y\n", true);
    CHECK(no.status == 1);
    CHECK(contains(no.out, "Only 'yes' will be accepted"));
    CHECK(c.memory.exists(kState + "/lock.json"));
    auto yes = c.cli({"force-unlock", id, c.spec_path}, "yes\n", true);
    CHECK(yes.status == 0);
    CHECK_FALSE(c.memory.exists(kState + "/lock.json"));
  }
  SECTION("--force: removed without asking") {
    auto r = c.cli({"force-unlock", id, c.spec_path, "--force"});
    CHECK(r.status == 0);
    CHECK_FALSE(c.memory.exists(kState + "/lock.json"));
  }
  SECTION("neither SPEC nor --state-dir: exit 1 saying which to give") {
    auto r = c.cli({"force-unlock", id, "--force"});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "SPEC"));
    CHECK(contains(r.err, "--state-dir"));
  }
  SECTION("plan and status name the holder; apply is refused naming it") {
    auto plan = c.plan();
    CHECK(
        contains(plan.out, "The cluster is locked: lock " + id + " held by alice@hostA (pid 11)"));
    auto status = c.cli({"status", c.spec_path});
    CHECK(contains(status.out, "held by alice@hostA (pid 11) for apply since"));
    auto apply = c.apply();
    CHECK(apply.status == 1);
    CHECK(contains(apply.err, "alice@hostA"));
    CHECK(contains(apply.err, "force-unlock " + id + " " + c.spec_path));
  }
}

TEST_CASE("lock: in the spec's folder and --lock-timeout must be a duration",
          "[reconciler][lock]") {
  SimCluster c(testing::with_peers(1));
  REQUIRE(c.apply().status == 0);
  CHECK(c.memory.exists(kState + "/journal.jsonl"));
  CHECK_FALSE(c.memory.exists(".edgecert/state/test/journal.jsonl"));
  auto bad = c.apply({"--lock-timeout", "soon"});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "--lock-timeout 'soon'"));
  CHECK(c.apply({"--lock-timeout", "30s"}).status == 0);
}
