// diff_cluster on real live state from a simulated cluster, read through a
// session: what differs, and the human reasons the plan shows. The diff sees
// every field the spec sets (issue 12): subject fields, the retained key,
// extended key usage; `digest` is the CSR's only; every reason names the
// field and both values; the live trusted CA list and manual CRL; the chat
// node aliases an Expressway-C adds itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/session.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::pki::testing::kDay;
using edgecert::pki::testing::must;
using edgecert::pki::testing::test_now;
using edgecert::pki::testing::TestPki;
using edgecert::testing::SimCluster;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines)
    if (contains(l, needle)) return true;
  return false;
}

struct Diffed {
  Session session;
  ClusterLive live;
  ClusterDiff diff;
};

// The session, live state and diff of a simulated cluster; the diff may be
// refused (the live trust checks).
struct TriedDiff {
  Session session;
  ClusterLive live;
  Result<ClusterDiff> diff;
};

TriedDiff try_diff_of(SimCluster& c, const std::vector<std::string>& targets = {}) {
  OpenedSession opened = open_session(c.env, c.spec_path, SessionOptions{});
  if (opened.error) FAIL("open_session: " << opened.error->message);
  REQUIRE(opened.session);
  Session s = std::move(*opened.session);
  ClusterLive live = read_live(s, false, {});
  REQUIRE(live.all_readable());
  auto diff = diff_cluster(s.spec, live, s.trust, c.env, c.env.now(), targets);
  return TriedDiff{std::move(s), std::move(live), std::move(diff)};
}

Diffed diff_of(SimCluster& c, const std::vector<std::string>& targets = {}) {
  TriedDiff t = try_diff_of(c, targets);
  testing::require_ok(t.diff, "diff_cluster");
  return Diffed{std::move(t.session), std::move(t.live), std::move(*t.diff)};
}

}  // namespace

TEST_CASE("diff: a fresh cluster serves factory certificates and lacks the issuer's CA",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  Diffed d = diff_of(c);
  CHECK(d.diff.has_changes());
  CHECK(d.diff.any_certificate_change());
  REQUIRE(d.diff.nodes.size() == 2);
  auto ca = c.ca_certificates().front().sha256_fingerprint();
  for (const auto& n : d.diff.nodes) {
    INFO(n.peer);
    CHECK(n.has_changes());
    CHECK(n.certificate == CertificateChange::kReissue);
    CHECK(any_contains(n.certificate_reasons, "factory temporary certificate"));
    REQUIRE(n.missing_cas.size() == 1);
    CHECK(n.missing_cas[0].sha256_fingerprint() == ca);
    CHECK(n.desired.common_name == "edge.example.com");
    CHECK(n.desired.peer_fqdn == n.peer + ".example.com");
    REQUIRE(n.superseded);
    CHECK(is_factory_certificate(*n.superseded));
    CHECK_FALSE(n.reuse_pending_csr);
  }
  CHECK(d.diff.find("edge2") == &d.diff.nodes[1]);
  CHECK(d.diff.find("edge9") == nullptr);
}

TEST_CASE("diff: after apply nothing differs, the renewal window brings a reissue back",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  {
    Diffed d = diff_of(c);
    CHECK_FALSE(d.diff.has_changes());
    for (const auto& n : d.diff.nodes) {
      CHECK(n.certificate == CertificateChange::kNone);
      CHECK(n.certificate_reasons.empty());
      CHECK(n.missing_cas.empty());
      CHECK_FALSE(n.tls);
    }
  }
  c.memory.advance(std::chrono::hours(24 * 250));  // 365-day certificates, renew at 2/3
  Diffed d = diff_of(c);
  CHECK(d.diff.any_certificate_change());
  for (const auto& n : d.diff.nodes) {
    INFO(n.peer);
    CHECK(n.certificate == CertificateChange::kReissue);
    CHECK(any_contains(n.certificate_reasons, "past 67% of its lifetime"));
    // Still valid for the purpose of restoring TLS verification.
    const NodeLive* live = d.live.find(n.peer);
    REQUIRE(live);
    auto lenient = assess_certificate(live->state->server_chain, n.desired, d.session.trust,
                                      d.session.spec.server_certificate, c.env.now(), false);
    CHECK(lenient.ok);
    CHECK(lenient.problems.empty());
  }
}

