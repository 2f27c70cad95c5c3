// Product and release checks at plan time (compat.h).
#include <catch2/catch.hpp>

#include "reconciler/engine/compat.h"

using namespace edgecert;

namespace {

spec::Spec three_peers(const std::string& scheme = "https://") {
  spec::Spec s;
  s.name = "test";
  s.product = spec::Product::kExpresswayE;
  for (int i = 1; i <= 3; ++i) {
    std::string n = "edge" + std::to_string(i);
    s.peers.push_back(
        {n, n + ".example.com", scheme + (scheme == "sim://" ? n : n + ".example.com")});
  }
  s.server_certificate.key = {spec::KeyAlgorithm::kRsa, 4096};
  return s;
}

ClusterLive live_of(const spec::Spec& s, const std::string& version = "X15.0.2") {
  ClusterLive live;
  for (const auto& p : s.peers) {
    NodeLive n;
    n.peer = p.name;
    node::NodeState st;
    st.software_version = version;
    st.product = node::Product::kExpresswayE;
    n.state = st;
    live.nodes.push_back(std::move(n));
  }
  return live;
}

bool any_has(const std::vector<std::string>& v, const std::string& s) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& x) { return x.find(s) != std::string::npos; });
}

}  // namespace

TEST_CASE("parse_release reads Expressway versions", "[engine][compat]") {
  CHECK(parse_release("X14.3.1") == Release{14, 3, 1});
  CHECK(parse_release("X15.0") == Release{15, 0, 0});
  CHECK(parse_release("x12.6.2-rc1") == Release{12, 6, 2});
  CHECK_FALSE(parse_release(""));
  CHECK_FALSE(parse_release("14.3"));
  CHECK_FALSE(parse_release("X14"));
  CHECK_FALSE(parse_release("Xabc"));
  CHECK(*parse_release("X14.2.9") < Release{14, 3, 0});
}

TEST_CASE("compat: nodes that fit give nothing", "[engine][compat]") {
  auto s = three_peers();
  auto r = check_compatibility(s, live_of(s));
  CHECK(r.errors.empty());
  CHECK(r.warnings.empty());
}

TEST_CASE("compat: the other product is an error naming the node, an unknown one a warning",
          "[engine][compat]") {
  auto s = three_peers();
  auto live = live_of(s);
  live.nodes[1].state->product = node::Product::kExpresswayC;
  live.nodes[2].state->product = node::Product::kUnknown;
  auto r = check_compatibility(s, live);
  REQUIRE(r.errors.size() == 1);
  CHECK(
      r.errors[0].starts_with("edge2: the node is an Expressway-C, but the spec is for an "
                              "Expressway-E (spec.product: expressway-e)"));
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].starts_with("edge3: the node does not say whether"));
  // A simulated node that does not say is what the spec says.
  auto sim = three_peers("sim://");
  auto sim_live = live_of(sim);
  sim_live.nodes[0].state->product = node::Product::kUnknown;
  CHECK(check_compatibility(sim, sim_live).warnings.empty());
}

TEST_CASE(
    "compat: spec features newer than the node's release are errors naming node, feature "
    "and release",
    "[engine][compat]") {
  auto s = three_peers();
  SECTION("ECDSA keys X14.3") {
    s.server_certificate.key = {spec::KeyAlgorithm::kEcdsa, 256};
    auto live = live_of(s);
    live.nodes[0].state->software_version = "X14.2.1";
    auto r = check_compatibility(s, live);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] ==
          "edge1: the node runs X14.2.1, but ECDSA keys (serverCertificate.key.algorithm: ecdsa) "
          "need X14.3 or later");
    CHECK(any_has(r.warnings, "different releases (edge1 X14.2.1, edge2 X15.0.2, edge3 X15.0.2)"));
  }
  SECTION("ACME service X12.5 and the CSRF header X14.2 on https://") {
    s.server_certificate.issuer = spec::ExpresswayAcmeIssuer{};
    auto r = check_compatibility(s, live_of(s, "X12.4.1"));
    CHECK(any_has(r.errors, "edge3: the node runs X12.4.1, but the Expressway-E ACME service"));
    CHECK(any_has(r.errors, "need X12.5 or later"));
    CHECK(any_has(r.errors,
                  "edge2: the node runs X12.4.1, but edgecert's https:// writes send "
                  "the X-CSRF-Header"));
    CHECK(r.errors.size() == 6);
  }
  SECTION("FQDN phone security profile names X12.6") {
    s.server_certificate.phone_security_profiles = {"phone.example.com"};
    auto r = check_compatibility(s, live_of(s, "X14.3.0"));
    CHECK(r.errors.empty());
    auto old = check_compatibility(three_peers("sim://"), live_of(three_peers("sim://"), "X12.5"));
    CHECK(old.errors.empty());  // no profiles, sim://: nothing gated
    auto sim = three_peers("sim://");
    sim.server_certificate.phone_security_profiles = {"phone.example.com"};
    auto gated = check_compatibility(sim, live_of(sim, "X12.5"));
    REQUIRE(gated.errors.size() == 3);
    CHECK(gated.errors[0].find("phone security profile names") != std::string::npos);
    CHECK(gated.errors[0].find("X12.6") != std::string::npos);
  }
  SECTION("an unreadable version is a warning") {
    auto r = check_compatibility(s, live_of(s, "unknown"));
    CHECK(r.errors.empty());
    CHECK(any_has(r.warnings, "edge1: the node's software version 'unknown' does not read"));
  }
}

TEST_CASE("compat: the node's own peer list must be the spec's peers", "[engine][compat]") {
  auto s = three_peers();
  auto live = live_of(s);
  // By FQDN, any order and case; by endpoint host too.
  live.nodes[0].state->cluster_peers =
      std::vector<std::string>{"EDGE2.example.com", "edge1.example.com", "edge3.example.com"};
  CHECK(check_compatibility(s, live).errors.empty());
  live.nodes[1].state->cluster_peers =
      std::vector<std::string>{"edge1.example.com", "edge2.example.com", "edge9.example.com"};
  auto r = check_compatibility(s, live);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].starts_with("edge2: the node's own cluster peer list"));
  CHECK(any_has(r.errors,
                "is [edge1.example.com, edge2.example.com, edge9.example.com], the "
                "spec's peers are [edge1.example.com, edge2.example.com, "
                "edge3.example.com] (spec peers it does not list: edge3.example.com; "
                "peers it lists that the spec does not have: edge9.example.com)"));
  // A standalone node and a one-peer spec agree.
  auto one = three_peers();
  one.peers.resize(1);
  auto one_live = live_of(one);
  one_live.nodes[0].state->cluster_peers = std::vector<std::string>{};
  CHECK(check_compatibility(one, one_live).errors.empty());
}
