// assess_revocation and what plan does with it: revoked node certificates
// reissued with the reason first, bad sources refusing the plan with nothing
// changed, unreachable sources as errors or warnings by fallback, OCSP
// through the certificate's AIA, revoked trusted CAs, the DER manual CRL
// converted. The network is a FakeNetwork (tests/support) behind the
// transport factory; CRLs are signed with the project's signer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/crl.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/revocation_report.h"
#include "reconciler/engine/session.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::pki::testing::kDay;
using edgecert::pki::testing::must;
using edgecert::pki::testing::sh;
using edgecert::pki::testing::test_now;
using edgecert::pki::testing::TestPki;
using edgecert::testing::FakeNetwork;
using edgecert::testing::SimCluster;

namespace {

const std::string kUrl = "http://crl.test/issuing.crl";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return contains(l, needle); });
}

std::string crl_spec(const std::string& fallback = "treat-as-not-revoked") {
  return fmt::format(
      "  crl:\n    automaticUpdates:\n      enabled: true\n      distributionPoints: [{}]\n"
      "  revocationChecking: {{enabled: true, fallback: {}}}\n",
      kUrl, fallback);
}

pki::PrivateKey ca_key(SimCluster& c) {
  auto pem = c.memory.read_file("cluster/ca/private/cakey.pem", kTestRead);
  REQUIRE(pem);
  return must(pki::PrivateKey::parse(*pem, "cakey.pem"));
}

// A CRL of the cluster's CA revoking `serials` (keyCompromise), valid for a
// week around the cluster's clock unless told otherwise.
pki::Crl ca_crl(SimCluster& c, const std::vector<std::string>& serials, long number = 1,
                std::chrono::hours next = 7 * kDay) {
  pki::CrlOptions o;
  for (const auto& s : serials)
    o.revoked.push_back({s, c.env.now() - std::chrono::hours(2), "keyCompromise"});
  o.last_update = c.env.now() - std::chrono::hours(1);
  o.next_update = c.env.now() + next;
  o.number = number;
  return must(pki::Crl::create(c.ca_certificates().front(), ca_key(c), o));
}

// The cluster with its CRL source served and every node on the local CA.
SimCluster applied_cluster(int peers, const std::string& spec_extra, const std::string& rollout) {
  testing::SimClusterOptions o = testing::with_peers(peers);
  o.spec_extra = spec_extra;
  o.rollout = rollout;
  SimCluster c(o);
  return c;
}

std::string node_file(SimCluster& c, const std::string& peer) {
  auto data = c.memory.read_file("cluster/.edgecert/sim/test/" + peer + ".json", kTestRead);
  REQUIRE(data);
  return *data;
}

// A session over the cluster's fake network, its live state, and what the
// CRL sources say about it now.
struct Assessed {
  Session session;
  ClusterLive live;
  RevocationReport report;
};

Assessed assess_now(SimCluster& c) {
  SessionOptions options;
  options.crl_transport = c.network.factory();
  OpenedSession opened = open_session(c.env, c.spec_path, options);
  REQUIRE(opened.session);
  Assessed a{std::move(*opened.session), {}, {}};
  a.live = read_live(a.session, false, {});
  REQUIRE(a.live.all_readable());
  Session& s = a.session;
  a.report =
      assess_revocation(s.spec, s.trust, &a.live, s.state_dir, c.env, c.env.now(), s.revocation);
  INFO(fmt::format("{}", fmt::join(a.report.errors, "\n")));
  return a;
}

}  // namespace

