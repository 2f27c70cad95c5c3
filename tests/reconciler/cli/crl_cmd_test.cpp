// `edgecert crl check` (table, JSON, exit codes, which node certificates a
// CRL revokes) and what `status` says about revocation (revoked
// certificates, the CRL alarms a node would raise), in-process over sim://
// nodes with a FakeNetwork for the distribution points.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include <fmt/core.h>

#include "providers/pki/crl.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::pki::testing::kDay;
using edgecert::pki::testing::must;
using edgecert::testing::SimCluster;

namespace {

const std::string kGood = "http://crl.test/good.crl";
const std::string kDead = "http://crl.test/dead.crl";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

SimCluster cluster_with_points(const std::vector<std::string>& points) {
  testing::SimClusterOptions o = testing::with_peers(2);
  o.spec_extra = fmt::format(
      "  crl:\n    automaticUpdates:\n      enabled: true\n      distributionPoints: [{}]\n",
      fmt::join(points, ", "));
  return SimCluster(o);
}

pki::Crl revoking(SimCluster& c, const std::vector<std::string>& serials) {
  auto pem = c.memory.read_file("cluster/ca/private/cakey.pem", kTestRead);
  REQUIRE(pem);
  auto key = must(pki::PrivateKey::parse(*pem, "cakey.pem"));
  pki::CrlOptions o;
  for (const auto& s : serials) o.revoked.push_back({s, c.env.now() - std::chrono::hours(3), ""});
  o.last_update = c.env.now() - std::chrono::hours(1);
  o.next_update = c.env.now() + 7 * kDay;
  return must(pki::Crl::create(c.ca_certificates().front(), key, o));
}

}  // namespace

TEST_CASE("crl check: a table of every source, what it revokes, exit 0 when all are good",
          "[cli][crl]") {
  SimCluster c = cluster_with_points({kGood});
  c.network.serve(kGood, revoking(c, {}).to_der());
  REQUIRE(c.apply().status == 0);
  const pki::Certificate edge2 = c.serving("edge2");
  c.network.serve(kGood, revoking(c, {edge2.serial_hex()}).to_der());

  auto r = c.cli({"crl", "check", c.spec_path});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  for (const char* h : {"SOURCE", "FORMAT", "ISSUER", "THIS UPDATE", "NEXT UPDATE", "ENTRIES",
                        "SIGNATURE", "VERDICT"})
    CHECK(contains(r.out, h));
  CHECK(contains(r.out, kGood));
  CHECK(contains(r.out, "DER"));
  CHECK(contains(r.out, "Test Issuing CA"));
  CHECK(contains(r.out, "valid"));
  CHECK(contains(
      r.out, kGood + " revokes: edge2 serving certificate (serial " + edge2.serial_hex() + ")"));
  CHECK_FALSE(contains(r.out, "edge1 serving"));

  auto j = c.cli({"crl", "check", c.spec_path, "--output", "json"});
  INFO(j.out << j.err);
  CHECK(j.status == 0);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["ok"] == true);
  REQUIRE(doc["sources"].size() == 1);
  CHECK(doc["sources"][0]["source"] == kGood);
  CHECK(doc["sources"][0]["outcome"] == "ok");
  CHECK(doc["sources"][0]["crls"][0]["entries"] == 1);
  CHECK(doc["sources"][0]["crls"][0]["signature"] == "valid");
  REQUIRE(doc["revoked"].size() == 1);
  CHECK(doc["revoked"][0]["peer"] == "edge2");
  CHECK(doc["revoked"][0]["serial"] == edge2.serial_hex());

  // status: the finding per node.
  auto st = c.cli({"status", c.spec_path});
  INFO(st.out << st.err);
  CHECK(contains(st.out, "edge2: serving certificate (serial " + edge2.serial_hex() +
                             ") is revoked by CA Test Issuing CA"));
  auto sj = c.cli({"status", c.spec_path, "--output", "json"});
  auto sdoc = nlohmann::json::parse(sj.out);
  CHECK(sdoc["nodes"][1]["revoked"].size() == 1);
  CHECK(sdoc["nodes"][0]["revoked"].empty());
}

TEST_CASE("crl check: a failing source makes exit 1, and status shows the alarms nodes would raise",
          "[cli][crl]") {
  SimCluster c = cluster_with_points({kGood, kDead});
  c.network.serve(kGood, revoking(c, {}).to_pem());
  c.network.serve(kDead, "<html>gone</html>", 404);

  auto r = c.cli({"crl", "check", c.spec_path});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.out, kDead));
  CHECK(contains(r.out, "unreachable"));
  CHECK(contains(r.out, "404"));

  auto j = c.cli({"crl", "check", c.spec_path, "-o", "json"});
  CHECK(j.status == 1);
  auto doc = nlohmann::json::parse(j.out);
  REQUIRE(doc["sources"].size() == 2);
  CHECK(doc["sources"][0]["outcome"] == "ok");
  CHECK(doc["sources"][1]["outcome"] == "unreachable");

  auto st = c.cli({"status", c.spec_path});
  INFO(st.out << st.err);
  CHECK(contains(st.out, "edge1: CRL alarms this node would raise: 40002"));
  CHECK(contains(st.out, "40006"));
  auto sj = c.cli({"status", c.spec_path, "--output", "json"});
  auto sdoc = nlohmann::json::parse(sj.out);
  REQUIRE(sdoc["nodes"][0]["expected_crl_alarms"].size() == 2);
  CHECK(sdoc["nodes"][0]["expected_crl_alarms"][1]["id"] == 40006);

  c.network.serve(kDead, "garbage that is no CRL");
  auto bad = c.cli({"crl", "check", c.spec_path});
  INFO(bad.out << bad.err);
  CHECK(bad.status == 1);
  CHECK(contains(bad.out, "error: " + kDead));
}

TEST_CASE("crl check: a spec without CRL sources says so", "[cli][crl]") {
  SimCluster c(testing::with_peers(1));
  auto r = c.cli({"crl", "check", c.spec_path});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "no CRL source"));
}
