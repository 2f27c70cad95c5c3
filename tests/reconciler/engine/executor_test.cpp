// The executor's rules (executor.h), on their own: against the DryRunRunner
// and a scripted fake runner, on a MemoryEnv whose clock only moves when the
// executor sleeps, so nothing really waits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "providers/base/fault_env.h"
#include "reconciler/engine/dry_run_runner.h"
#include "reconciler/engine/executor.h"
#include "tests/support/result_checks.h"

using namespace edgecert;
using nlohmann::json;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines)
    if (contains(l, needle)) return true;
  return false;
}

Action make(const std::string& node, ActionKind kind, std::vector<std::string> deps = {},
            std::string id = "") {
  Action a;
  a.id = id.empty() ? node + "/" + action_kind_name(kind) : id;
  a.node = node;
  a.reason = "test";
  a.params = default_params(kind);
  a.depends_on = std::move(deps);
  return a;
}

Plan base_plan(std::vector<std::string> nodes = {"edge1", "edge2"}) {
  Plan p;
  p.spec_path = "spec.yaml";
  p.spec_sha256 = "00";
  p.cluster = "test";
  p.created_at = "2027-01-01T00:00:00Z";
  for (const auto& n : nodes) p.nodes.emplace_back(n, NodeSnapshot{"fp-" + n, json::object()});
  return p;
}

// The shape build_plan gives a reissue of two nodes: CSRs and signatures up
// front, relax, then per node upload → restart → wait → verify, then restore.
Plan rollout_plan() {
  Plan p = base_plan();
  p.actions = {
      make("edge1", ActionKind::kGenerateCsr),
      make("edge1", ActionKind::kSignCsr, {"edge1/generate-csr"}),
      make("edge2", ActionKind::kGenerateCsr),
      make("edge2", ActionKind::kSignCsr, {"edge2/generate-csr"}),
      make("edge1", ActionKind::kSetTlsVerification, {"edge1/sign-csr", "edge2/sign-csr"},
           "edge1/set-tls-verification"),
      make("edge1", ActionKind::kUploadCertificate,
           {"edge1/sign-csr", "edge1/set-tls-verification"}),
      make("edge1", ActionKind::kRestart, {"edge1/upload-certificate"}),
      make("edge1", ActionKind::kWaitHealthy, {"edge1/restart"}),
      make("edge1", ActionKind::kVerifyServed, {"edge1/wait-healthy"}),
      make("edge2", ActionKind::kUploadCertificate, {"edge2/sign-csr"}),
      make("edge2", ActionKind::kRestart, {"edge2/upload-certificate", "edge1/verify-served"}),
      make("edge2", ActionKind::kWaitHealthy, {"edge2/restart"}),
      make("edge2", ActionKind::kVerifyServed, {"edge2/wait-healthy"}),
      make("edge1", ActionKind::kSetTlsVerification, {"edge1/verify-served", "edge2/verify-served"},
           "edge1/set-tls-verification/2"),
  };
  return p;
}

std::vector<std::string> ids(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions) out.push_back(a.id);
  return out;
}

// A runner that answers from a script per action id (then "done"), takes
// `cost` of clock time per call, and records what the executor asked of it.
class FakeRunner : public ActionRunner {
 public:
  explicit FakeRunner(MemoryEnv& env) : env_(env) {}

  std::map<std::string, std::deque<Result<ActionOutput>>> script;
  std::chrono::seconds cost{0};
  std::vector<std::string> ran;
  std::optional<std::string> restart_answer;
  std::vector<std::string> restart_checks;
  RecoveryAssessment assessment;
  int assessments = 0;
  std::vector<std::string> restored;

  void fail(const std::string& id, ErrorCode code, int times = 1) {
    for (int i = 0; i < times; ++i)
      script[id].push_back(std::unexpected(Error{code, id + ": scripted failure"}));
  }
  void wait_on(const std::string& id) {
    ActionOutput o;
    o.message = id + ": waiting for the external CA";
    o.waiting = true;
    script[id].push_back(o);
  }
  size_t count(const std::string& id) const {
    return static_cast<size_t>(std::count(ran.begin(), ran.end(), id));
  }

