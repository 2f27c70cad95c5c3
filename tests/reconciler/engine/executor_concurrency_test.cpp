// The executor's concurrent phase (executor.h): consecutive generate-csr /
// sign-csr / acme-sign actions run up to runner.concurrency() at once, never
// before their dependencies are done, with the journal and progress lines in
// plan order; and the recovery rule for a run that relaxed TLS verification
// but disrupted nothing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reconciler/engine/executor.h"
#include "reconciler/engine/synchronized_env.h"

using namespace edgecert;
using nlohmann::json;

namespace {

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

Plan plan_for(const std::vector<std::string>& nodes) {
  Plan p;
  p.spec_path = "spec.yaml";
  p.spec_sha256 = "00";
  p.cluster = "test";
  p.created_at = "2027-01-01T00:00:00Z";
  for (const auto& n : nodes) p.nodes.emplace_back(n, NodeSnapshot{"fp-" + n, json::object()});
  return p;
}

// build_plan's shape: every CSR, then every signature, then relax and the
// serial rollout.
Plan prepare_plan(const std::vector<std::string>& nodes) {
  Plan p = plan_for(nodes);
  for (const auto& n : nodes) p.actions.push_back(make(n, ActionKind::kGenerateCsr));
  std::vector<std::string> signs;
  for (const auto& n : nodes) {
    p.actions.push_back(make(n, ActionKind::kSignCsr, {n + "/generate-csr"}));
    signs.push_back(n + "/sign-csr");
  }
  Action relax = make(nodes.front(), ActionKind::kSetTlsVerification, signs);
  relax.params = SetTlsVerificationParams{spec::TlsVerification::kPermissive};
  p.actions.push_back(relax);
  std::string previous;
  for (const auto& n : nodes) {
    p.actions.push_back(make(n, ActionKind::kUploadCertificate, {n + "/sign-csr", relax.id}));
    std::vector<std::string> deps = {n + "/upload-certificate"};
    if (!previous.empty()) deps.push_back(previous);
    p.actions.push_back(make(n, ActionKind::kRestart, deps));
    p.actions.push_back(make(n, ActionKind::kVerifyServed, {n + "/restart"}));
    previous = n + "/verify-served";
  }
  return p;
}

// A thread-safe runner that records, per action, when it started and ended
// (in a global event order) and how many actions were in flight at once.
// `gate` actions wait until `gate_width` of them are in flight together, so
// a test sees overlap without relying on timing (a serial executor would
// never get there; the wait gives up after a while so such a bug fails the
// test instead of hanging it).
class OverlapRunner : public ActionRunner {
 public:
  explicit OverlapRunner(size_t width) : width_(width) {}

  std::set<std::string> gate;
  size_t gate_width = 0;
  std::map<std::string, Result<ActionOutput>> script;

  Result<ActionOutput> run(const Action& action) override {
    std::unique_lock lock(mu_);
    started_[action.id] = ++clock_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (gate.count(action.id)) {
      ++at_gate_;
      cv_.notify_all();
      gate_met_ = gate_met_ || cv_.wait_for(lock, std::chrono::seconds(20),
                                            [&] { return at_gate_ >= gate_width; });
    }
    --in_flight_;
    ended_[action.id] = ++clock_;
    ran_.push_back(action.id);
    if (auto it = script.find(action.id); it != script.end()) return it->second;
    return ActionOutput{"did " + action.id, {{"id", action.id}}};
  }
  size_t concurrency() const override { return width_; }
  Result<ManualCheck> check_manual(const Action&) override {
    return ManualCheck{ManualCheck::State::kDone, "checked"};
  }
  std::optional<std::string> restart_happened(const Action&) override { return std::nullopt; }
  RecoveryAssessment assess_recovery() override {
    RecoveryAssessment as;
    as.not_valid = not_valid;
    as.restore_to = "enforce";
    return as;
  }
  Status restore_tls_verification(const std::string& node) override {
    restored.push_back(node);
    return {};
  }
  std::vector<std::string> describe_nodes() override { return {}; }

  std::vector<std::string> not_valid;
  std::vector<std::string> restored;

  size_t max_in_flight() const { return max_in_flight_; }
  bool gate_met() const { return gate_met_; }
  long started(const std::string& id) const { return started_.at(id); }
  long ended(const std::string& id) const { return ended_.at(id); }
  bool ran(const std::string& id) const { return started_.count(id) > 0; }

