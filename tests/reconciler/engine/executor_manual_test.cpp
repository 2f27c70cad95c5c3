// Manual steps in the executor (executor.h): never sent to the node, checked
// instead; a run stops cleanly before the ones not done (journalled as
// manual-wait), or asks through manual_prompt; what cannot be checked needs
// the operator's confirmation.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "reconciler/engine/executor.h"
#include "reconciler/engine/manual_steps.h"
#include "tests/support/result_checks.h"

using namespace edgecert;
using nlohmann::json;
using State = ManualCheck::State;

namespace {

Action make(const std::string& node, ActionKind kind, std::vector<std::string> deps = {},
            std::string id = "", bool manual = false) {
  Action a;
  a.id = id.empty() ? node + "/" + action_kind_name(kind) : id;
  a.node = node;
  a.reason = "test";
  a.params = default_params(kind);
  a.depends_on = std::move(deps);
  a.manual = manual;
  return a;
}

Action relax(const std::string& node, std::vector<std::string> deps = {}) {
  Action a = make(node, ActionKind::kSetTlsVerification, std::move(deps), "", true);
  a.params = SetTlsVerificationParams{spec::TlsVerification::kPermissive};
  a.after = "permissive";
  return a;
}

// CSR → relax (manual, both nodes) → restart → CRL settings (manual, cannot
// be checked).
Plan manual_plan() {
  Plan p;
  p.cluster = "test";
  for (const char* n : {"edge1", "edge2"})
    p.nodes.emplace_back(n, NodeSnapshot{"fp", json::object()});
  p.actions = {make("edge1", ActionKind::kGenerateCsr), relax("edge1", {"edge1/generate-csr"}),
               relax("edge2", {"edge1/generate-csr"}),
               make("edge1", ActionKind::kRestart,
                    {"edge1/set-tls-verification", "edge2/set-tls-verification"}),
               make("edge1", ActionKind::kSetCrlSettings, {"edge1/restart"}, "", true)};
  REQUIRE(check_plan(p));
  return p;
}

// Runs actions by recording them; manual steps answer from `shows` (default:
// not done), as the node would.
class ManualFake : public ActionRunner {
 public:
  std::vector<std::string> ran;
  std::vector<std::string> checked;
  std::vector<std::string> confirmed;
  std::map<std::string, State> shows;
  std::vector<std::string> restored;
  std::string fails;  // an action id that fails
  RecoveryAssessment assessment;
  bool tls_by_hand = false;  // restore_tls_verification answers kUnimplemented