  // Called as each action runs (e.g. a signal arriving mid-action).
  std::function<void(const std::string& id)> on_run;

  Result<ActionOutput> run(const Action& action) override {
    ran.push_back(action.id);
    if (on_run) on_run(action.id);
    env_.advance(cost);
    auto it = script.find(action.id);
    if (it != script.end() && !it->second.empty()) {
      auto r = it->second.front();
      it->second.pop_front();
      return r;
    }
    ActionOutput o;
    o.message = "did " + action.id;
    o.data = {{"id", action.id}};
    return o;
  }
  Result<ManualCheck> check_manual(const Action& action) override {
    ran.push_back(action.id);
    return ManualCheck{ManualCheck::State::kDone, "checked"};
  }
  std::optional<std::string> restart_happened(const Action& action) override {
    restart_checks.push_back(action.id);
    return restart_answer;
  }
  RecoveryAssessment assess_recovery() override {
    ++assessments;
    return assessment;
  }
  Status restore_tls_verification(const std::string& node) override {
    restored.push_back(node);
    return {};
  }
  std::vector<std::string> describe_nodes() override { return {"edge1: fake", "edge2: fake"}; }

 private:
  MemoryEnv& env_;
};

struct Harness {
  MemoryEnv memory;
  Journal journal{memory, "journal.jsonl"};
  FakeRunner fake{memory};
  ExecutorContext ctx{memory, fake, journal, "run-1"};
  std::vector<std::string> progress;
  Harness() {
    ctx.progress = [this](const ProgressEvent& e) { progress.push_back(progress_line(e)); };
  }
  std::vector<JournalEntry> entries() {
    auto all = journal.read_all();
    REQUIRE(all);
    return *all;
  }
  // (event, action id) of every journal entry.
  std::vector<std::pair<std::string, std::string>> events() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : entries()) out.emplace_back(journal_event_name(e.event), e.action_id);
    return out;
  }
};

}  // namespace

TEST_CASE("executor: a runnable plan runs every action in order with the DryRunRunner",
          "[engine][executor]") {
  Plan p = rollout_plan();
  MemoryEnv memory;
  Journal journal(memory, "journal.jsonl");
  DryRunRunner runner({"edge1", "edge2"});
  ExecutorContext ctx(memory, runner, journal, "r1");
  auto report = execute_plan(p, ctx);
  CHECK(report.outcome == ApplyOutcome::kComplete);
  CHECK(report.actions_done == p.actions.size());
  CHECK(report.failed_action.empty());
  CHECK(runner.ran() == ids(p));
  CHECK(report.node_report ==
        std::vector<std::string>{"edge1: not touched (dry run)", "edge2: not touched (dry run)"});
  // dry_run_plan walks the same executor.
  auto dry = dry_run_plan(p, memory.now());
  CHECK(dry.outcome == ApplyOutcome::kComplete);
  CHECK(dry.actions_done == p.actions.size());
}

TEST_CASE("executor: an action whose dependency is not done is refused, nothing after runs",
          "[engine][executor]") {
  Harness h;
  Plan p = rollout_plan();
  std::string refused;
  std::string missing;
  SECTION("reordered: restart before its upload") {
    std::swap(p.actions[5], p.actions[6]);
    refused = "edge1/restart";
    missing = "edge1/upload-certificate";
  }
  SECTION("a dependency that is no action of the plan") {
    p.actions[10].depends_on.push_back("edge1/verify-served/resume");
    refused = "edge2/restart";
    missing = "edge1/verify-served/resume";
  }
  SECTION("a dependency that failed earlier is never done") {
    // revoke-superseded failures do not stop the run; something depending on
    // one must still not run.
    p.actions.insert(p.actions.begin() + 9, make("edge1", ActionKind::kRevokeSuperseded));
    p.actions[11].depends_on.push_back("edge1/revoke-superseded");  // edge2/restart
    h.fake.fail("edge1/revoke-superseded", ErrorCode::kPermission);
    refused = "edge2/restart";
    missing = "edge1/revoke-superseded";
  }
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kFailed);
  CHECK(report.failed_action == refused);
  CHECK(contains(report.message, refused));
  CHECK(contains(report.message, "depends on " + missing));
  // Nothing at or after the refused action ran.
  const std::vector<std::string> all = ids(p);
  auto pos = std::find(all.begin(), all.end(), refused) - all.begin();
  REQUIRE(static_cast<size_t>(pos) < all.size());
  std::vector<std::string> before(all.begin(), all.begin() + pos);
  CHECK(h.fake.count(refused) == 0);
  for (size_t i = static_cast<size_t>(pos); i < p.actions.size(); ++i)
    CHECK(h.fake.count(p.actions[i].id) == 0);
  CHECK(h.fake.ran == before);
  // Recovery was considered; the journal never shows the refused action starting.
  CHECK(h.fake.assessments == 1);
  for (const auto& [ev, id] : h.events()) CHECK(id != refused);
  CHECK(h.events().back() == std::make_pair(std::string("run-end"), std::string()));
}

