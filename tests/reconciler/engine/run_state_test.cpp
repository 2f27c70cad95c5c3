// What plan and status say about runs (run_state.h): the lock holder, an
// unfinished run, and TLS verification a stopped run left relaxed.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reconciler/engine/run_state.h"
#include "reconciler/engine/session.h"

using namespace edgecert;

namespace {

const TimePoint kT0(std::chrono::seconds(1798761600));  // 2027-01-01T00:00:00Z

JournalEntry entry(const std::string& run, JournalEvent ev, const std::string& action = "",
                   const std::string& node = "", const std::string& kind = "",
                   nlohmann::json data = nlohmann::json::object(), int minute = 0) {
  JournalEntry e;
  e.run_id = run;
  e.event = ev;
  e.action_id = action;
  e.node = node;
  e.kind = kind;
  e.data = std::move(data);
  e.time = kT0 + std::chrono::minutes(minute);
  return e;
}

// A set-tls-verification action of `run` on `node` to `mode`, done at `minute`.
void set_tls(std::vector<JournalEntry>& j, const std::string& run, const std::string& node,
             const std::string& mode, int minute, const std::string& id = "") {
  std::string action = id.empty() ? node + "/set-tls-verification" : id;
  j.push_back(entry(run, JournalEvent::kActionStart, action, node, "set-tls-verification",
                    {{"before", "x"}, {"after", mode}}, minute));
  j.push_back(
      entry(run, JournalEvent::kActionDone, action, node, "set-tls-verification", {}, minute));
}

bool has(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("run state: relaxed by a run and not restored, per node", "[engine][run_state]") {
  std::vector<JournalEntry> j;
  j.push_back(entry("run-1", JournalEvent::kRunStart, "", "", "", {{"actions", 10}}));
  set_tls(j, "run-1", "edge1", "permissive", 1);
  set_tls(j, "run-1", "edge2", "permissive", 2);
  SECTION("interrupted before the restore: both relaxed, since the relax") {
    j.push_back(entry("run-1", JournalEvent::kRunEnd));
    auto relaxed = tls_relaxed_by_runs(j);
    REQUIRE(relaxed.size() == 2);
    CHECK(relaxed[0].node == "edge1");
    CHECK(relaxed[0].run_id == "run-1");
    CHECK(relaxed[0].since == kT0 + std::chrono::minutes(1));
    RunState s;
    s.relaxed = relaxed;
    auto lines = describe_run_state(s, {"edge1", "edge2"});
    CHECK(has(lines,
              "cluster TLS verification relaxed since 2027-01-01 00:01:00 UTC by run run-1 "
              "(edge1, edge2 permissive)"));
    // A node no longer permissive (set back by hand) is not listed.
    CHECK(has(describe_run_state(s, {"edge2"}), "(edge2 permissive)"));
    CHECK(describe_run_state(s, {}).empty());
  }
  SECTION("restored by the recovery of the same run: nothing relaxed") {
    set_tls(j, "run-1", "edge1", "enforce", 3, "recover/edge1/set-tls-verification");
    auto relaxed = tls_relaxed_by_runs(j);
    REQUIRE(relaxed.size() == 1);
    CHECK(relaxed[0].node == "edge2");
  }
  SECTION("an action whose done is missing (killed) does not count") {
    j.push_back(entry("run-2", JournalEvent::kRunStart));
    j.push_back(entry("run-2", JournalEvent::kActionStart, "edge1/set-tls-verification", "edge1",
                      "set-tls-verification", {{"after", "enforce"}}, 5));
    CHECK(tls_relaxed_by_runs(j).size() == 2);
  }
}

TEST_CASE("run state: an unfinished run, with how far it got", "[engine][run_state]") {
  std::vector<JournalEntry> j;
  j.push_back(entry("run-1", JournalEvent::kRunStart, "", "", "", {{"actions", 7}}, 0));
  j.push_back(entry("run-1", JournalEvent::kActionStart, "edge1/generate-csr", "edge1",
                    "generate-csr", {}, 1));
  j.push_back(
      entry("run-1", JournalEvent::kActionDone, "edge1/generate-csr", "edge1", "generate-csr"));
  j.push_back(entry("run-1", JournalEvent::kActionStart, "edge1/sign-csr", "edge1", "sign-csr"));
  auto u = unfinished_run(j);
  REQUIRE(u);
  CHECK(u->run_id == "run-1");
  CHECK(u->started == kT0);
  CHECK(u->actions_done == 1);
  CHECK(u->actions_planned == 7);
  RunState s;
  s.unfinished = u;
  CHECK(has(describe_run_state(s, {}),
            "Run run-1 (started 2027-01-01 00:00:00 UTC, 1 of 7 actions done) did not finish; "
            "the next apply resumes it"));
  j.push_back(entry("run-1", JournalEvent::kRunEnd));
  CHECK_FALSE(unfinished_run(j));
}

TEST_CASE("run state: read from a state folder, lock included", "[engine][run_state]") {
  MemoryEnv env(kT0);
  SECTION("an empty folder: nothing to say") {
    RunState s = read_run_state(env, "state/test");
    CHECK_FALSE(s.lock);
    CHECK_FALSE(s.unfinished);
    CHECK(s.problems.empty());
    CHECK(describe_run_state(s, {"edge1"}).empty());
  }
  SECTION("a held lock is described with its holder") {
    auto lock = ClusterLock::acquire(env, "state/test", "apply", {"alice", "hostA", 11});
    REQUIRE(lock);
    RunState s = read_run_state(env, "state/test");
    REQUIRE(s.lock);
    CHECK(has(describe_run_state(s, {}),
              "The cluster is locked: lock " + lock->info().id +
                  " held by alice@hostA (pid 11) for apply since 2027-01-01 00:00:00 UTC"));
  }
  SECTION("a corrupt journal is a problem, said so") {
    env.put("state/test/journal.jsonl", "not json\n{}\n");
    RunState s = read_run_state(env, "state/test");
    CHECK(has(describe_run_state(s, {}), "cannot read the run state"));
  }
}

TEST_CASE("state folder: next to the spec unless given", "[engine][session]") {
  CHECK(state_root("spec.yaml", "") == ".edgecert/state");
  CHECK(state_root("../clusters/spec.yaml", "") == "../clusters/.edgecert/state");
  CHECK(state_root("/etc/edgecert/spec.yaml", "") == "/etc/edgecert/.edgecert/state");
  CHECK(state_root("../clusters/spec.yaml", "/var/lib/edgecert") == "/var/lib/edgecert");
}