TEST_CASE("diff: a SAN change gives a reissue whose reason names the missing name",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  auto o = c.options();
  o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  c.write_spec(o);
  Diffed d = diff_of(c);
  for (const auto& n : d.diff.nodes) {
    INFO(n.peer);
    CHECK(n.certificate == CertificateChange::kReissue);
    REQUIRE(n.certificate_reasons.size() == 1);
    CHECK(n.certificate_reasons[0] ==
          fmt::format("subject alternative names: live [edge.example.com, {0}.example.com], "
                      "spec [edge.example.com, {0}.example.com, extra.example.com] (missing "
                      "extra.example.com)",
                      n.peer));
    CHECK(std::find(n.desired.subject_alt_names.begin(), n.desired.subject_alt_names.end(),
                    "extra.example.com") != n.desired.subject_alt_names.end());
  }
}

namespace {

// The desired profile TestPki's leaf satisfies (CN edge1, SANs edge1 +
// cluster, O "Example Ltd", ECDSA P-256, serverAuth + clientAuth).
DesiredCertificate desired_for_leaf() {
  DesiredCertificate d;
  d.peer_name = "edge1";
  d.peer_fqdn = "edge1.example.com";
  d.common_name = "edge1.example.com";
  d.subject_alt_names = {"edge1.example.com", "cluster.example.com"};
  d.subject.organization = "Example Ltd";
  d.key = {pki::KeyAlgorithm::kEcdsa, 256};
  d.digest = pki::Digest::kSha256;
  return d;
}

struct Checked {
  TestPki pki;
  DesiredTrust trust;
  spec::ServerCertificate config;
  Checked() {
    trust.issuer_cas = {pki.inter};
    trust.anchors = {pki.root};
  }
  Assessment assess(const pki::Certificate& leaf, const DesiredCertificate& d) {
    return assess_certificate({leaf, pki.inter}, d, trust, config, test_now());
  }
};

const NodeDiff& node_of(const TriedDiff& d, const std::string& peer) {
  REQUIRE(d.diff.has_value());
  const NodeDiff* n = d.diff->find(peer);
  REQUIRE(n);
  return *n;
}

// Rewrites the cluster's spec with `change` applied to its options.
template <class F>
void respec(SimCluster& c, F change) {
  auto o = c.options();
  change(o);
  c.write_spec(o);
}

std::string spki_of(SimCluster& c, const std::string& node) {
  return pki::spki_sha256(c.serving(node));
}

}  // namespace

TEST_CASE("assess: a matching certificate passes, the CA's own hash is not the spec's digest",
          "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  d.digest = pki::Digest::kSha384;  // the leaf is signed with SHA-256: the CA's choice
  Assessment a = c.assess(c.pki.leaf, d);
  CHECK(a.ok);
  CHECK(a.problems.empty());
  CHECK(a.warnings.empty());
}

TEST_CASE("assess: a CA signature hash weaker than SHA-256 is a warning, not a problem",
          "[engine][diff]") {
  Checked c;
  testing::TempDir dir;
  dir.write("inter.pem", c.pki.inter.to_pem());
  dir.write("inter.key", std::string(must(c.pki.inter_key.to_pem()).view()));
  pki::CsrOptions o;
  o.common_name = "edge1.example.com";
  o.dns_names = {"edge1.example.com", "cluster.example.com"};
  o.subject.organization = "Example Ltd";
  dir.write("leaf.csr", must(pki::CertificateRequest::create(c.pki.leaf_key, o)).to_pem());
  dir.write("ext.cnf",
            "extendedKeyUsage=serverAuth,clientAuth\n"
            "subjectAltName=DNS:edge1.example.com,DNS:cluster.example.com\n");
  pki::testing::sh(dir,
                   "openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -set_serial 77 "
                   "-days 30 -sha1 -extfile ext.cnf -out leaf.pem");
  pki::Certificate sha1_leaf =
      must(pki::Certificate::parse_one(pki::testing::read_text(dir.file("leaf.pem")), "leaf.pem"));
  REQUIRE(sha1_leaf.signature_digest() == "sha1");
  Assessment a = assess_certificate({sha1_leaf, c.pki.inter}, desired_for_leaf(), c.trust, c.config,
                                    sha1_leaf.not_before() + kDay);
  CHECK(any_contains(a.warnings, "the CA signed the certificate with sha1, weaker than SHA-256"));
  CHECK_FALSE(any_contains(a.problems, "signed with"));
  CHECK(c.assess(c.pki.leaf, desired_for_leaf()).warnings.empty());
}

