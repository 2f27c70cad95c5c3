// Apply under faults, saved plans, windows, approval, targets, prune, the
// external issuer, and the audit trail.
#include <catch2/catch.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/issuers/external.h"
#include "providers/issuers/openssl_ca.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "reconciler/cli/cli.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool is_factory(SimCluster& c, const std::string& node) {
  return contains(c.serving(node).issuer_cn(), "TEMPORARY");
}

// Applies until the cluster converges (at most `tries` runs).
int converge(SimCluster& c, int tries = 4) {
  for (int i = 1; i <= tries; ++i) {
    auto r = c.apply();
    if (r.status == 0 && c.plan({"--detailed-exitcode"}).status == 0) return i;
    c.memory.advance(std::chrono::minutes(5));
  }
  return -1;
}

}  // namespace

TEST_CASE("faults: a restart that never comes back stops the rollout at that node",
          "[reconciler][faults]") {
  SimCluster c;
  REQUIRE(c.node("edge2").ensure_booted());
  sim::FaultConfig f;
  f.restart_never_returns = true;
  REQUIRE(c.node("edge2").set_faults(f));
  auto r = c.apply();
  CHECK(r.status == 1);
  CHECK(contains(r.err, "edge2"));
  CHECK(contains(r.err, "wait-healthy") == false);  // the message names node + action
  CHECK(contains(r.out, "[2/3 edge2] wait-healthy: FAILED"));
  // edge1 done, edge2 down, edge3 never touched.
  CHECK(c.restarts("edge1") == 1);
  CHECK(c.restarts("edge2") == 1);
  CHECK(c.restarts("edge3") == 0);
  CHECK(is_factory(c, "edge3"));
  // Not every node serves a valid certificate: TLS verification stays relaxed.
  CHECK(contains(r.err, "left as it is"));
  CHECK(contains(r.err, "run 'edgecert apply' again"));
}

TEST_CASE(
    "faults: a node that comes back with its old certificate fails verification, a rerun "
    "fixes it",
    "[reconciler][faults]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.node("edge1").ensure_booted());
  sim::FaultConfig f;
  f.restart_keeps_old_certificate = true;
  REQUIRE(c.node("edge1").set_faults(f));
  auto r = c.apply();
  CHECK(r.status == 1);
  CHECK(contains(r.out, "verify-served: FAILED"));
  CHECK(contains(r.err, "came back with the old certificate"));
  CHECK(c.restarts("edge2") == 0);
  REQUIRE(c.node("edge1").set_faults(sim::FaultConfig{}));
  CHECK(converge(c) == 1);
  CHECK(c.restarts("edge1") == 2);
  CHECK(c.restarts("edge2") == 1);
}

TEST_CASE("faults: failing requests, dropped replies, latency and slow restarts are survived",
          "[reconciler][faults]") {
  SimCluster c;
  for (const auto& name : c.peer_names()) REQUIRE(c.node(name).ensure_booted());
  sim::FaultConfig f;
  f.failure_rate = 0.2;
  f.seed = 7;
  f.latency_ms = 150;
  REQUIRE(c.node("edge1").set_faults(f));
  sim::FaultConfig drop;
  drop.drop_connections = 2;
  drop.drop_after_apply = true;
  REQUIRE(c.node("edge2").set_faults(drop));
  sim::FaultConfig slow;
  slow.slow_restart_seconds = 90;  // within healthTimeout (2m)
  REQUIRE(c.node("edge3").set_faults(slow));
  CHECK(converge(c) > 0);
  for (const auto& name : c.peer_names()) {
    CHECK(c.restarts(name) == 1);
    CHECK_FALSE(is_factory(c, name));
  }
}

TEST_CASE("faults: a restart slower than healthTimeout stops the run, the rerun resumes it",
          "[reconciler][faults]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.node("edge1").ensure_booted());
  sim::FaultConfig slow;
  slow.slow_restart_seconds = 600;
  REQUIRE(c.node("edge1").set_faults(slow));
  CHECK(c.apply().status == 1);
  CHECK(c.restarts("edge2") == 0);
  c.memory.advance(std::chrono::minutes(10));
  REQUIRE(c.node("edge1").set_faults(sim::FaultConfig{}));
  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(c.restarts("edge1") == 1);  // not restarted a second time
  CHECK(c.restarts("edge2") == 1);
}