TEST_CASE("executor: a waiting issuer lets only while_waiting kinds continue",
          "[engine][executor]") {
  Harness h;
  Plan p = rollout_plan();
  h.fake.wait_on("edge1/sign-csr");
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kWaiting);
  CHECK(report.failed_action.empty());
  CHECK(any_contains(report.next_steps, "edge1/sign-csr: waiting for the external CA"));
  // edge2's CSR is still generated and signed (one round of manual signing
  // covers all); nothing that is not while_waiting runs.
  CHECK(h.fake.ran == std::vector<std::string>{"edge1/generate-csr", "edge1/sign-csr",
                                               "edge2/generate-csr", "edge2/sign-csr"});
  for (const auto& id : h.fake.ran) CHECK(p.find(id)->traits().while_waiting);
  CHECK_FALSE(traits(ActionKind::kSetTlsVerification).while_waiting);
  CHECK(report.actions_done == 3);
  // The waiting action is journalled as not done.
  auto e = h.entries();
  auto failed = std::find_if(e.begin(), e.end(), [](const JournalEntry& x) {
    return x.event == JournalEvent::kActionFailed;
  });
  REQUIRE(failed != e.end());
  CHECK(failed->action_id == "edge1/sign-csr");
  CHECK(e.back().event == JournalEvent::kRunEnd);
  CHECK(e.back().message == "waiting");
}

TEST_CASE("executor: a window-gated kind is not started once the window has closed",
          "[engine][executor]") {
  Harness h;
  REQUIRE(traits(ActionKind::kRestart).window_gated);
  REQUIRE(traits(ActionKind::kAcmeDeploy).window_gated);
  REQUIRE_FALSE(traits(ActionKind::kUploadCertificate).window_gated);
  SECTION("restart: the window closes while edge1's upload runs") {
    Plan p = rollout_plan();
    h.fake.cost = std::chrono::seconds(60);
    // Six actions before edge1's restart take 6 minutes; the window closes at 5.
    h.ctx.window_closes = h.memory.now() + std::chrono::minutes(5) + std::chrono::seconds(30);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kWaiting);
    CHECK(contains(report.message, "edge1/restart"));
    CHECK(any_contains(report.next_steps, "rollout window closed"));
    const std::vector<std::string> all = ids(p);
    CHECK(h.fake.ran == std::vector<std::string>(all.begin(), all.begin() + 6));
    CHECK(h.fake.count("edge1/restart") == 0);
  }
  SECTION("restart: exactly at the closing time is too late") {
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kUploadCertificate),
                 make("edge1", ActionKind::kRestart, {"edge1/upload-certificate"})};
    h.ctx.window_closes = h.memory.now();
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kWaiting);
    CHECK(h.fake.ran == std::vector<std::string>{"edge1/upload-certificate"});
  }
  SECTION("acme-deploy") {
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kAcmeSign),
                 make("edge1", ActionKind::kAcmeDeploy, {"edge1/acme-sign"}),
                 make("edge1", ActionKind::kVerifyServed, {"edge1/acme-deploy"})};
    h.fake.cost = std::chrono::seconds(10);
    h.ctx.window_closes = h.memory.now() + std::chrono::seconds(5);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kWaiting);
    CHECK(contains(report.message, "edge1/acme-deploy"));
    CHECK(h.fake.ran == std::vector<std::string>{"edge1/acme-sign"});
  }
  SECTION("window still open: everything runs") {
    Plan p = rollout_plan();
    h.fake.cost = std::chrono::seconds(1);
    h.ctx.window_closes = h.memory.now() + std::chrono::hours(1);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kComplete);
    CHECK(h.fake.ran == ids(p));
  }
}