TEST_CASE("assess: every reason names the field and both values", "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  d.common_name = "edge.example.com";
  d.subject_alt_names = {"edge.example.com", "edge1.example.com", "extra.example.com"};
  d.subject.organization = "Example GK";
  d.subject.email = "pki@example.com";
  d.key = {pki::KeyAlgorithm::kEcdsa, 384};
  Assessment a = c.assess(c.pki.leaf, d);
  CHECK_FALSE(a.ok);
  CHECK(any_contains(a.problems, "common name: live 'edge1.example.com', spec 'edge.example.com'"));
  CHECK(any_contains(a.problems,
                     "subject alternative names: live [edge1.example.com, cluster.example.com], "
                     "spec [edge.example.com, edge1.example.com, extra.example.com] (missing "
                     "edge.example.com, extra.example.com, not in the spec cluster.example.com)"));
  CHECK(any_contains(a.problems, "subject.organization: live 'Example Ltd', spec 'Example GK'"));
  CHECK(any_contains(a.problems, "subject.email: live '', spec 'pki@example.com'"));
  CHECK(any_contains(a.problems, "key: live ECDSA P-256, spec ECDSA P-384"));
}

TEST_CASE("assess: the issuer is named with both values", "[engine][diff]") {
  Checked c;
  TestPki other;
  c.trust.issuer_cas = {other.inter};
  Assessment a = c.assess(c.pki.leaf, desired_for_leaf());
  CHECK(any_contains(a.problems,
                     "issuer: live 'Test Issuing CA', spec openssl-ca 'Test Issuing CA'"));
}

TEST_CASE("assess: subject fields count only when the issuer copies them from the CSR",
          "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  d.subject.organization = "Example GK";
  CHECK_FALSE(c.assess(c.pki.leaf, d).ok);
  d.issuer_copies_subject = false;  // an ACME CA writes its own subject
  CHECK(c.assess(c.pki.leaf, d).ok);
}

TEST_CASE("assess: clientAuth is required unless the spec opts into serverAuth-only",
          "[engine][diff]") {
  Checked c;
  pki::IssueOptions o = TestPki::default_issue();
  o.extended_key_usage = {"serverAuth"};
  pki::Certificate server_only =
      c.pki.issue(c.pki.leaf_key, {"edge1.example.com", "cluster.example.com"}, "2001", o);
  DesiredCertificate d = desired_for_leaf();
  Assessment a = c.assess(server_only, d);
  CHECK_FALSE(a.ok);
  CHECK(any_contains(a.problems,
                     "extended key usage: live serverAuth, spec serverAuth+clientAuth (missing "
                     "clientAuth"));
  d.required_extended_key_usage = {"serverAuth"};
  CHECK(c.assess(server_only, d).ok);
}