  Result<ActionOutput> run(const Action& a) override {
    ran.push_back(a.id);
    if (a.id == fails) return std::unexpected(Error::Conflict(a.id + ": scripted failure"));
    return ActionOutput{"did " + a.id};
  }
  Result<ManualCheck> check_manual(const Action& a) override {
    checked.push_back(a.id);
    auto it = shows.find(a.id);
    State s = it == shows.end() ? State::kNotDone : it->second;
    return ManualCheck{s, s == State::kDone ? "the node shows it" : "not yet"};
  }
  Status record_confirmation(const Action& a) override {
    confirmed.push_back(a.id);
    return {};
  }
  std::optional<std::string> restart_happened(const Action&) override { return std::nullopt; }
  RecoveryAssessment assess_recovery() override { return assessment; }
  Status restore_tls_verification(const std::string& node) override {
    restored.push_back(node);
    if (tls_by_hand) return std::unexpected(Error::Unimplemented(node + ": set by hand"));
    return {};
  }
  std::vector<std::string> describe_nodes() override { return {}; }
};

struct Harness {
  MemoryEnv memory;
  Journal journal{memory, "journal.jsonl"};
  ManualFake fake;
  std::vector<ProgressEvent> events;
  ExecutorContext ctx{memory, fake, journal, "run-1"};
  Harness() {
    ctx.progress = [this](const ProgressEvent& e) { events.push_back(e); };
  }
  std::vector<std::pair<std::string, std::string>> journal_events() {
    auto all = journal.read_all();
    REQUIRE(all);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : *all) out.emplace_back(journal_event_name(e.event), e.action_id);
    return out;
  }
  std::vector<const ProgressEvent*> manual_events() {
    std::vector<const ProgressEvent*> out;
    for (const auto& e : events)
      if (e.kind == ProgressKind::kManual) out.push_back(&e);
    return out;
  }
};

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("executor: stops cleanly before manual steps not done, showing the whole visit",
          "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kManual);
  CHECK(report.message == "waiting for 2 manual steps on edge1, edge2");
  // Nothing manual was sent to a node; nothing after the visit ran.
  CHECK(h.fake.ran == std::vector<std::string>{"edge1/generate-csr"});
  CHECK(h.fake.checked ==
        std::vector<std::string>{"edge1/set-tls-verification", "edge2/set-tls-verification"});
  REQUIRE(report.next_steps.size() == 3);
  CHECK(report.next_steps[0] ==
        "edge1: System > Clustering: TLS verification mode = Permissive, Save (edgecert checks: "
        "alarm 40049 (Cluster TLS permissive) must be present on the node)");
  CHECK(report.next_steps[2] ==
        "when done, run 'edgecert apply SPEC' again: it checks the steps "
        "on the nodes and goes on");
  // Journalled as waits, and the run ended "manual"; no recovery: the
  // operator is in the middle of the procedure.
  auto ev = h.journal_events();
  CHECK(std::count(ev.begin(), ev.end(),
                   std::make_pair(std::string("manual-wait"),
                                  std::string("edge2/set-tls-verification"))) == 1);
  CHECK(ev.back().first == "run-end");
  auto all = h.journal.read_all();
  REQUIRE(all);
  CHECK(all->back().message == "manual");
  CHECK(h.fake.restored.empty());
  auto manual = h.manual_events();
  REQUIRE(manual.size() == 2);
  CHECK(manual[0]->manual_page == "System > Clustering");
  CHECK(manual[0]->manual_settings ==
        std::vector<std::string>{"TLS verification mode = Permissive", "Save"});
  CHECK(manual[0]->manual_verifiable);
  CHECK(manual[0]->manual_now == "not yet");
}

TEST_CASE("executor: the next run verifies manual steps from the node and goes on",
          "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  h.fake.shows["edge1/set-tls-verification"] = State::kDone;
  h.fake.shows["edge2/set-tls-verification"] = State::kDone;
  auto report = execute_plan(p, h.ctx);
  // On to the CRL step, which nothing on the node shows: not taken as done.
  CHECK(report.outcome == ApplyOutcome::kManual);
  CHECK(has(h.fake.ran, "edge1/restart"));
  CHECK(h.fake.confirmed.empty());
  auto ev = h.journal_events();
  CHECK(std::find(ev.begin(), ev.end(),
                  std::make_pair(std::string("action-done"),
                                 std::string("edge2/set-tls-verification"))) != ev.end());
  auto all = h.journal.read_all();
  REQUIRE(all);
  bool verified = std::any_of(all->begin(), all->end(), [](const JournalEntry& e) {
    return e.event == JournalEvent::kActionDone && e.action_id == "edge1/set-tls-verification" &&
           e.message == "verified: the node shows it";
  });
  CHECK(verified);
  CHECK(report.message == "waiting for 1 manual step on edge1");
  CHECK(report.next_steps.back().find("--confirm-manual") != std::string::npos);
}

TEST_CASE("executor: a step that cannot be checked is done only once the operator confirmed it",
          "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  for (const char* id : {"edge1/set-tls-verification", "edge2/set-tls-verification"})
    h.fake.shows[id] = State::kDone;
  h.fake.shows["edge1/set-crl-settings"] = State::kUnverifiable;

  SECTION("not confirmed: stops") {
    CHECK(execute_plan(p, h.ctx).outcome == ApplyOutcome::kManual);
    CHECK(h.fake.confirmed.empty());
  }
  SECTION("confirmed for another value: stops") {
    Action other = p.actions.back();
    other.params = SetCrlSettingsParams{node::CrlSettings{true, {"http://crl.example.com/x"}, 60}};
    h.ctx.confirmed_manual = {manual_step_key(other)};
    CHECK(execute_plan(p, h.ctx).outcome == ApplyOutcome::kManual);
    CHECK(h.fake.confirmed.empty());
  }
  SECTION("confirmed (--confirm-manual): recorded and done") {
    h.ctx.confirmed_manual = {manual_step_key(p.actions.back())};
    auto report = execute_plan(p, h.ctx);
    CHECK(report.outcome == ApplyOutcome::kComplete);
    CHECK(h.fake.confirmed == std::vector<std::string>{"edge1/set-crl-settings"});
    auto all = h.journal.read_all();
    REQUIRE(all);
    bool noted = std::any_of(all->begin(), all->end(), [](const JournalEntry& e) {
      return e.event == JournalEvent::kActionDone &&
             e.message == "confirmed by the operator (--confirm-manual)";
    });
    CHECK(noted);
  }
}

