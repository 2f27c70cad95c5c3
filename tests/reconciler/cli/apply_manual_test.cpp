// Manual steps and product/release checks through the CLI, against sim://
// nodes that behave like real Expressways (tests/support/manual_nodes.h):
// the test plays the operator by changing the simulated nodes between runs
// or at the "type done" prompt.
#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <sstream>
#include <streambuf>

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "tests/support/manual_nodes.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::ManualNodeConfig;
using edgecert::testing::ManualNodes;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::map<std::string, ManualNodeConfig> all_real(const SimCluster& c) {
  std::map<std::string, ManualNodeConfig> out;
  for (const auto& n : c.peer_names()) out[n] = testing::real_expressway();
  return out;
}

// The operator at the web UI: every node's cluster TLS verification.
void operator_sets_tls(SimCluster& c, spec::TlsVerification mode) {
  for (const auto& n : c.peer_names()) REQUIRE(c.node(n).set_tls_verification(mode));
}

// Answers prompts one line at a time; before each answer the operator acts.
class OperatorInput : public std::streambuf {
 public:
  void then(std::function<void()> act, std::string line) {
    answers_.emplace_back(std::move(act), std::move(line) + "\n");
  }
  size_t unanswered() const { return answers_.size(); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (answers_.empty()) return traits_type::eof();
    auto [act, line] = std::move(answers_.front());
    answers_.pop_front();
    if (act) act();
    current_ = std::move(line);
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::deque<std::pair<std::function<void()>, std::string>> answers_;
  std::string current_;
};

testing::CliRun run_in_terminal(SimCluster& c, const std::vector<std::string>& args,
                                OperatorInput& input) {
  std::ostringstream out, err;
  std::istream in(&input);
  CliContext ctx{c.env, out, err, /*stdin_is_tty=*/true, &in};
  testing::CliRun r;
  r.status = run_cli(args, ctx);
  r.out = out.str();
  r.err = err.str();
  return r;
}

const char* kCrlSpec =
    "  crl:\n"
    "    automaticUpdates:\n"
    "      enabled: true\n"
    "      distributionPoints: [http://crl.example.com/root.crl]\n"
    "      dailyUpdateTime: \"02:30\"\n";

}  // namespace

TEST_CASE("manual steps: the plan names node, web UI page, values and the check, and counts them",
          "[reconciler][manual]") {
  SimCluster c;
  ManualNodes nodes(all_real(c));
  auto r = c.plan();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "set-tls-verification (MANUAL STEP): relax cluster TLS verification"));
  CHECK(contains(r.out,
                 "          by hand on edge2, in System > Clustering:\n"
                 "            TLS verification mode = Permissive\n"
                 "            Save\n"
                 "          edgecert checks: alarm 40049 (Cluster TLS permissive) must "
                 "be present on the node\n"));
  CHECK(contains(r.out,
                 "TLS verification mode = Enforce (Enforce needs every peer address to be "
                 "an FQDN)"));
  CHECK(contains(r.out, "6 manual steps on 3 nodes"));
  auto j = nlohmann::json::parse(c.plan({"--output", "json"}).out);
  CHECK(j["summary"]["manual_steps"] == 6);
  size_t manual = 0;
  for (const auto& a : j["actions"])
    if (a["manual"] == true) {
      ++manual;
      CHECK(a["kind"] == "set-tls-verification");
      CHECK(a["manual_step"]["page"] == "System > Clustering");
    }
  CHECK(manual == 6);
  CHECK(nodes.unimplemented_calls().empty());
}

TEST_CASE("manual steps: apply stops with exit 4, the next runs verify and go on to no changes",
          "[reconciler][manual]") {
  SimCluster c;
  ManualNodes nodes(all_real(c));

  auto first = c.apply();
  INFO(first.out << first.err);
  REQUIRE(first.status == kExitManual);
  CHECK(contains(first.out,
                 "Apply stopped for manual steps: waiting for 3 manual steps on edge1, "
                 "edge2, edge3"));
  CHECK(contains(first.out,
                 "edge1: System > Clustering: TLS verification mode = Permissive, Save "
                 "(edgecert checks: alarm 40049 (Cluster TLS permissive) must be "
                 "present on the node)"));
  CHECK(contains(first.out, "[1/3 edge1] set-tls-verification: MANUAL STEP, not done yet"));
  // CSRs and signatures were done; nothing was disrupted.
  for (const auto& n : c.peer_names()) {
    CHECK(c.restarts(n) == 0);
    auto st = c.node(n).read_state();
    REQUIRE(st);
    CHECK(st->pending_csr);
  }
  // plan and status say what is waiting.
  auto plan = c.plan();
  CHECK(contains(plan.out, "stopped at"));
  CHECK(contains(plan.out, "for 3 manual steps; do them in the web UI"));

  // Not done yet: the same stop, still nothing restarted.
  auto again = c.apply();
  CHECK(again.status == kExitManual);
  CHECK(contains(again.out, "alarm 40049 absent: TLS verification is enforce, not permissive"));
  for (const auto& n : c.peer_names()) CHECK(c.restarts(n) == 0);

  operator_sets_tls(c, spec::TlsVerification::kPermissive);
  auto rollout = c.apply();
  INFO(rollout.out << rollout.err);
  REQUIRE(rollout.status == kExitManual);
  CHECK(contains(rollout.out, "waiting for 3 manual steps on edge1, edge2, edge3"));
  CHECK(contains(rollout.out, "TLS verification mode = Enforce"));
  for (const auto& n : c.peer_names()) {
    CHECK(c.restarts(n) == 1);
    CHECK(c.serving(n).subject_cn() == "edge.example.com");
  }

  operator_sets_tls(c, spec::TlsVerification::kEnforce);
  auto done = c.apply();
  INFO(done.out << done.err);
  CHECK(done.status == 0);
  CHECK(contains(done.out, "No changes."));
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
  CHECK(nodes.unimplemented_calls().empty());
  for (const auto& n : c.peer_names()) CHECK(c.restarts(n) == 1);
}