TEST_CASE("saved plans: applied exactly, refused when the spec or a node changed, saying what",
          "[reconciler][plan]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.plan({"--out", "cluster/plan.json"}).status == 0);

  SECTION("unchanged: applies without asking") {
    auto r = c.cli({"apply", "cluster/plan.json"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(c.plan({"--detailed-exitcode"}).status == 0);
  }
  SECTION("spec changed") {
    auto yaml = *c.memory.read_file(c.spec_path, kTestRead);
    c.memory.put(c.spec_path, yaml + "# a comment changes the digest\n");
    auto r = c.cli({"apply", "cluster/plan.json"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "the plan is stale"));
    CHECK(contains(r.err, "cluster/spec.yaml changed"));
    CHECK(c.restarts("edge1") == 0);
  }
  SECTION("live state changed") {
    auto ca = c.ca_certificates().front();
    REQUIRE(c.node("edge2").append_trusted_cas(ca.to_pem()));
    auto r = c.cli({"apply", "cluster/plan.json"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "the live state changed"));
    CHECK(contains(r.err, "edge2: trusted_cas"));
    CHECK_FALSE(contains(r.err, "edge1: "));
    CHECK(c.restarts("edge1") == 0);
  }
}

TEST_CASE("windows: apply refuses outside them unless --ignore-windows, plan shows the next one",
          "[reconciler][windows]") {
  // MemoryEnv starts on Friday 2027-01-01 00:00 UTC; the window is Mondays.
  SimClusterOptions o;
  o.peers = 1;
  o.rollout =
      "{healthTimeout: 2m, windows: [{days: [mon], start: \"01:00\", duration: 2h, timezone: "
      "UTC}]}";
  SimCluster c(o);
  auto p = c.plan();
  INFO(p.out << p.err);
  CHECK(contains(p.out, "Next rollout window opens 2027-01-04T01:00:00+0000 (UTC)"));
  auto r = c.apply();
  CHECK(r.status == 1);
  CHECK(contains(r.err, "outside the spec's rollout windows"));
  CHECK(c.restarts("edge1") == 0);
  CHECK(c.apply({"--ignore-windows"}).status == 0);

  SimCluster inside(o);
  inside.memory.advance(std::chrono::hours(24 * 3 + 1) + std::chrono::minutes(30));  // Mon 01:30
  CHECK(inside.apply().status == 0);
}

TEST_CASE("approval: no terminal and no --auto-approve refuses, only 'yes' proceeds",
          "[reconciler]") {
  SimCluster c(testing::with_peers(1));
  auto no_tty = c.cli({"apply", c.spec_path});
  CHECK(no_tty.status == 1);
  CHECK(contains(no_tty.err, "not a terminal"));
  auto declined = c.cli({"apply", c.spec_path}, "y\n", true);
  CHECK(declined.status == 1);
  CHECK(contains(declined.out, "Only 'yes' will be accepted"));
  CHECK(contains(declined.err, "cancelled"));
  CHECK(c.restarts("edge1") == 0);
  auto yes = c.cli({"apply", c.spec_path}, "yes\n", true);
  CHECK(yes.status == 0);
  CHECK(c.restarts("edge1") == 1);
}

TEST_CASE("targets: --target and --exclude limit the nodes that change", "[reconciler]") {
  SimCluster c;
  auto r = c.apply({"--target", "edge2"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(c.restarts("edge1") == 0);
  CHECK(c.restarts("edge2") == 1);
  CHECK(c.restarts("edge3") == 0);
  CHECK(c.apply({"--exclude", "edge1"}).status == 0);
  CHECK(c.restarts("edge3") == 1);
  CHECK(c.restarts("edge2") == 1);
  CHECK(c.restarts("edge1") == 0);
  auto bad = c.plan({"--target", "edge9"});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "'edge9' is not a peer"));
}

TEST_CASE("prune: CAs outside the spec go after the rollout, never one a certificate needs",
          "[reconciler][prune]") {
  SimClusterOptions o;
  o.peers = 2;
  o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem], prune: true}\n";
  SimCluster c(o);
  // edge2's factory CA is also trusted on edge1.
  REQUIRE(c.node("edge2").ensure_booted());
  auto edge2_state = c.node("edge2").read_state();
  REQUIRE(edge2_state);
  auto edge2_temp_ca = edge2_state->trusted_cas.front();
  REQUIRE(c.node("edge1").append_trusted_cas(edge2_temp_ca.to_pem()));

  // Only edge1 changes now: edge2 still serves its factory certificate, so
  // its temporary CA must stay even on edge1.
  auto p = c.plan({"--target", "edge1"});
  CHECK(contains(p.out, "a serving or staged certificate still chains to it; it stays"));
  REQUIRE(c.apply({"--target", "edge1"}).status == 0);
  auto st1 = c.node("edge1").read_state();
  REQUIRE(st1);
  bool kept = false;
  for (const auto& ca : st1->trusted_cas)
    kept = kept || ca.sha256_fingerprint() == edge2_temp_ca.sha256_fingerprint();
  CHECK(kept);

  // The whole cluster: every factory CA goes, the spec's CA stays.
  REQUIRE(c.apply().status == 0);
  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    REQUIRE(st->trusted_cas.size() == 1);
    CHECK(st->trusted_cas.front().sha256_fingerprint() ==
          c.ca_certificates().front().sha256_fingerprint());
  }
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("external issuer: CSRs for every node, a clean stop, then pick-up and rollout",
          "[reconciler][issuer]") {
  SimClusterOptions o;
  o.peers = 2;
  o.issuer = "{type: external, requestsDir: req, certificatesDir: certs}";
  o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem]}\n";
  SimCluster c(o);
  auto first = c.apply();
  INFO(first.out << first.err);
  REQUIRE(first.status == kExitWaiting);  // its own exit status: not done, not failed
  CHECK(contains(first.out, "Apply incomplete: waiting for signed certificates"));
  // What to put where, per node.
  for (const auto& name : c.peer_names())
    CHECK(contains(first.out, fmt::format("submit cluster/req/test/{0}.csr to your CA and place "
                                          "the signed certificate (PEM or DER) at "
                                          "cluster/certs/test/{0}.pem",
                                          name)));
  for (const auto& name : c.peer_names()) {
    CHECK(c.memory.exists("cluster/req/test/" + name + ".csr"));
    CHECK(c.restarts(name) == 0);
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);  // nothing relaxed
  }
  // The CA signs both requests and drops the certificates.
  auto ca = issuer::make_openssl_ca_issuer(c.memory, "cluster/ca");
  for (const auto& name : c.peer_names()) {
    auto csr = c.memory.read_file("cluster/req/test/" + name + ".csr", kTestRead);
    REQUIRE(csr);
    auto out = ca->sign({"test", name, *csr, spec::Digest::kSha256});
    REQUIRE(out);
    c.memory.put("cluster/certs/test/" + name + ".pem", out->chain.front().to_der());
  }
  // A second apply with the certificates still waiting would reuse the same
  // pending CSRs; now it picks them up.
  auto second = c.apply();
  INFO(second.out << second.err);
  REQUIRE(second.status == 0);
  CHECK(contains(second.out, "Apply complete"));
  for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 1);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("audit log and journal: one line per action, the spec digest, no secrets",
          "[reconciler]") {
  SimCluster c(testing::with_peers(1));
  REQUIRE(c.apply().status == 0);
  auto audit = c.memory.read_file("cluster/.edgecert/state/test/audit.jsonl", kTestRead);
  REQUIRE(audit);
  auto journal = c.memory.read_file("cluster/.edgecert/state/test/journal.jsonl", kTestRead);
  REQUIRE(journal);
  size_t lines = 0;
  for (size_t pos = 0; (pos = audit->find('\n', pos)) != std::string::npos; ++pos) ++lines;
  auto plan = nlohmann::json::parse(c.plan({"--output", "json"}).out);
  CHECK(lines > 5);
  auto first = nlohmann::json::parse(audit->substr(0, audit->find('\n')));
  CHECK(first["outcome"] == "done");
  CHECK(first["spec_sha256"].get<std::string>() == plan["spec"]["sha256"].get<std::string>());
  CHECK_FALSE(contains(*audit, "PRIVATE KEY"));
  CHECK_FALSE(contains(*journal, "PRIVATE KEY"));
  CHECK(c.files_with_private_keys().empty());
  // The lock is gone after a finished run.
  CHECK_FALSE(c.memory.exists("cluster/.edgecert/state/test/lock.json"));
}

