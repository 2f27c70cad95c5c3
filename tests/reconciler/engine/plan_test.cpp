// build_plan on real live state: a simulated cluster read through a session
// (open_session → read_live → make_plan), checked for the change procedure's
// order and dependencies, not through the CLI's text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "reconciler/engine/apply.h"
#include "reconciler/engine/executor.h"
#include "reconciler/engine/session.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct Planned {
  Session session;
  ClusterLive live;
  Plan plan;
};

Planned plan_for(SimCluster& c, std::vector<std::string> targets = {}) {
  SessionOptions options;
  options.targets = std::move(targets);
  OpenedSession opened = open_session(c.env, c.spec_path, options);
  if (opened.error) FAIL("open_session: " << opened.error->message);
  REQUIRE(opened.session);
  Session s = std::move(*opened.session);
  ClusterLive live = read_live(s, false, {});
  REQUIRE(live.all_readable());
  auto plan = make_plan(s, live, c.env);
  testing::require_ok(plan, "make_plan");
  // Every plan the planner makes is checked and runnable.
  REQUIRE(check_plan(*plan));
  auto dry = dry_run_plan(*plan, c.env.now());
  INFO("dry run: " << dry.message);
  REQUIRE(dry.outcome == ApplyOutcome::kComplete);
  REQUIRE(dry.actions_done == plan->actions.size());
  return Planned{std::move(s), std::move(live), std::move(*plan)};
}

long index_of(const Plan& p, const std::string& id) {
  for (size_t i = 0; i < p.actions.size(); ++i)
    if (p.actions[i].id == id) return static_cast<long>(i);
  return -1;
}

bool depends(const Plan& p, const std::string& id, const std::string& on) {
  const Action* a = p.find(id);
  REQUIRE(a);
  return std::find(a->depends_on.begin(), a->depends_on.end(), on) != a->depends_on.end();
}

std::vector<std::string> of_kind(const Plan& p, ActionKind k, const std::string& node = "") {
  std::vector<std::string> out;
  for (const auto& a : p.actions)
    if (a.kind() == k && (node.empty() || a.node == node)) out.push_back(a.id);
  return out;
}

std::vector<std::string> kinds_on(const Plan& p, const std::string& node) {
  std::vector<std::string> out;
  for (const auto& a : p.actions)
    if (a.node == node) out.push_back(action_kind_name(a.kind()));
  return out;
}

}  // namespace