TEST_CASE("executor: transient failures are retried as the kind's policy allows",
          "[engine][executor]") {
  Harness h;
  SECTION("kTransient kinds: retried with backoff until they succeed") {
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kUploadCertificate),
                 make("edge1", ActionKind::kVerifyServed)};
    h.fake.fail("edge1/upload-certificate", ErrorCode::kUnavailable, 2);
    auto t0 = h.memory.now();
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kComplete);
    CHECK(h.fake.count("edge1/upload-certificate") == 3);
    // Backoff 0.5 s then 1 s, on the Env clock only.
    CHECK(h.memory.now() - t0 == std::chrono::milliseconds(1500));
    CHECK(any_contains(h.progress, "transient failure, retrying"));
  }
  SECTION("kTransient kinds: give up after four attempts") {
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kUploadCertificate),
                 make("edge1", ActionKind::kRestart, {"edge1/upload-certificate"})};
    h.fake.fail("edge1/upload-certificate", ErrorCode::kUnavailable, 10);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(report.failed_action == "edge1/upload-certificate");
    CHECK(h.fake.count("edge1/upload-certificate") == 4);
    CHECK(h.fake.count("edge1/restart") == 0);
  }
  SECTION("a non-transient error is not retried") {
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kUploadCertificate)};
    h.fake.fail("edge1/upload-certificate", ErrorCode::kInvalidArgument, 3);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(h.fake.count("edge1/upload-certificate") == 1);
  }
  SECTION("never retried: acme-sign, wait-healthy") {
    for (ActionKind k : {ActionKind::kAcmeSign, ActionKind::kWaitHealthy}) {
      Harness g;
      Plan p = base_plan();
      p.actions = {make("edge1", k), make("edge2", ActionKind::kVerifyServed)};
      g.fake.fail(p.actions[0].id, ErrorCode::kUnavailable, 3);
      auto report = execute_plan(p, g.ctx);
      INFO(action_kind_name(k));
      CHECK(report.outcome == ApplyOutcome::kFailed);
      CHECK(report.failed_action == p.actions[0].id);
      CHECK(g.fake.count(p.actions[0].id) == 1);
      CHECK(g.fake.count("edge2/verify-served") == 0);
    }
  }
}

TEST_CASE("executor: sign-csr is retried, except when signing through ACME", "[engine][executor]") {
  for (bool acme : {false, true}) {
    Harness h;
    Plan p = base_plan();
    p.actions = {make("edge1", ActionKind::kSignCsr)};
    h.fake.fail("edge1/sign-csr", ErrorCode::kUnavailable, 1);
    h.ctx.signs_through_acme = acme;
    auto report = execute_plan(p, h.ctx);
    INFO("signs_through_acme " << acme);
    CHECK(report.outcome == (acme ? ApplyOutcome::kFailed : ApplyOutcome::kComplete));
    CHECK(h.fake.count("edge1/sign-csr") == (acme ? 1u : 2u));
  }
}