TEST_CASE("revokeSuperseded: only certificates of the configured issuer are revoked",
          "[reconciler][issuer]") {
  SimClusterOptions o;
  o.peers = 2;
  o.rollout = "{healthTimeout: 2m, revokeSuperseded: true}";
  SimCluster c(o);
  // From factory certificates: nothing of ours to revoke, and the plan says so.
  auto p = c.plan();
  CHECK(contains(p.out, "was not issued by the configured issuer"));
  REQUIRE(c.apply().status == 0);
  auto old1 = c.serving("edge1");
  // A SAN change replaces our own certificates: those are revoked once the
  // replacement is verified.
  auto o2 = c.options();
  o2.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  c.write_spec(o2);
  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "revoke-superseded: revoked serial " + old1.serial_hex()));
  auto index = c.memory.read_file("cluster/ca/index.txt", kTestRead);
  REQUIRE(index);
  CHECK(contains(*index, ",superseded\t" + old1.serial_hex() + "\t"));
  auto crl = pki::Crl::parse_all(*c.memory.read_file("cluster/ca/crl.pem", kTestRead), "crl.pem");
  REQUIRE(crl);
  bool listed = false;
  for (const auto& e : crl->front().revoked()) listed = listed || e.serial_hex == old1.serial_hex();
  CHECK(listed);
}