TEST_CASE("build_plan: a fresh cluster reissues every node in rollout order, one at a time",
          "[engine][plan]") {
  SimClusterOptions o;
  o.peers = 3;
  o.rollout = "{healthTimeout: 2m, order: [edge3, edge1, edge2]}";
  SimCluster c(o);
  Planned pl = plan_for(c);
  const Plan& p = pl.plan;
  const std::vector<std::string> order = {"edge3", "edge1", "edge2"};

  CHECK(p.cluster == "test");
  CHECK(p.spec_sha256 == pl.session.spec_sha256);
  REQUIRE(p.nodes.size() == 3);
  CHECK(p.nodes[0].first == "edge1");  // spec order
  CHECK(p.restart_count() == 3);
  CHECK(p.touched_nodes().size() == 3);
  CHECK(p.summary_line() == "Plan: " + std::to_string(p.actions.size()) +
                                " actions on 3 nodes, 3 restarts, one node at a time");

  // Per node: generate → sign → upload → restart → wait → verify.
  for (const auto& n : order) {
    INFO(n);
    for (ActionKind k :
         {ActionKind::kGenerateCsr, ActionKind::kSignCsr, ActionKind::kUploadCertificate,
          ActionKind::kRestart, ActionKind::kWaitHealthy, ActionKind::kVerifyServed})
      CHECK(of_kind(p, k, n).size() == 1);
    long gen = index_of(p, n + "/generate-csr"), sign = index_of(p, n + "/sign-csr"),
         up = index_of(p, n + "/upload-certificate"), rs = index_of(p, n + "/restart"),
         wh = index_of(p, n + "/wait-healthy"), vs = index_of(p, n + "/verify-served");
    CHECK(0 <= gen);
    CHECK(gen < sign);
    CHECK(sign < up);
    CHECK(up < rs);
    CHECK(rs < wh);
    CHECK(wh < vs);
    CHECK(depends(p, n + "/sign-csr", n + "/generate-csr"));
    CHECK(depends(p, n + "/upload-certificate", n + "/sign-csr"));
    CHECK(depends(p, n + "/restart", n + "/upload-certificate"));
    CHECK(depends(p, n + "/wait-healthy", n + "/restart"));
    CHECK(depends(p, n + "/verify-served", n + "/wait-healthy"));
    CHECK(p.find(n + "/verify-served")->as<VerifyServedParams>().fqdn == n + ".example.com");
    CHECK(p.find(n + "/wait-healthy")->as<WaitHealthyParams>().timeout ==
          std::chrono::seconds(120));
    const auto& csr = p.find(n + "/generate-csr")->as<GenerateCsrParams>().csr;
    CHECK(csr.common_name == "edge.example.com");
    CHECK(std::find(csr.dns_names.begin(), csr.dns_names.end(), n + ".example.com") !=
          csr.dns_names.end());
    CHECK(csr.key_algorithm == pki::KeyAlgorithm::kEcdsa);
    CHECK(csr.key_size == 256);
  }
  // Every CSR is signed before the first disruption.
  long first_upload = index_of(p, "edge3/upload-certificate");
  for (const auto& n : order) CHECK(index_of(p, n + "/sign-csr") < first_upload);
  // Rollout order, and each restart waits for the previous node's verify.
  CHECK(index_of(p, "edge3/verify-served") < index_of(p, "edge1/restart"));
  CHECK(index_of(p, "edge1/verify-served") < index_of(p, "edge2/restart"));
  CHECK(depends(p, "edge1/restart", "edge3/verify-served"));
  CHECK(depends(p, "edge2/restart", "edge1/verify-served"));
  for (const auto& id : p.find("edge3/restart")->depends_on)
    CHECK_FALSE(contains(id, "verify-served"));
  CHECK(of_kind(p, ActionKind::kRestart) ==
        std::vector<std::string>{"edge3/restart", "edge1/restart", "edge2/restart"});

  // TLS verification relaxed on every peer before the first upload, restored
  // after the last verify.
  auto tls = of_kind(p, ActionKind::kSetTlsVerification);
  REQUIRE(tls.size() == 6);
  long last_verify = index_of(p, "edge2/verify-served");
  size_t relaxed = 0, restored = 0;
  for (const auto& id : tls) {
    const Action* a = p.find(id);
    if (a->as<SetTlsVerificationParams>().mode == spec::TlsVerification::kPermissive) {
      ++relaxed;
      CHECK(index_of(p, id) < first_upload);
      for (const auto& n : order) CHECK(depends(p, n + "/restart", id));
    } else {
      ++restored;
      CHECK(a->as<SetTlsVerificationParams>().mode == spec::TlsVerification::kEnforce);
      CHECK(index_of(p, id) > last_verify);
      for (const auto& n : order) CHECK(depends(p, id, n + "/verify-served"));
    }
  }
  CHECK(relaxed == 3);
  CHECK(restored == 3);
  // The issuer's CA is appended on every peer before anything is signed.
  for (const auto& n : order) {
    auto appends = of_kind(p, ActionKind::kAppendTrustedCas, n);
    REQUIRE(appends.size() == 1);
    CHECK(index_of(p, appends[0]) < index_of(p, n + "/upload-certificate"));
    CHECK(depends(p, n + "/upload-certificate", appends[0]));
    CHECK(p.find(appends[0])->as<AppendTrustedCasParams>().sha256 ==
          std::vector<std::string>{c.ca_certificates().front().sha256_fingerprint()});
  }
}

TEST_CASE("build_plan: no changes after apply, a SAN change reissues with a reason naming it",
          "[engine][plan]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  {
    Planned pl = plan_for(c);
    CHECK(pl.plan.empty());
    CHECK(pl.plan.restart_count() == 0);
    CHECK(pl.plan.nodes.size() == 2);
    CHECK(pl.plan.summary_line() == "Plan: 0 actions on 0 nodes, 0 restarts");
    auto diff = diff_cluster(pl.session.spec, pl.live, pl.session.trust, c.env, c.env.now());
    testing::require_ok(diff, "diff_cluster");
    CHECK_FALSE(diff->has_changes());
    CHECK_FALSE(diff->any_certificate_change());
    for (const auto& n : diff->nodes) CHECK(n.certificate == CertificateChange::kNone);
  }
  auto o = c.options();
  o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  c.write_spec(o);
  Planned pl = plan_for(c);
  auto diff = diff_cluster(pl.session.spec, pl.live, pl.session.trust, c.env, c.env.now());
  testing::require_ok(diff, "diff_cluster");
  REQUIRE(diff->nodes.size() == 2);
  for (const auto& n : diff->nodes) {
    INFO(n.peer);
    CHECK(n.certificate == CertificateChange::kReissue);
    REQUIRE_FALSE(n.certificate_reasons.empty());
    CHECK(contains(n.certificate_reasons.front(), "extra.example.com"));
    CHECK(n.missing_cas.empty());  // the CA is already trusted
    REQUIRE(n.superseded);
    CHECK(n.superseded->sha256_fingerprint() == c.serving(n.peer).sha256_fingerprint());
  }
  for (const std::string n : {"edge1", "edge2"}) {
    INFO(n);
    const Action* g = pl.plan.find(n + "/generate-csr");
    REQUIRE(g);
    CHECK(contains(g->reason, "(missing extra.example.com)"));
    const auto& dns = g->as<GenerateCsrParams>().csr.dns_names;
    CHECK(std::find(dns.begin(), dns.end(), "extra.example.com") != dns.end());
    CHECK(kinds_on(pl.plan, n) ==
          std::vector<std::string>{"generate-csr", "sign-csr", "set-tls-verification",
                                   "upload-certificate", "restart", "wait-healthy", "verify-served",
                                   "set-tls-verification"});
  }
  CHECK(of_kind(pl.plan, ActionKind::kAppendTrustedCas).empty());
}