TEST_CASE("assess: keyRotation retain wants the current key's SPKI", "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  d.retained_spki = pki::spki_sha256(c.pki.leaf);
  CHECK(c.assess(c.pki.leaf, d).ok);
  pki::PrivateKey other = must(pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  pki::Certificate rekeyed =
      c.pki.issue(other, {"edge1.example.com", "cluster.example.com"}, "2002");
  Assessment a = c.assess(rekeyed, d);
  CHECK_FALSE(a.ok);
  CHECK(any_contains(a.problems, "spec keyRotation: retain wants the current key"));
  CHECK(any_contains(a.problems, pki::spki_sha256(rekeyed).substr(0, 23)));
}

TEST_CASE("apply_key_retention: keeps a key of the spec's shape, never the factory one",
          "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  CHECK(apply_key_retention(d, {c.pki.leaf}).empty());
  CHECK(d.retained_spki.empty());  // rotate: nothing to keep
  d.key_rotation = spec::KeyRotation::kRetain;
  CHECK(apply_key_retention(d, {c.pki.leaf}).empty());
  CHECK(d.retained_spki == pki::spki_sha256(c.pki.leaf));
  d.key = {pki::KeyAlgorithm::kRsa, 4096};
  CHECK(contains(apply_key_retention(d, {c.pki.leaf}),
                 "cannot keep the current key (live ECDSA P-256, spec RSA 4096)"));
  CHECK(d.retained_spki.empty());
}

TEST_CASE("assess and CSRs: Expressway-C's own chat node aliases are tolerated, noted",
          "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  d.subject_alt_names = {"edge1.example.com"};
  Assessment on_e = c.assess(c.pki.leaf, d);
  CHECK(any_contains(on_e.problems, "not in the spec cluster.example.com"));
  d.node_adds_chat_node_aliases = true;  // expressway-c
  Assessment on_c = c.assess(c.pki.leaf, d);
  CHECK(on_c.ok);
  CHECK(any_contains(on_c.notes, "also names cluster.example.com: tolerated"));
  CHECK(tolerated_extra_names({"edge1.example.com", "chat1.example.com", "*.example.com", "chat1"},
                              d) == std::vector<std::string>{"chat1.example.com"});

  pki::CsrOptions o;
  o.common_name = "edge1.example.com";
  o.dns_names = {"edge1.example.com", "chat1.example.com"};
  o.subject.organization = "Example Ltd";
  auto req = must(pki::CertificateRequest::create(c.pki.leaf_key, o));
  node::PendingCsr csr = must(node::pending_csr_from_pem(req.to_pem()));
  CHECK(csr_matches(csr, d));
  d.node_adds_chat_node_aliases = false;
  CHECK(any_contains(csr_differences(csr, d), "not in the spec chat1.example.com"));
}

TEST_CASE("csr_differences: subject, digest and the retained key, each with both values",
          "[engine][diff]") {
  Checked c;
  DesiredCertificate d = desired_for_leaf();
  pki::CsrOptions o;
  o.common_name = "edge1.example.com";
  o.dns_names = d.subject_alt_names;
  o.subject.organization = "Example KK";
  auto req = must(pki::CertificateRequest::create(c.pki.leaf_key, o));
  node::PendingCsr csr = must(node::pending_csr_from_pem(req.to_pem()));
  d.digest = pki::Digest::kSha384;
  d.retained_spki = pki::spki_sha256(c.pki.root);
  auto why = csr_differences(csr, d);
  CHECK(any_contains(why, "subject.organization: live 'Example KK', spec 'Example Ltd'"));
  CHECK(any_contains(why, "digest: CSR sha256, spec sha384"));
  CHECK(any_contains(why, "public key: CSR SPKI"));
  CHECK_FALSE(csr_matches(csr, d));
}

TEST_CASE("diff: a subject change reissues naming the field, after apply nothing differs",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  respec(c, [](auto& o) {
    o.subject = "{country: JP, organization: Example GK, email: pki@example.com}";
  });
  {
    TriedDiff d = try_diff_of(c);
    const NodeDiff& n = node_of(d, "edge1");
    CHECK(n.certificate == CertificateChange::kReissue);
    CHECK(any_contains(n.certificate_reasons,
                       "subject.organization: live 'Example KK', spec 'Example GK'"));
    CHECK(any_contains(n.certificate_reasons, "subject.email: live '', spec 'pki@example.com'"));
  }
  REQUIRE(c.apply().status == 0);
  TriedDiff d = try_diff_of(c);
  REQUIRE(d.diff.has_value());
  CHECK_FALSE(d.diff->has_changes());
  auto subject = pki::subject_fields_of(c.serving("edge1").subject_attributes());
  CHECK(subject.organization == "Example GK");
  CHECK(subject.email == "pki@example.com");
}

TEST_CASE("diff: digest is the CSR's, a certificate the CA signed with SHA-256 stays",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(1));
  REQUIRE(c.apply().status == 0);
  REQUIRE(c.serving("edge1").signature_digest() == "sha256");
  respec(c, [](auto& o) { o.server_certificate_extra = "    digest: sha384\n"; });
  TriedDiff d = try_diff_of(c);
  REQUIRE(d.diff.has_value());
  CHECK_FALSE(d.diff->has_changes());
  CHECK(contains(c.plan().out, "No changes"));
}