TEST_CASE("executor: a restart whose reply was lost is done when it is seen to have happened",
          "[engine][executor]") {
  Harness h;
  Plan p = base_plan();
  p.actions = {make("edge1", ActionKind::kRestart),
               make("edge1", ActionKind::kWaitHealthy, {"edge1/restart"})};
  h.fake.fail("edge1/restart", ErrorCode::kUnavailable, 1);
  SECTION("it happened: not repeated") {
    h.fake.restart_answer = "edge1 went down: the restart happened";
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kComplete);
    CHECK(h.fake.count("edge1/restart") == 1);
    CHECK(h.fake.restart_checks == std::vector<std::string>{"edge1/restart"});
    CHECK(h.fake.count("edge1/wait-healthy") == 1);
    bool recorded = false;
    for (const auto& e : h.entries())
      if (e.event == JournalEvent::kActionDone && e.action_id == "edge1/restart")
        recorded = e.message == "edge1 went down: the restart happened";
    CHECK(recorded);
  }
  SECTION("cannot tell: retried") {
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kComplete);
    CHECK(h.fake.count("edge1/restart") == 2);
    CHECK(h.fake.restart_checks.size() == 1);
  }
}

TEST_CASE("executor: a failed revoke-superseded is reported and the run goes on",
          "[engine][executor]") {
  Harness h;
  Plan p = base_plan();
  p.actions = {make("edge1", ActionKind::kRevokeSuperseded),
               make("edge2", ActionKind::kRevokeSuperseded),
               make("edge1", ActionKind::kSetCrlSettings)};
  p.actions[0].before = {{"serial", "0A1B"}};
  h.fake.fail("edge1/revoke-superseded", ErrorCode::kPermission);
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kComplete);
  CHECK(report.failed_action.empty());
  CHECK(report.actions_done == 2);
  CHECK(h.fake.ran == ids(p));
  CHECK(any_contains(report.next_steps, "revocation not done, do it at the CA: serial 0A1B"));
  CHECK(h.fake.assessments == 0);
}

TEST_CASE("executor: after a failure, TLS verification is restored only when every node is valid",
          "[engine][executor]") {
  Harness h;
  Plan p = rollout_plan();
  h.fake.fail("edge2/upload-certificate", ErrorCode::kIo);
  h.fake.assessment.to_restore = {"edge1", "edge2"};
  h.fake.assessment.restore_to = "enforce";
  SECTION("every node valid: restored on each node, journalled") {
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(report.failed_action == "edge2/upload-certificate");
    CHECK(contains(report.message, "scripted failure"));
    CHECK(h.fake.assessments == 1);
    CHECK(h.fake.restored == std::vector<std::string>{"edge1", "edge2"});
    CHECK(h.fake.count("edge2/restart") == 0);
    auto ev = h.events();
    CHECK(std::find(ev.begin(), ev.end(),
                    std::make_pair(std::string("action-done"),
                                   std::string("recover/edge1/set-tls-verification"))) != ev.end());
    CHECK(std::find(ev.begin(), ev.end(),
                    std::make_pair(std::string("action-done"),
                                   std::string("recover/edge2/set-tls-verification"))) != ev.end());
    CHECK(any_contains(h.progress, "restored to enforce"));
    CHECK(any_contains(report.next_steps, "run 'edgecert apply' again"));
  }
  SECTION("a node not valid: left alone") {
    h.fake.assessment.not_valid = {"edge2"};
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(h.fake.assessments == 1);
    CHECK(h.fake.restored.empty());
    CHECK(
        any_contains(report.next_steps,
                     "left as it is (relaxed, permissive): edge2 not serving a valid certificate"));
  }
}

TEST_CASE("executor: the journal records run-start, each action's start and done, run-end",
          "[engine][executor][journal]") {
  Harness h;
  Plan p = base_plan();
  p.actions = {make("edge1", ActionKind::kUploadCertificate),
               make("edge1", ActionKind::kRestart, {"edge1/upload-certificate"})};
  auto report = execute_plan(p, h.ctx);
  REQUIRE(report.outcome == ApplyOutcome::kComplete);
  auto e = h.entries();
  using P = std::pair<std::string, std::string>;
  CHECK(h.events() == std::vector<P>{{"run-start", ""},
                                     {"action-start", "edge1/upload-certificate"},
                                     {"action-done", "edge1/upload-certificate"},
                                     {"action-start", "edge1/restart"},
                                     {"action-done", "edge1/restart"},
                                     {"run-end", ""}});
  for (const auto& x : e) CHECK(x.run_id == "run-1");
  CHECK(e[0].data["actions"] == 2);
  CHECK(e[0].data["cluster"] == "test");
  CHECK(e[3].kind == "restart");
  CHECK(e[3].node == "edge1");
  CHECK(e[4].data["id"] == "edge1/restart");  // the runner's public output
  CHECK(e[5].message == "complete");
}

