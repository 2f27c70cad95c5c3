// diff_cluster's `replace` list (--replace): a matching certificate is
// reissued anyway, with the reason the plan shows; nothing else changes.
#include <catch2/catch.hpp>

#include "reconciler/engine/diff.h"
#include "reconciler/engine/session.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;

TEST_CASE("diff: replace reissues a certificate that matches the spec, only that node's",
          "[engine][diff][replace]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  OpenedSession opened = open_session(c.env, c.spec_path, SessionOptions{});
  REQUIRE(opened.session);
  ClusterLive live = read_live(*opened.session, false, {});
  REQUIRE(live.all_readable());
  const Session& s = *opened.session;

  auto plain = diff_cluster(s.spec, live, s.trust, c.env, c.env.now());
  testing::require_ok(plain, "diff_cluster");
  CHECK_FALSE(plain->has_changes());

  auto forced = diff_cluster(s.spec, live, s.trust, c.env, c.env.now(), {}, {"edge2"});
  testing::require_ok(forced, "diff_cluster with replace");
  const NodeDiff* edge1 = forced->find("edge1");
  const NodeDiff* edge2 = forced->find("edge2");
  REQUIRE(edge1);
  REQUIRE(edge2);
  CHECK(edge1->certificate == CertificateChange::kNone);
  CHECK_FALSE(edge1->has_changes());
  CHECK(edge2->certificate == CertificateChange::kReissue);
  CHECK(edge2->certificate_reasons ==
        std::vector<std::string>{"replacement requested with --replace"});
  // The certificate it replaces is the one it serves (revokeSuperseded).
  REQUIRE(edge2->superseded);
  CHECK(edge2->superseded->sha256_fingerprint() == c.serving("edge2").sha256_fingerprint());
  // Cluster TLS verification is relaxed for the rollout and restored after.
  CHECK_FALSE(forced->tls.relax.empty());
}