TEST_CASE("revocation: a revoked serving certificate is reissued, the revocation its first reason",
          "[engine][revocation]") {
  SimCluster c = applied_cluster(2, crl_spec(), "{healthTimeout: 2m, revokeSuperseded: true}");
  c.network.serve(kUrl, ca_crl(c, {}).to_der());
  auto first = c.apply();
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  const pki::Certificate old1 = c.serving("edge1");
  const pki::Certificate old2 = c.serving("edge2");
  c.network.serve(kUrl, ca_crl(c, {old1.serial_hex()}, 2).to_der());

  Assessed a = assess_now(c);
  const Session& s = a.session;
  const ClusterLive& live = a.live;
  const RevocationReport& report = a.report;
  REQUIRE(report.ok());
  REQUIRE(report.revoked.size() == 1);
  const RevokedFinding& f = report.revoked.front();
  CHECK(f.peer == "edge1");
  CHECK(f.certificate == "serving certificate");
  CHECK(f.sha256 == old1.sha256_fingerprint());
  CHECK(f.source == kUrl);
  CHECK(f.reason == fmt::format("revoked by CA Test Issuing CA, serial {}, at {} (keyCompromise), "
                                "per {}",
                                old1.serial_hex(), format_time(c.env.now() - std::chrono::hours(2)),
                                kUrl));

  auto diff = diff_cluster(s.spec, live, s.trust, c.env, c.env.now(), {}, {},
                           report.revoked_by_fingerprint());
  testing::require_ok(diff, "diff_cluster");
  const NodeDiff* d1 = diff->find("edge1");
  REQUIRE(d1);
  CHECK(d1->certificate == CertificateChange::kReissue);
  REQUIRE_FALSE(d1->certificate_reasons.empty());
  CHECK(d1->certificate_reasons.front() == f.reason);
  CHECK(d1->superseded_revoked == f.reason);
  CHECK(diff->find("edge2")->certificate == CertificateChange::kNone);

  // Through the CLI: the plan says why, the apply replaces only edge1, and
  // the revoked certificate is not revoked a second time.
  auto plan = c.plan();
  INFO(plan.out << plan.err);
  CHECK(plan.status == 0);
  CHECK(contains(plan.out, "revoked by CA Test Issuing CA, serial " + old1.serial_hex()));
  CHECK(contains(plan.out, "is not revoked again"));
  CHECK_FALSE(contains(plan.out, "revoke-superseded"));
  auto second = c.apply();
  INFO(second.out << second.err);
  CHECK(second.status == 0);
  CHECK(c.serving("edge1").sha256_fingerprint() != old1.sha256_fingerprint());
  CHECK(c.serving("edge2").sha256_fingerprint() == old2.sha256_fingerprint());
  auto again = c.plan();
  CHECK_FALSE(contains(again.out, "revoked by CA"));
}