TEST_CASE("executor: with a prompt the run waits for 'done', checks again and goes on",
          "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  std::vector<size_t> asked;
  h.ctx.manual_prompt = [&](const std::vector<ManualWait>& open) {
    asked.push_back(open.size());
    // The operator does edge1 first, then edge2 (and the CRL page) later.
    if (asked.size() == 1) h.fake.shows["edge1/set-tls-verification"] = State::kDone;
    if (asked.size() == 2) h.fake.shows["edge2/set-tls-verification"] = State::kDone;
    if (asked.size() == 3) h.fake.shows["edge1/set-crl-settings"] = State::kUnverifiable;
    return ManualAnswer::kDone;
  };
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kComplete);
  // 2 open, then edge2 still open, then the CRL step (taken as confirmed).
  CHECK(asked == std::vector<size_t>{2, 1, 1});
  CHECK(h.fake.confirmed == std::vector<std::string>{"edge1/set-crl-settings"});
  CHECK(has(h.fake.ran, "edge1/restart"));
}

TEST_CASE("executor: a stop while waiting for a manual step ends the run as interrupted",
          "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  std::atomic<int> signal{0};
  h.ctx.stop = StopToken(&signal);
  h.ctx.manual_prompt = [&](const std::vector<ManualWait>&) {
    signal = 2;  // Ctrl-C at the prompt
    return ManualAnswer::kStop;
  };
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kInterrupted);
  CHECK(h.fake.ran == std::vector<std::string>{"edge1/generate-csr"});
  bool told = std::any_of(report.next_steps.begin(), report.next_steps.end(), [](const auto& s) {
    return s.find("checked by the next apply") != std::string::npos;
  });
  CHECK(told);
  auto all = h.journal.read_all();
  REQUIRE(all);
  CHECK(all->back().message == "interrupted");
}

TEST_CASE("executor: a manual step after one of the same visit waits for the next visit",
          "[engine][executor][manual]") {
  Harness h;
  Plan p;
  p.cluster = "test";
  p.nodes.emplace_back("edge1", NodeSnapshot{"fp", json::object()});
  Action first = make("edge1", ActionKind::kDiscardCsr, {}, "", true);
  Action second = make("edge1", ActionKind::kDeleteTrustedCa, {"edge1/discard-csr"}, "", true);
  p.actions = {first, second};
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kManual);
  CHECK(h.fake.checked == std::vector<std::string>{"edge1/discard-csr"});
}

TEST_CASE("dry run: manual steps walk like any action", "[engine][executor][manual]") {
  Plan p = manual_plan();
  auto dry = dry_run_plan(p, TimePoint{});
  CHECK(dry.outcome == ApplyOutcome::kComplete);
  CHECK(dry.actions_done == p.actions.size());
}

TEST_CASE(
    "executor: after a failure, TLS verification a node sets by hand is restored by "
    "instruction",
    "[engine][executor][manual]") {
  Harness h;
  Plan p = manual_plan();
  for (const char* id : {"edge1/set-tls-verification", "edge2/set-tls-verification"})
    h.fake.shows[id] = State::kDone;  // the operator relaxed both
  h.fake.fails = "edge1/restart";
  h.fake.tls_by_hand = true;
  // Every node serves a valid certificate: verification goes back.
  h.fake.assessment.to_restore = {"edge1", "edge2"};
  h.fake.assessment.restore_to = "enforce";
  auto report = execute_plan(p, h.ctx);
  CHECK(report.outcome == ApplyOutcome::kFailed);
  CHECK(h.fake.restored == std::vector<std::string>{"edge1", "edge2"});
  bool told = std::any_of(report.next_steps.begin(), report.next_steps.end(), [](const auto& s) {
    return s.starts_with(
        "edge2: System > Clustering: TLS verification mode = Enforce (Enforce needs every peer "
        "address to be an FQDN), Save (restore TLS verification after the failure");
  });
  CHECK(told);
}