TEST_CASE("executor: a journal write failure aborts at once, nothing more runs",
          "[engine][executor][journal]") {
  MemoryEnv memory;
  FaultInjectionEnv faulty(memory);
  Journal journal(faulty, "journal.jsonl");
  FakeRunner fake(memory);
  ExecutorContext ctx(memory, fake, journal, "run-1");
  Plan p = rollout_plan();
  int n = GENERATE(1, 2, 3, 4, 7);
  // Write 1 is run-start, then action-start/action-done pairs.
  faulty.fail_mutation(n, ErrorCode::kIo);
  auto report = execute_plan(p, ctx);
  INFO("failing journal write " << n);
  CHECK(report.outcome == ApplyOutcome::kAborted);
  CHECK(contains(report.message, "journal write failed"));
  // An action runs only after its action-start is written (even writes).
  // Write 2k is action k's start (it does not run), 2k+1 its done (it ran).
  auto expected_runs = static_cast<size_t>((n - 1) / 2);
  const std::vector<std::string> all = ids(p);
  CHECK(fake.ran ==
        std::vector<std::string>(all.begin(), all.begin() + static_cast<long>(expected_runs)));
  CHECK(fake.assessments == 0);
  auto written = journal.read_all();
  REQUIRE(written);
  CHECK(written->size() == static_cast<size_t>(n - 1));
  for (const auto& x : *written) CHECK(x.event != JournalEvent::kRunEnd);
}

TEST_CASE("executor: after_journal_write returning false stops the run as if killed",
          "[engine][executor][journal]") {
  Harness h;
  Plan p = rollout_plan();
  h.ctx.after_journal_write = [](long seq) { return seq < 4; };
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kAborted);
  CHECK(contains(report.message, "killed after journal write 4"));
  // Writes: 1 run-start, 2 start gen e1, 3 done gen e1, 4 start sign e1 → killed before running.
  CHECK(h.fake.ran == std::vector<std::string>{"edge1/generate-csr"});
  CHECK(h.entries().size() == 4);
}

TEST_CASE("executor: journal helpers read signed chains and unverified restarts",
          "[engine][executor][journal]") {
  Harness h;
  Plan p = rollout_plan();
  h.ctx.after_journal_write = [](long seq) { return seq < 16; };  // killed after edge1's restart
  (void)execute_plan(p, h.ctx);
  auto e = h.entries();
  CHECK(unverified_restarts(e) == std::vector<std::string>{"edge1"});
  Harness done;
  (void)execute_plan(p, done.ctx);
  CHECK(unverified_restarts(done.entries()).empty());
  JournalEntry signed_entry;
  signed_entry.event = JournalEvent::kActionDone;
  signed_entry.kind = "sign-csr";
  signed_entry.data = {{"csr_sha256", "C5"}, {"chain", {"LEAF", "CA"}}};
  auto chains = signed_chains_from_journal({signed_entry});
  CHECK(chains["C5"] == std::vector<std::string>{"LEAF", "CA"});
}

// A hand-edited or damaged journal line whose data has the wrong types
// (Journal::read_all does not look inside "data") is skipped: once it threw
// out of apply().
TEST_CASE("executor: signed chains from a journal with wrongly typed data do not throw",
          "[engine][executor][journal]") {
  MemoryEnv memory;
  memory.put("journal.jsonl",
             R"({"seq":1,"time_ms":0,"run":"r1","event":"action-done","action":"edge1/sign-csr",)"
             R"("node":"edge1","kind":"sign-csr","data":{"csr_sha256":5,"chain":"LEAF"}})"
             "\n"
             R"({"seq":2,"time_ms":0,"run":"r1","event":"action-done","action":"edge2/sign-csr",)"
             R"("node":"edge2","kind":"sign-csr","data":{"csr_sha256":"C5","chain":["LEAF"]}})"
             "\n");
  Journal journal(memory, "journal.jsonl");
  auto entries = journal.read_all();
  REQUIRE(entries);  // read_all accepts the line: it does not look inside "data"
  REQUIRE(entries->size() == 2);
  std::map<std::string, std::vector<std::string>> chains;
  CHECK_NOTHROW(chains = signed_chains_from_journal(*entries));
  CHECK(chains.size() == 1);
  CHECK(chains["C5"] == std::vector<std::string>{"LEAF"});
}