TEST_CASE("revocation: a stale or forged CRL refuses the plan naming the source, nothing changed",
          "[engine][revocation]") {
  SimCluster c = applied_cluster(2, crl_spec(), "{healthTimeout: 2m}");
  c.network.serve(kUrl, ca_crl(c, {}).to_der());
  REQUIRE(c.apply().status == 0);
  const std::string before1 = node_file(c, "edge1"), before2 = node_file(c, "edge2");

  SECTION("stale: nextUpdate has passed") {
    pki::CrlOptions o;
    o.last_update = c.env.now() - 10 * kDay;
    o.next_update = c.env.now() - kDay;
    o.number = 5;
    c.network.serve(kUrl,
                    must(pki::Crl::create(c.ca_certificates().front(), ca_key(c), o)).to_pem());
    auto plan = c.plan();
    INFO(plan.out << plan.err);
    CHECK(plan.status == 1);
    CHECK(contains(plan.err, kUrl));
    CHECK(contains(plan.err, "stale"));
    CHECK(contains(plan.err, "nothing was changed"));
    auto apply = c.apply();
    CHECK(apply.status == 1);
    CHECK(contains(apply.out + apply.err, kUrl));
  }
  SECTION("forged: same issuer name, another key") {
    auto key = must(pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
    const pki::Certificate real = c.ca_certificates().front();
    pki::CaOptions co;
    co.common_name = real.subject_cn();
    co.not_before = c.env.now() - kDay;
    co.not_after = c.env.now() + 365 * kDay;
    pki::Certificate fake = must(pki::create_self_signed_ca(key, co));
    pki::CrlOptions o;
    o.last_update = c.env.now() - std::chrono::hours(1);
    o.next_update = c.env.now() + kDay;
    o.number = 9;
    c.network.serve(kUrl, must(pki::Crl::create(fake, key, o)).to_der());
    auto plan = c.plan();
    INFO(plan.out << plan.err);
    CHECK(plan.status == 1);
    CHECK(contains(plan.err, kUrl));
  }
  SECTION("not a CRL: an HTML error page served with 200") {
    c.network.serve(kUrl, "<html><body>Not here</body></html>");
    auto plan = c.plan();
    INFO(plan.out << plan.err);
    CHECK(plan.status == 1);
    CHECK(contains(plan.err, kUrl));
  }
  CHECK(node_file(c, "edge1") == before1);
  CHECK(node_file(c, "edge2") == before2);
}

TEST_CASE("revocation: an unreachable source under treat-as-revoked refuses unless allowed",
          "[engine][revocation]") {
  SimCluster c = applied_cluster(2, crl_spec("treat-as-revoked"), "{healthTimeout: 2m}");
  c.network.serve(kUrl, ca_crl(c, {}).to_der());
  REQUIRE(c.apply().status == 0);
  const std::string before = node_file(c, "edge1");
  c.network.fail(kUrl, Error{ErrorCode::kUnavailable, kUrl + ": cannot connect: refused"});

  auto plan = c.plan();
  INFO(plan.out << plan.err);
  CHECK(plan.status == 1);
  CHECK(contains(plan.err, kUrl + ": cannot connect"));
  CHECK(contains(plan.err, "treat-as-revoked"));
  CHECK(contains(plan.err, "--allow-unreachable-crl"));

  auto allowed = c.plan({"--allow-unreachable-crl"});
  INFO(allowed.out << allowed.err);
  CHECK(allowed.status == 0);
  CHECK(contains(allowed.out, "Warning: " + kUrl));
  CHECK(contains(allowed.out, "40006"));
  auto apply = c.apply({"--allow-unreachable-crl"});
  CHECK(apply.status == 0);
  CHECK(node_file(c, "edge1") == before);
}

TEST_CASE("revocation: an unreachable source under treat-as-not-revoked is a warning",
          "[engine][revocation]") {
  SimCluster c = applied_cluster(1, crl_spec("treat-as-not-revoked"), "{healthTimeout: 2m}");
  // Nothing served: the fake network has no route to it.
  Assessed a = assess_now(c);
  const RevocationReport& r = a.report;
  CHECK(r.ok());
  REQUIRE(r.sources.size() == 1);
  CHECK(r.sources[0].outcome == CrlSourceReport::Outcome::kUnreachable);
  CHECK(any_contains(r.warnings, kUrl));
  REQUIRE(r.expected_alarms.count("edge1"));
  std::vector<int> ids;
  for (const auto& alarm : r.expected_alarms.at("edge1")) ids.push_back(alarm.first);
  CHECK(ids == std::vector<int>{40002, 40006});
  auto plan = c.plan();
  CHECK(plan.status == 0);
  CHECK(contains(plan.out, "Warning: " + kUrl));
}

TEST_CASE("revocation: a revoked trusted CA is reported from the manual CRL",
          "[engine][revocation]") {
  TestPki p;
  SimCluster c = applied_cluster(1, "", "{healthTimeout: 2m}");
  c.memory.put("cluster/root.pem", p.root.to_pem());
  c.memory.put("cluster/inter.pem", p.inter.to_pem());
  pki::CrlOptions o;
  o.revoked.push_back({p.inter.serial_hex(), test_now() - kDay, "cACompromise"});
  o.last_update = c.env.now() - std::chrono::hours(1);
  o.next_update = c.env.now() + kDay;
  // DER in the spec: the node gets PEM.
  pki::Crl crl = must(pki::Crl::create(p.root, p.root_key, o));
  c.memory.put("cluster/root.crl", crl.to_der());
  auto opts = c.options();
  opts.spec_extra =
      "  trustedCAs: {certificates: [root.pem, inter.pem]}\n  crl:\n    manualFile: root.crl\n";
  c.write_spec(opts);

  Assessed a = assess_now(c);
  const RevocationReport& r = a.report;
  CHECK(r.ok());
  REQUIRE(r.revoked.size() == 1);
  CHECK(r.revoked[0].peer.empty());
  CHECK(r.revoked[0].certificate == "trusted CA");
  CHECK(contains(r.revoked[0].reason, "revoked by CA Test Root CA, serial 02"));
  CHECK(contains(r.revoked[0].reason,
                 "(cACompromise), per " + a.session.spec.crl->manual_file.value()));

  auto plan = c.plan();
  INFO(plan.out << plan.err);
  CHECK(plan.status == 0);
  CHECK(contains(plan.out, "trusted CA 'CN=Test Issuing CA"));
  CHECK(contains(plan.out, "upload-manual-crl"));
  REQUIRE(c.apply().status == 0);
  // The node holds the PEM form, and the next plan finds it in place.
  auto node = c.node("edge1").read_state();
  REQUIRE(node);
  REQUIRE(node->manual_crl_sha256);
  CHECK(*node->manual_crl_sha256 == pki::sha256_fingerprint(crl.to_pem()));
  CHECK_FALSE(contains(c.plan().out, "upload-manual-crl"));
}

TEST_CASE("revocation: manual_crl_pem converts DER and keeps PEM as it is",
          "[engine][revocation]") {
  TestPki p;
  pki::CrlOptions o;
  o.last_update = test_now();
  o.next_update = test_now() + kDay;
  pki::Crl crl = must(pki::Crl::create(p.root, p.root_key, o));
  auto from_der = manual_crl_pem(crl.to_der(), "x.crl");
  REQUIRE(from_der);
  CHECK(*from_der == crl.to_pem());
  auto from_pem = manual_crl_pem(crl.to_pem(), "x.crl");
  REQUIRE(from_pem);
  CHECK(*from_pem == crl.to_pem());
  auto garbage = manual_crl_pem("garbage", "x.crl");
  REQUIRE_FALSE(garbage);
  CHECK(contains(garbage.error().message, "x.crl"));
}

TEST_CASE("revocation: an OCSP responder named in the certificate's AIA says revoked",
          "[engine][revocation][ocsp]") {
  TestPki p;
  pki::IssueOptions io = TestPki::default_issue();
  io.ocsp_url = "http://ocsp.test/";
  auto leaf_key = must(pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  pki::Certificate leaf = p.issue(leaf_key, {"edge1.example.com"}, "1A2B", io);

  testing::TempDir dir;
  dir.write("inter.pem", p.inter.to_pem());
  dir.write("inter.key", must(p.inter_key.to_pem()).str());
  dir.write("index.txt",
            fmt::format("R\t{}\t{},keyCompromise\t1A2B\tunknown\t/CN=edge1.example.com\n",
                        format_openssl_index_time(leaf.not_after()),
                        format_openssl_index_time(test_now() - kDay)));
  FakeNetwork net;
  net.handle("http://ocsp.test/", [&](const http::Request& req) -> Result<http::Response> {
    dir.write("req.der", std::string(req.body));
    sh(dir,
       "openssl ocsp -index index.txt -CA inter.pem -rsigner inter.pem -rkey inter.key "
       "-reqin req.der -respout resp.der -ndays 800");
    http::Response r;
    r.status = 200;
    r.body = pki::testing::read_text(dir.file("resp.der"));
    r.headers = {{"content-type", "application/ocsp-response"}};
    return r;
  });

  spec::Spec spec;
  spec.name = "test";
  spec::Peer peer;
  peer.name = "edge1";
  spec.peers.push_back(peer);
  DesiredTrust trust;
  trust.anchors = {p.root};
  ClusterLive live;
  NodeLive& n = live.nodes.emplace_back();
  n.peer = "edge1";
  n.state.emplace();
  n.state->server_chain = {leaf, p.inter};
  MemoryEnv env;
  RevocationOptions options;
  options.transport = net.factory();
  RevocationReport r =
      assess_revocation(spec, trust, &live, "/state/test", env, test_now(), options);
  INFO(fmt::format("{}", fmt::join(r.warnings, "\n")));
  REQUIRE(r.revoked.size() == 1);
  CHECK(r.revoked[0].ocsp);
  CHECK(r.revoked[0].peer == "edge1");
  CHECK(r.revoked[0].sha256 == leaf.sha256_fingerprint());
  CHECK(contains(r.revoked[0].reason, "revoked by CA Test Issuing CA, serial 1A2B"));
  CHECK(contains(r.revoked[0].reason, "per http://ocsp.test/"));
  CHECK(r.revoked_by_fingerprint().count(leaf.sha256_fingerprint()) == 1);

  // Without the OCSP check, nothing is asked.
  options.ocsp = false;
  const size_t asked = net.requests().size();
  RevocationReport quiet =
      assess_revocation(spec, trust, &live, "/state/test", env, test_now(), options);
  CHECK(quiet.revoked.empty());
  CHECK(net.requests().size() == asked);
}