 private:
  size_t width_;
  std::mutex mu_;
  std::condition_variable cv_;
  long clock_ = 0;
  size_t in_flight_ = 0, max_in_flight_ = 0, at_gate_ = 0;
  bool gate_met_ = false;
  std::map<std::string, long> started_, ended_;
  std::vector<std::string> ran_;
};

struct Harness {
  MemoryEnv memory;
  SynchronizedEnv env{memory};
  Journal journal{env, "journal.jsonl"};
  std::vector<std::string> progress;
  std::vector<JournalEntry> entries() {
    auto all = journal.read_all();
    REQUIRE(all);
    return *all;
  }
  std::vector<std::pair<std::string, std::string>> events() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : entries()) out.emplace_back(journal_event_name(e.event), e.action_id);
    return out;
  }
  ApplyReport run(const Plan& p, ActionRunner& runner) {
    ExecutorContext ctx{env, runner, journal, "run-1"};
    // Outcome lines only (start events come in plan order too, but the
    // assertions below are about settling order).
    ctx.progress = [this](const ProgressEvent& e) {
      if (e.kind != ProgressKind::kActionStart && e.kind != ProgressKind::kRunStart)
        progress.push_back(progress_line(e));
    };
    return execute_plan(p, ctx);
  }
};

using P = std::pair<std::string, std::string>;

}  // namespace

TEST_CASE("executor: CSRs and signatures run concurrently, bounded by the runner",
          "[engine][executor][concurrency]") {
  Harness h;
  const std::vector<std::string> nodes = {"e1", "e2", "e3", "e4", "e5"};
  Plan p = prepare_plan(nodes);
  OverlapRunner runner(3);
  // The first three CSRs only finish once all three are in flight together.
  runner.gate = {"e1/generate-csr", "e2/generate-csr", "e3/generate-csr"};
  runner.gate_width = 3;
  auto report = h.run(p, runner);
  REQUIRE(report.outcome == ApplyOutcome::kComplete);
  CHECK(runner.gate_met());
  CHECK(runner.max_in_flight() == 3);  // overlap, never above the bound
  for (const auto& n : nodes) {
    // A signature starts only after its CSR is done.
    CHECK(runner.started(n + "/sign-csr") > runner.ended(n + "/generate-csr"));
    // Nothing disruptive overlaps the concurrent phase: the relax comes after
    // every signature.
    CHECK(runner.started("e1/set-tls-verification") > runner.ended(n + "/sign-csr"));
  }
  // The serial part stays one action at a time, in plan order.
  for (size_t i = 1; i < nodes.size(); ++i)
    CHECK(runner.started(nodes[i] + "/restart") > runner.ended(nodes[i - 1] + "/verify-served"));

  // The journal is in plan order whatever the finishing order: a wave's
  // starts, then its outcomes.
  std::vector<P> want = {{"run-start", ""}};
  for (const auto& n : nodes) want.push_back({"action-start", n + "/generate-csr"});
  for (const auto& n : nodes) want.push_back({"action-done", n + "/generate-csr"});
  for (const auto& n : nodes) want.push_back({"action-start", n + "/sign-csr"});
  for (const auto& n : nodes) want.push_back({"action-done", n + "/sign-csr"});
  auto ev = h.events();
  REQUIRE(ev.size() > want.size());
  CHECK(std::vector<P>(ev.begin(), ev.begin() + static_cast<long>(want.size())) == want);
  // Progress lines too, and the runner's output reaches the journal.
  REQUIRE(h.progress.size() >= 10);
  for (size_t i = 0; i < nodes.size(); ++i) {
    CHECK(h.progress[i].find(nodes[i] + "] generate-csr: did " + nodes[i]) != std::string::npos);
    CHECK(h.progress[nodes.size() + i].find(nodes[i] + "] sign-csr: did") != std::string::npos);
  }
  CHECK(h.entries()[6].data["id"] == "e1/generate-csr");
}

TEST_CASE("executor: a runner that is not thread-safe gets one action at a time",
          "[engine][executor][concurrency]") {
  Harness h;
  Plan p = prepare_plan({"e1", "e2", "e3"});
  OverlapRunner runner(1);
  REQUIRE(h.run(p, runner).outcome == ApplyOutcome::kComplete);
  CHECK(runner.max_in_flight() == 1);
  // Plan order exactly: each action after the one before it.
  for (size_t i = 1; i < p.actions.size(); ++i)
    CHECK(runner.started(p.actions[i].id) > runner.ended(p.actions[i - 1].id));
}