TEST_CASE("manual steps: in a terminal apply waits for 'done' and checks again",
          "[reconciler][manual]") {
  SimCluster c;
  ManualNodes nodes(all_real(c));
  OperatorInput input;
  input.then([] {}, "not yet");  // anything else stops: exit 4
  auto stopped = run_in_terminal(c, {"apply", c.spec_path, "--auto-approve"}, input);
  INFO(stopped.out << stopped.err);
  CHECK(stopped.status == kExitManual);
  CHECK(contains(stopped.out, "Type 'done' when finished"));

  // "done" without doing it: checked, still not done, asked again.
  input.then([] {}, "done");
  input.then([&] { operator_sets_tls(c, spec::TlsVerification::kPermissive); }, "done");
  input.then([&] { operator_sets_tls(c, spec::TlsVerification::kEnforce); }, "done");
  auto r = run_in_terminal(c, {"apply", c.spec_path, "--auto-approve"}, input);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(input.unanswered() == 0);
  CHECK(contains(r.out, "the node shows now: alarm 40049 absent"));
  CHECK(contains(r.out, "verified: alarm 40049 present: TLS verification is permissive"));
  CHECK(contains(r.out, "Apply complete"));
  for (const auto& n : c.peer_names()) CHECK(c.restarts(n) == 1);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("manual steps: --output json reports manual events and status manual, exit 4",
          "[reconciler][manual]") {
  SimCluster c(testing::with_peers(2));
  ManualNodes nodes(all_real(c));
  auto r = c.apply({"--output", "json"});
  REQUIRE(r.status == kExitManual);
  std::vector<nlohmann::json> manual;
  nlohmann::json result;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto e = nlohmann::json::parse(line);
    if (e["event"] == "manual") manual.push_back(e);
    if (e["event"] == "result") result = e;
  }
  REQUIRE(manual.size() == 2);
  CHECK(manual[0]["action"] == "edge1/set-tls-verification");
  CHECK(manual[0]["node"] == "edge1");
  CHECK(manual[0]["kind"] == "set-tls-verification");
  CHECK(manual[0]["page"] == "System > Clustering");
  CHECK(manual[0]["settings"] == nlohmann::json{"TLS verification mode = Permissive", "Save"});
  CHECK(manual[0]["verifiable"] == true);
  CHECK(manual[0]["instruction"] ==
        "edge1: System > Clustering: TLS verification mode = Permissive, Save");
  CHECK(result["status"] == "manual");
  CHECK(result["exit_code"] == 4);
  CHECK(result["message"] == "waiting for 2 manual steps on edge1, edge2");
}

TEST_CASE("manual steps: CRL settings cannot be verified: --confirm-manual, then remembered",
          "[reconciler][manual]") {
  SimClusterOptions o = testing::with_peers(2);
  o.spec_extra = kCrlSpec;
  SimCluster c(o);
  REQUIRE(c.apply().status == 0);  // plain sim:// nodes do it all themselves

  ManualNodes nodes(all_real(c));
  auto plan = c.plan();
  INFO(plan.out);
  CHECK(contains(plan.out, "set-crl-settings (MANUAL STEP)"));
  CHECK(contains(plan.out, "daily_update_time: unknown -> 02:30"));
  CHECK(contains(plan.out, "Daily update time = 02:30 (UTC)"));
  CHECK(contains(plan.out, "edgecert checks: cannot be verified"));

  // --confirm-manual before any run stopped there confirms nothing.
  auto early = c.apply({"--confirm-manual"});
  CHECK(early.status == kExitManual);
  CHECK(contains(early.out, "no earlier run stopped at a manual step"));
  auto again = c.apply();
  CHECK(again.status == kExitManual);
  CHECK(contains(again.out, "run 'edgecert apply cluster/spec.yaml --confirm-manual'"));

  auto confirmed = c.apply({"--confirm-manual"});
  INFO(confirmed.out << confirmed.err);
  REQUIRE(confirmed.status == 0);
  CHECK(contains(confirmed.out, "confirmed by the operator (--confirm-manual)"));
  auto record = c.memory.read_file("cluster/.edgecert/state/test/manual.json", kTestRead);
  REQUIRE(record);
  CHECK(contains(*record, "\"crl_settings\""));
  // The confirmed value is the live one now: no manual-step loop.
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);

  // A new value in the spec: one step, from the remembered value.
  o.spec_extra = std::string(kCrlSpec).replace(std::string(kCrlSpec).find("02:30"), 5, "03:00");
  c.write_spec(o);
  auto changed = c.plan();
  CHECK(contains(changed.out, "daily_update_time: 02:30 -> 03:00"));
  CHECK(nodes.unimplemented_calls().empty());
}