TEST_CASE("targets: the issuer's CA reaches every peer, not only the targeted one",
          "[reconciler]") {
  SimCluster c;
  REQUIRE(c.apply({"--target", "edge2"}).status == 0);
  auto ca = c.ca_certificates().front().sha256_fingerprint();
  for (const auto& name : c.peer_names()) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    bool trusted = false;
    for (const auto& t : st->trusted_cas) trusted = trusted || t.sha256_fingerprint() == ca;
    CHECK(trusted);
  }
  CHECK(c.restarts("edge1") == 0);
}

TEST_CASE("external issuer: a wrong certificate is refused before any node is disrupted",
          "[reconciler][issuer]") {
  SimClusterOptions o;
  o.peers = 2;
  o.issuer = "{type: external, requestsDir: req, certificatesDir: certs}";
  o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem]}\n";
  SimCluster c(o);
  REQUIRE(c.apply().status == kExitWaiting);  // CSRs written
  auto ca_cert = c.ca_certificates().front();
  auto ca_key = pki::PrivateKey::parse(
      *c.memory.read_file("cluster/ca/private/cakey.pem", kTestRead), "cakey.pem");
  REQUIRE(ca_key);
  for (const auto& name : c.peer_names()) {
    auto csr = pki::CertificateRequest::parse(
        *c.memory.read_file("cluster/req/test/" + name + ".csr", kTestRead), name);
    REQUIRE(csr);
    pki::IssueOptions io;
    io.not_before = c.memory.now() - std::chrono::hours(1);
    io.not_after = c.memory.now() + std::chrono::hours(24 * 365);
    io.serial_hex = name == "edge1" ? "AA01" : "AA02";
    io.copy_requested_sans = false;  // the CA dropped the SANs
    auto cert = pki::sign_csr(*csr, ca_cert, *ca_key, io);
    REQUIRE(cert);
    c.memory.put("cluster/certs/test/" + name + ".pem", cert->to_pem());
  }
  auto r = c.apply();
  CHECK(r.status == 1);
  CHECK(contains(r.err, "is refused before any node is touched"));
  CHECK(contains(r.err, "error [spec]: subject alternative names: live"));
  for (const auto& name : c.peer_names()) {
    CHECK(c.restarts(name) == 0);
    // Refused at sign-csr: TLS verification was never relaxed.
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
  }
}

TEST_CASE(
    "faults: a node that keeps answering after accepting a restart is not taken for restarted",
    "[reconciler][faults]") {
  // Each node stays up 20 s after accepting the restart (still serving its old
  // certificate). Waiting for "up" right away would pass against the old
  // instance; the next node must not restart until this one really went down,
  // came back, and was verified.
  SimCluster c;
  sim::FaultConfig f;
  f.restart_delay_seconds = 20;
  for (const auto& name : c.peer_names()) {
    REQUIRE(c.node(name).ensure_booted());
    REQUIRE(c.node(name).set_faults(f));
  }
  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "restart: node went down"));
  auto log = c.restart_log();
  REQUIRE(log.size() == 3);
  for (const auto& name : c.peer_names()) {
    CHECK(c.restarts(name) == 1);
    CHECK_FALSE(is_factory(c, name));
  }
  // Consecutive restarts are at least delay + restart time apart.
  for (size_t i = 1; i < log.size(); ++i) CHECK(log[i].first > log[i - 1].first);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}
