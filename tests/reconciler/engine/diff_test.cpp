// diff_cluster on real live state from a simulated cluster, read through a
// session: what differs, and the human reasons the plan shows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "reconciler/engine/diff.h"
#include "reconciler/engine/session.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
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

Diffed diff_of(SimCluster& c, const std::vector<std::string>& targets = {}) {
  OpenedSession opened = open_session(c.env, c.spec_path, SessionOptions{});
  if (opened.error) FAIL("open_session: " << opened.error->message);
  REQUIRE(opened.session);
  Session s = std::move(*opened.session);
  ClusterLive live = read_live(s, false, {});
  REQUIRE(live.all_readable());
  auto diff = diff_cluster(s.spec, live, s.trust, c.env, c.env.now(), targets);
  testing::require_ok(diff, "diff_cluster");
  return Diffed{std::move(s), std::move(live), std::move(*diff)};
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