TEST_CASE("product and release: a node that does not fit is refused before any change",
          "[reconciler][manual]") {
  SimCluster c;
  ManualNodes nodes({{"edge2", ManualNodeConfig{}}, {"edge3", ManualNodeConfig{}}});
  auto pending = [&] {
    int n = 0;
    for (const auto& name : c.peer_names())
      if (c.node(name).read_state()->pending_csr) ++n;
    return n;
  };

  SECTION("the other product") {
    nodes.config("edge2").product = node::Product::kExpresswayC;
    auto r = c.apply();
    CHECK(r.status == 1);
    CHECK(contains(r.err,
                   "edge2: the node is an Expressway-C, but the spec is for an "
                   "Expressway-E (spec.product: expressway-e)"));
    CHECK(c.plan().status == 1);
  }
  SECTION("a release older than a spec feature") {
    nodes.config("edge3").software_version = "X14.2.1";  // the spec's keys are ECDSA
    auto r = c.apply();
    CHECK(r.status == 1);
    CHECK(contains(r.err,
                   "edge3: the node runs X14.2.1, but ECDSA keys "
                   "(serverCertificate.key.algorithm: ecdsa) need X14.3 or later"));
  }
  SECTION("a peer list that is not the spec's") {
    nodes.config("edge2").cluster_peers =
        std::vector<std::string>{"edge1.example.com", "edge2.example.com", "other.example.com"};
    auto r = c.plan();
    CHECK(r.status == 1);
    CHECK(contains(r.err, "edge2: the node's own cluster peer list"));
    CHECK(contains(r.err, "spec peers it does not list: edge3.example.com"));
  }
  SECTION("peers on different releases: a warning only") {
    nodes.config("edge3").software_version = "X16.1.0";
    auto r = c.plan();
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Warning: the peers run different releases (edge1 "));
    CHECK(contains(r.out, ", edge3 X16.1.0); a cluster's peers should all run the same one"));
    return;
  }
  CHECK(pending() == 0);
  for (const auto& n : c.peer_names()) CHECK(c.restarts(n) == 0);
}

TEST_CASE("manual steps: a node left permissive by hand for a rollout is not sent back first",
          "[reconciler][manual]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  ManualNodes nodes(all_real(c));
  operator_sets_tls(c, spec::TlsVerification::kPermissive);

  // A rollout (--replace): the relax is found done, not "restore first, then
  // relax again".
  auto replace = c.plan({"--replace", "edge1"});
  INFO(replace.out << replace.err);
  REQUIRE(replace.status == 0);
  CHECK_FALSE(contains(replace.out, "restore cluster TLS verification first"));
  CHECK(contains(replace.out, "cluster TLS verification is permissive already (set by hand)"));
  CHECK(contains(replace.out, "permissive -> permissive"));

  // No rollout: every node serves a valid certificate, so back to the spec.
  auto plain = c.plan();
  CHECK(contains(plain.out, "restore cluster TLS verification first"));
  CHECK(contains(plain.out, "TLS verification mode = Enforce"));
  CHECK(contains(plain.out, "3 manual steps on 3 nodes"));
}

TEST_CASE("manual steps: a saved plan stops at them too, and points back at the spec",
          "[reconciler][manual]") {
  SimCluster c(testing::with_peers(2));
  ManualNodes nodes(all_real(c));
  REQUIRE(c.cli({"plan", c.spec_path, "--out", "cluster/plan.json"}).status == 0);
  auto saved = c.memory.read_file("cluster/plan.json", kTestRead);
  REQUIRE(saved);
  CHECK(contains(*saved, "\"manual\": true"));
  auto r = c.cli({"apply", "cluster/plan.json"});
  INFO(r.out << r.err);
  CHECK(r.status == kExitManual);
  // The operator's change makes the saved plan stale: go on from the spec.
  CHECK(contains(r.out, "run 'edgecert apply cluster/spec.yaml' again"));
  for (const auto& n : c.peer_names()) CHECK(c.restarts(n) == 0);
}