TEST_CASE("executor: a failed signature in the concurrent phase stops the run before the relax",
          "[engine][executor][concurrency]") {
  Harness h;
  Plan p = prepare_plan({"e1", "e2", "e3"});
  OverlapRunner runner(4);
  runner.script.emplace("e2/sign-csr",
                        std::unexpected(Error{ErrorCode::kConflict, "e2: refused by the checks"}));
  auto report = h.run(p, runner);
  CHECK(report.outcome == ApplyOutcome::kFailed);
  CHECK(report.failed_action == "e2/sign-csr");
  // The other signatures of the wave ran and are journalled; nothing after.
  CHECK(runner.ran("e1/sign-csr"));
  CHECK(runner.ran("e3/sign-csr"));
  CHECK_FALSE(runner.ran("e1/set-tls-verification"));
  CHECK_FALSE(runner.ran("e1/upload-certificate"));
  auto ev = h.events();
  CHECK(std::find(ev.begin(), ev.end(), P{"action-failed", "e2/sign-csr"}) != ev.end());
  CHECK(std::find(ev.begin(), ev.end(), P{"action-done", "e3/sign-csr"}) != ev.end());
  CHECK(ev.back() == P{"run-end", ""});
}

TEST_CASE("executor: a waiting signature lets the other signatures finish, then stops",
          "[engine][executor][concurrency]") {
  Harness h;
  Plan p = prepare_plan({"e1", "e2"});
  OverlapRunner runner(4);
  ActionOutput w;
  w.waiting = true;
  w.message = "e1: waiting for signed certificate";
  runner.script.emplace("e1/sign-csr", w);
  auto report = h.run(p, runner);
  CHECK(report.outcome == ApplyOutcome::kWaiting);
  CHECK(runner.ran("e2/sign-csr"));
  CHECK_FALSE(runner.ran("e1/set-tls-verification"));
}

TEST_CASE("executor: a failure before anything disruptive undoes this run's relax",
          "[engine][executor][recovery]") {
  Harness h;
  Plan p = prepare_plan({"e1", "e2"});
  OverlapRunner runner(1);
  // Nodes serve factory certificates: the ordinary rule would leave the
  // cluster permissive.
  runner.not_valid = {"e1", "e2"};
  SECTION("failed upload, no restart yet: verification restored") {
    runner.script.emplace("e1/upload-certificate",
                          std::unexpected(Error{ErrorCode::kIo, "e1: upload refused"}));
    auto report = h.run(p, runner);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(runner.restored == std::vector<std::string>{"e1"});
    auto ev = h.events();
    CHECK(std::find(ev.begin(), ev.end(), P{"action-done", "recover/e1/set-tls-verification"}) !=
          ev.end());
  }
  SECTION("after a restart: the ordinary rule (not every node valid: left as it is)") {
    runner.script.emplace("e2/upload-certificate",
                          std::unexpected(Error{ErrorCode::kIo, "e2: upload refused"}));
    auto report = h.run(p, runner);
    CHECK(report.outcome == ApplyOutcome::kFailed);
    CHECK(runner.restored.empty());
    CHECK(std::any_of(report.next_steps.begin(), report.next_steps.end(),
                      [](const auto& s) { return s.find("left as it is") != std::string::npos; }));
  }
}

TEST_CASE("executor: a failed sign-csr drops the node's recorded chains from the journal",
          "[engine][executor][journal]") {
  auto entry = [](JournalEvent ev, const std::string& node, json data) {
    JournalEntry e;
    e.event = ev;
    e.node = node;
    e.kind = "sign-csr";
    e.data = std::move(data);
    return e;
  };
  std::vector<JournalEntry> entries = {
      entry(JournalEvent::kActionDone, "edge1", {{"csr_sha256", "C1"}, {"chain", {"BAD"}}}),
      entry(JournalEvent::kActionDone, "edge2", {{"csr_sha256", "C2"}, {"chain", {"GOOD"}}}),
  };
  CHECK(signed_chains_from_journal(entries).size() == 2);
  // A later run refused edge1's chain.
  entries.push_back(entry(JournalEvent::kActionFailed, "edge1", json::object()));
  auto chains = signed_chains_from_journal(entries);
  CHECK(chains.count("C1") == 0);
  CHECK(chains["C2"] == std::vector<std::string>{"GOOD"});
  // A chain signed after the refusal is kept.
  entries.push_back(
      entry(JournalEvent::kActionDone, "edge1", {{"csr_sha256", "C1"}, {"chain", {"FIXED"}}}));
  CHECK(signed_chains_from_journal(entries)["C1"] == std::vector<std::string>{"FIXED"});
}