TEST_CASE("diff: keyRotation retain keeps the public key across a reissue", "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  respec(c, [](auto& o) { o.server_certificate_extra = "    keyRotation: retain\n"; });
  REQUIRE(c.apply().status == 0);  // from the factory certificate: a new key
  std::string before = spki_of(c, "edge1");
  std::string served_before = c.serving("edge1").sha256_fingerprint();
  respec(c, [](auto& o) {
    o.server_certificate_extra =
        "    keyRotation: retain\n    additionalNames: [extra.example.com]\n";
  });
  {
    TriedDiff d = try_diff_of(c);
    const NodeDiff& n = node_of(d, "edge1");
    CHECK(n.certificate == CertificateChange::kReissue);
    CHECK(n.desired.retained_spki == before);
  }
  auto applied = c.apply();
  INFO(applied.out << applied.err);
  REQUIRE(applied.status == 0);
  CHECK(c.serving("edge1").sha256_fingerprint() != served_before);
  CHECK(spki_of(c, "edge1") == before);
  TriedDiff d = try_diff_of(c);
  REQUIRE(d.diff.has_value());
  CHECK_FALSE(d.diff->has_changes());
}

TEST_CASE("diff: under retain a CSR with a new key is not reused", "[engine][diff]") {
  SimCluster c(testing::with_peers(1));
  respec(c, [](auto& o) { o.server_certificate_extra = "    keyRotation: retain\n"; });
  REQUIRE(c.apply().status == 0);
  respec(c, [](auto& o) {
    o.server_certificate_extra =
        "    keyRotation: retain\n    additionalNames: [extra.example.com]\n";
  });
  node::CsrRequest r;
  r.common_name = "edge1.example.com";
  r.dns_names = {"edge1.example.com", "extra.example.com"};
  r.subject = {"JP", "", "", "Example KK", "", ""};
  r.key_algorithm = pki::KeyAlgorithm::kEcdsa;
  r.key_size = 256;
  testing::require_ok(c.node("edge1").generate_csr(r), "CSR with a new key");
  TriedDiff d = try_diff_of(c);
  const NodeDiff& n = node_of(d, "edge1");
  CHECK_FALSE(n.reuse_pending_csr);
  CHECK(n.discard_pending_csr);
  CHECK(contains(n.discard_reason, "spec keyRotation: retain wants the current key"));
}

TEST_CASE("diff: a crl section without manualFile removes the node's manual CRL",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(1));
  REQUIRE(c.apply().status == 0);
  auto crl =
      default_env().read_file(testing::test_data("schema/corpus/files/manual-crl.pem"), kTestRead);
  REQUIRE(crl);
  testing::require_ok(c.node("edge1").upload_manual_crl(*crl), "manual CRL");
  {
    TriedDiff d = try_diff_of(c);
    REQUIRE(d.diff.has_value());
    CHECK_FALSE(d.diff->has_changes());  // no crl section: not managed
  }
  respec(c, [](auto& o) { o.spec_extra = "  crl:\n    automaticUpdates: {enabled: false}\n"; });
  {
    TriedDiff d = try_diff_of(c);
    CHECK(node_of(d, "edge1").remove_manual_crl);
  }
  auto plan = c.plan();
  CHECK(contains(plan.out, "remove-manual-crl"));
  REQUIRE(c.apply().status == 0);
  auto st = c.node("edge1").read_state();
  REQUIRE(st);
  CHECK_FALSE(st->manual_crl_sha256.has_value());
  CHECK(contains(c.plan().out, "No changes"));
}