TEST_CASE("executor: a stop lets the action in flight finish, starts nothing more, restores TLS",
          "[engine][executor][cancel]") {
  Harness h;
  std::atomic<int> flag{0};
  h.ctx.stop = StopToken(&flag);
  Plan p = rollout_plan();
  h.fake.assessment.to_restore = {"edge1", "edge2"};
  h.fake.assessment.restore_to = "enforce";
  SECTION("the stop arrives during a restart: it completes, the wait never starts") {
    h.fake.on_run = [&](const std::string& id) {
      if (id == "edge1/restart") flag.store(2);
    };
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kInterrupted);
    CHECK(contains(report.message, "before edge1/wait-healthy"));
    CHECK(h.fake.ran.back() == "edge1/restart");
    CHECK(h.fake.count("edge1/wait-healthy") == 0);
    CHECK(h.fake.restored == std::vector<std::string>{"edge1", "edge2"});
    CHECK(any_contains(report.next_steps, "run 'edgecert apply' again"));
    CHECK_FALSE(report.node_report.empty());
    auto entries = h.entries();
    REQUIRE_FALSE(entries.empty());
    CHECK(entries.back().event == JournalEvent::kRunEnd);
    CHECK(entries.back().message == "interrupted");
    // The restore's action-start says which mode it sets (status reads it).
    bool restore_recorded = false;
    for (const auto& e : entries)
      if (e.action_id == "recover/edge1/set-tls-verification" &&
          e.event == JournalEvent::kActionStart)
        restore_recorded = e.data.value("after", "") == "enforce";
    CHECK(restore_recorded);
    auto last = last_run(entries);
    REQUIRE(last);
    CHECK(last->actions["edge1/restart"] == ActionState::kDone);
  }
  SECTION("an action whose wait the stop cut short is journalled as interrupted") {
    h.fake.on_run = [&](const std::string& id) {
      if (id == "edge1/wait-healthy") flag.store(15);
    };
    h.fake.fail("edge1/wait-healthy", ErrorCode::kUnavailable);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kInterrupted);
    CHECK(contains(report.message, "during edge1/wait-healthy"));
    // Not retried after the stop.
    CHECK(h.fake.count("edge1/wait-healthy") == 1);
    CHECK(h.fake.count("edge1/verify-served") == 0);
    bool failed_as_interrupted = false;
    for (const auto& e : h.entries())
      if (e.action_id == "edge1/wait-healthy" && e.event == JournalEvent::kActionFailed)
        failed_as_interrupted = contains(e.message, "interrupted after ");
    CHECK(failed_as_interrupted);
  }
  SECTION("a node not valid after a restart: TLS left as it is, said so") {
    h.fake.assessment.not_valid = {"edge1"};
    h.fake.on_run = [&](const std::string& id) {
      if (id == "edge1/restart") flag.store(2);
    };
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kInterrupted);
    CHECK(h.fake.restored.empty());
    CHECK(
        any_contains(report.next_steps,
                     "left as it is (relaxed, permissive): edge1 not serving a valid certificate"));
  }
  SECTION("a node not valid, stopped before anything disruptive: TLS not touched, said so") {
    h.fake.assessment.not_valid = {"edge1"};
    h.fake.on_run = [&](const std::string& id) {
      if (id == "edge1/upload-certificate") flag.store(2);
    };
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kInterrupted);
    CHECK(h.fake.restored.empty());
    CHECK(any_contains(report.next_steps, "cluster TLS verification was not touched"));
  }
  SECTION("stopped before the run: nothing runs") {
    flag.store(2);
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kInterrupted);
    CHECK(h.fake.ran.empty());
  }
}