TEST_CASE("build_plan: targets limit certificate actions, CA appends reach every peer",
          "[engine][plan]") {
  SimCluster c(testing::with_peers(3));
  Planned pl = plan_for(c, {"edge2"});
  const Plan& p = pl.plan;
  CHECK(p.targets == std::vector<std::string>{"edge2"});
  CHECK(p.restart_count() == 1);
  for (ActionKind k :
       {ActionKind::kGenerateCsr, ActionKind::kSignCsr, ActionKind::kUploadCertificate,
        ActionKind::kRestart, ActionKind::kWaitHealthy, ActionKind::kVerifyServed}) {
    INFO(action_kind_name(k));
    CHECK(of_kind(p, k) == std::vector<std::string>{"edge2/" + std::string(action_kind_name(k))});
  }
  // Trust and the cluster-wide TLS mode still reach every peer.
  for (const std::string n : {"edge1", "edge2", "edge3"}) {
    INFO(n);
    CHECK(of_kind(p, ActionKind::kAppendTrustedCas, n).size() == 1);
    CHECK(of_kind(p, ActionKind::kSetTlsVerification, n).size() == 2);
  }
  // The first (and only) restart has no previous verify to wait for.
  for (const auto& id : p.find("edge2/restart")->depends_on)
    CHECK_FALSE(contains(id, "verify-served"));

  SECTION("applying the targeted plan leaves the others' certificates alone") {
    REQUIRE(c.apply({"--target", "edge2"}).status == 0);
    Planned after = plan_for(c, {"edge2"});
    CHECK(after.plan.empty());
    Planned rest = plan_for(c);
    CHECK(rest.plan.restart_count() == 2);
    CHECK(of_kind(rest.plan, ActionKind::kRestart) ==
          std::vector<std::string>{"edge1/restart", "edge3/restart"});
    CHECK(of_kind(rest.plan, ActionKind::kAppendTrustedCas).empty());
    CHECK(depends(rest.plan, "edge3/restart", "edge1/verify-served"));
  }
}

TEST_CASE("build_plan: a staged certificate needs only its restart (level-triggered)",
          "[engine][plan]") {
  SimCluster c(testing::with_peers(2));
  // Kill the apply right after edge1's upload: its certificate is staged.
  Planned first = plan_for(c);
  long upload = index_of(first.plan, "edge1/upload-certificate");
  REQUIRE(upload >= 0);
  // Apply with a crash at the journal write after the upload's action-done.
  int writes = 0;
  ApplyRequest req;
  req.input = c.spec_path;
  req.after_journal_write = [&](long seq) {
    writes = static_cast<int>(seq);
    return seq < 2 + 2 * (upload + 1);
  };
  auto r = apply(c.env, req);
  REQUIRE(r.status == ApplyStatus::kExecuted);
  REQUIRE(r.report);
  CHECK(r.report->outcome == ApplyOutcome::kAborted);
  CHECK(c.restarts("edge1") == 0);
  // The lock of the dead run is still there; the planner does not care.
  Planned next = plan_for(c);
  // Already permissive: no relax; only the restart and what follows it.
  CHECK(kinds_on(next.plan, "edge1") == std::vector<std::string>{"restart", "wait-healthy",
                                                                 "verify-served",
                                                                 "set-tls-verification"});
  // edge2's CSR (generated before the kill) matches the spec: reused, not regenerated.
  CHECK(of_kind(next.plan, ActionKind::kGenerateCsr).empty());
  const Action* sign = next.plan.find("edge2/sign-csr");
  REQUIRE(sign);
  CHECK(contains(sign->reason, "reuse the matching CSR"));
  CHECK(sign->depends_on.empty());
  CHECK(writes == 2 + 2 * (upload + 1));
}