TEST_CASE("diff: two self-signed CAs with one CN on a node's live list refuse the plan",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  // Another self-signed root with the issuer's CN, added on edge2 by hand.
  pki::PrivateKey key = must(pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  pki::CaOptions ca;
  ca.common_name = "Test Issuing CA";
  ca.not_before = c.env.now() - kDay;
  ca.not_after = c.env.now() + 365 * kDay;
  pki::Certificate twin = must(pki::create_self_signed_ca(key, ca));
  testing::require_ok(c.node("edge2").append_trusted_cas(twin.to_pem()), "append twin");
  TriedDiff d = try_diff_of(c);
  REQUIRE_FALSE(d.diff.has_value());
  CHECK(contains(d.diff.error().message, "edge2:"));
  CHECK(contains(d.diff.error().message, "CN 'Test Issuing CA'"));
  auto plan = c.plan();
  CHECK(plan.status == 1);
  CHECK(contains(plan.err, "edge2"));
  CHECK(contains(plan.err, "Test Issuing CA"));
}

TEST_CASE("diff and plan: the factory temporary certificate and CA are named as such",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(1));
  TriedDiff d = try_diff_of(c);
  const NodeDiff& n = node_of(d, "edge1");
  CHECK(any_contains(n.certificate_reasons,
                     "the factory temporary certificate (issued by the factory TEMPORARY CA "
                     "'TEMPORARY CA "));
  auto status = c.cli({"status", c.spec_path});
  CHECK(contains(status.out, "edge1: serves the factory temporary certificate"));
  CHECK(contains(status.out, "edge1: trusts the factory TEMPORARY CA 'TEMPORARY CA "));
  respec(c, [](auto& o) {
    o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem], prune: true}\n";
  });
  auto plan = c.plan();
  CHECK(contains(plan.out, "the factory TEMPORARY CA 'TEMPORARY CA "));
}

TEST_CASE("diff: an Expressway-C that adds its chat node aliases gives no reissue loop",
          "[engine][diff]") {
  auto o = testing::with_peers(1);
  o.product = "expressway-c";
  SimCluster c(o);
  testing::require_ok(c.node("edge1").ensure_booted(), "boot");
  testing::require_ok(c.node("edge1").set_chat_node_aliases({"chatnode1.example.com"}), "aliases");
  auto first = c.apply();
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  auto dns = c.serving("edge1").subject_alt_names().dns;
  CHECK(std::find(dns.begin(), dns.end(), "chatnode1.example.com") != dns.end());
  auto plan = c.plan();
  CHECK(contains(plan.out, "No changes"));
  CHECK(contains(plan.out, "chatnode1.example.com: tolerated"));
}

TEST_CASE("plan text: settings in the spec's own units", "[engine][plan]") {
  SimCluster c(testing::with_peers(1));
  REQUIRE(c.apply().status == 0);
  respec(c, [](auto& o) {
    o.spec_extra =
        "  crl:\n    automaticUpdates:\n      enabled: true\n      distributionPoints: "
        "[http://crl.example.com/root.crl]\n      dailyUpdateTime: \"03:15\"\n";
  });
  auto plan = c.plan();
  CHECK(contains(plan.out, "daily_update_time: 00:00 -> 03:15"));
  CHECK_FALSE(contains(plan.out, "195"));
}

TEST_CASE("diff: more than 1000 CAs on a node's list after the plan is a warning, not an error",
          "[engine][diff]") {
  SimCluster c(testing::with_peers(1));
  OpenedSession opened = open_session(c.env, c.spec_path, SessionOptions{});
  REQUIRE(opened.session);
  Session s = std::move(*opened.session);
  ClusterLive live = read_live(s, false, {});
  REQUIRE(live.all_readable());
  // One key for all CAs keeps this fast; only the fingerprints must differ.
  pki::PrivateKey key = must(pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  auto& cas = live.nodes[0].state->trusted_cas;
  for (size_t i = 0; i < pki::kMaxTrustedCas; ++i) {
    pki::CaOptions o;
    o.common_name = fmt::format("Bulk CA {}", i);
    o.not_before = c.env.now() - kDay;
    o.not_after = c.env.now() + 365 * kDay;
    o.serial_hex = fmt::format("{:X}", i + 1);
    cas.push_back(must(pki::create_self_signed_ca(key, o)));
  }
  auto diff = diff_cluster(s.spec, live, s.trust, c.env, c.env.now());
  testing::require_ok(diff, "diff");
  const NodeDiff* n = diff->find("edge1");
  REQUIRE(n);
  CHECK(any_contains(n->notes, fmt::format("warning: after this plan the node's trusted CA list "
                                           "holds {} certificates, above the guide's recommended "
                                           "maximum of 1000",
                                           cas.size() + n->missing_cas.size())));
}
