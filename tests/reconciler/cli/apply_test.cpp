// End-to-end: plan and apply through the CLI against in-process sim:// nodes.
#include <catch2/catch.hpp>

#include <regex>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/pki/checks.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Consecutive restarts must be at least the restart time apart: the next node
// was restarted only after the previous one was up again.
void check_one_node_at_a_time(SimCluster& c) {
  auto log = c.restart_log();
  for (size_t i = 1; i < log.size(); ++i) {
    INFO("restart of " << log[i].second << " at " << log[i].first << " after " << log[i - 1].second
                       << " at " << log[i - 1].first);
    CHECK(log[i].first > log[i - 1].first);
  }
}

}  // namespace

TEST_CASE("apply: a fresh 3-peer cluster reaches the spec, then plan shows no changes",
          "[reconciler][e2e]") {
  SimCluster c;
  auto plan = c.plan();
  REQUIRE(plan.status == 0);
  CHECK(contains(plan.out, "factory temporary certificate"));
  CHECK(contains(plan.out, "Plan: "));
  CHECK(contains(plan.out, "3 restarts, one node at a time"));

  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Apply complete"));
  // Progress lines carry position, node, action and elapsed time.
  CHECK(std::regex_search(r.out, std::regex(R"(\[2/3 edge2\] wait-healthy: up after [0-9.]+s)")));

  auto issuer = c.ca_certificates().front();
  for (const auto& name : c.peer_names()) {
    auto leaf = c.serving(name);
    CHECK(leaf.subject_cn() == "edge.example.com");
    CHECK(leaf.is_signed_by(issuer));
    auto dns = leaf.subject_alt_names().dns;
    CHECK(std::find(dns.begin(), dns.end(), name + ".example.com") != dns.end());
    CHECK(c.restarts(name) == 1);
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
    CHECK_FALSE(st->pending_csr);
    CHECK_FALSE(st->restart_required);
  }
  check_one_node_at_a_time(c);

  auto again = c.plan({"--detailed-exitcode"});
  CHECK(again.status == 0);
  CHECK(contains(again.out, "No changes. Live state matches the spec."));
  CHECK(c.files_with_private_keys().empty());
}

TEST_CASE("plan --detailed-exitcode: 2 with changes, --output json is the documented format",
          "[reconciler]") {
  SimCluster c(testing::with_peers(2));
  CHECK(c.plan({"--detailed-exitcode"}).status == 2);
  auto r = c.plan({"--output", "json"});
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["format_version"] == 1);
  CHECK(j["cluster"] == "test");
  CHECK(j["spec"]["sha256"].get<std::string>().size() == 64);
  CHECK(j["nodes"].contains("edge1"));
  CHECK(j["nodes"]["edge1"]["fingerprint"].get<std::string>().size() == 64);
  CHECK(j["summary"]["restarts"] == 2);
  // Every restart waits for the previous node's verification.
  std::string previous_verify;
  for (const auto& a : j["actions"]) {
    CHECK(a["disruptive"] == (a["kind"] == "restart"));
    if (a["kind"] == "restart" && !previous_verify.empty()) {
      auto deps = a["depends_on"].get<std::vector<std::string>>();
      CHECK(std::find(deps.begin(), deps.end(), previous_verify) != deps.end());
    }
    if (a["kind"] == "verify-served") previous_verify = a["id"];
  }
  CHECK_FALSE(contains(r.out, "PRIVATE KEY"));
}

TEST_CASE("reissue: a SAN change, the renewal window and a key change each trigger it",
          "[reconciler][e2e]") {
  SimCluster c(testing::with_peers(2));
  REQUIRE(c.apply().status == 0);
  auto first = c.serving("edge1").sha256_fingerprint();

  SECTION("SAN change") {
    auto o = c.options();
    o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
    c.write_spec(o);
    auto p = c.plan();
    CHECK(contains(p.out, "(missing extra.example.com)"));
    REQUIRE(c.apply().status == 0);
    auto dns = c.serving("edge1").subject_alt_names().dns;
    CHECK(std::find(dns.begin(), dns.end(), "extra.example.com") != dns.end());
  }
  SECTION("renewal window (two thirds of the lifetime by default)") {
    CHECK(c.plan({"--detailed-exitcode"}).status == 0);
    c.memory.advance(std::chrono::hours(24 * 250));  // 365-day certificates
    auto p = c.plan();
    CHECK(contains(p.out, "past 67% of its lifetime"));
    REQUIRE(c.apply().status == 0);
  }
  SECTION("renewBefore") {
    auto o = c.options();
    o.server_certificate_extra = "    renewBefore: 30d\n";
    c.write_spec(o);
    CHECK(c.plan({"--detailed-exitcode"}).status == 0);
    c.memory.advance(std::chrono::hours(24 * 340));
    CHECK(contains(c.plan().out, "inside the renewal window (renewBefore 30d)"));
    REQUIRE(c.apply().status == 0);
  }
  SECTION("key change") {
    auto o = c.options();
    o.server_certificate_extra = "";
    c.write_spec(o);
    std::string yaml = *c.memory.read_file(c.spec_path, kTestRead);
    yaml.replace(yaml.find("{algorithm: ecdsa, size: 256}"), 29, "{algorithm: ecdsa, size: 384}");
    c.memory.put(c.spec_path, yaml);
    CHECK(contains(c.plan().out, "key: live ECDSA P-256, spec ECDSA P-384"));
    REQUIRE(c.apply().status == 0);
    CHECK(c.serving("edge2").key_info().bits == 384);
  }
  CHECK(c.serving("edge1").sha256_fingerprint() != first);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
  check_one_node_at_a_time(c);
}

TEST_CASE("apply: after a kill the lock names its holder, force-unlock, then apply resumes",
          "[reconciler]") {
  int total = 0;
  {
    SimCluster probe(testing::with_peers(1));
    REQUIRE(probe.apply().status == 0);
    total = probe.env.mutations();
  }
  REQUIRE(total > 10);
  SimCluster c(testing::with_peers(1));
  c.env.crash_at_mutation(total / 2);
  CHECK(c.apply().status == 1);
  c.env.reset();
  c.memory.advance(std::chrono::seconds(30));
  auto lock = c.memory.read_file("cluster/.edgecert/state/test/lock.json", kTestRead);
  REQUIRE(lock);
  auto id = nlohmann::json::parse(*lock)["id"].get<std::string>();
  auto locked = c.apply();
  CHECK(locked.status == 1);
  CHECK(contains(locked.err, "edgecert force-unlock " + id));
  CHECK(c.cli({"force-unlock", "0123456789abcdef", c.spec_path, "--force"}).status == 1);
  REQUIRE(c.cli({"force-unlock", id, c.spec_path, "--force"}).status == 0);
  auto resumed = c.apply();
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(contains(resumed.out, "Resuming: the previous run"));
  CHECK(c.restarts("edge1") == 1);
  CHECK(c.plan({"--detailed-exitcode"}).status == 0);
}

TEST_CASE("apply: killed at every write, the next apply resumes, each node restarts exactly once",
          "[reconciler][kill]") {
  // How many writes a whole run makes.
  int total = 0;
  {
    SimCluster probe(testing::with_peers(2));
    REQUIRE(probe.apply().status == 0);
    total = probe.env.mutations();
  }
  REQUIRE(total > 20);
  for (int k = 1; k <= total; ++k) {
    for (bool torn : {false, true}) {
      DYNAMIC_SECTION("kill at write " << k << (torn ? " (torn)" : "")) {
        SimCluster c(testing::with_peers(2));
        c.env.crash_at_mutation(k, torn);
        (void)c.apply();
        c.env.reset();
        // Time passes before the operator runs apply again.
        c.memory.advance(std::chrono::seconds(30));
        if (auto lock = c.memory.read_file("cluster/.edgecert/state/test/lock.json", kTestRead)) {
          auto id = nlohmann::json::parse(*lock, nullptr, false);
          if (id.is_object())
            REQUIRE(c.cli({"force-unlock", id["id"], c.spec_path, "--force"}).status == 0);
        }
        auto r = c.apply();
        INFO("kill at " << k << "\n" << r.out << r.err);
        REQUIRE(r.status == 0);
        for (const auto& name : c.peer_names()) {
          CHECK(c.restarts(name) == 1);
          CHECK(c.serving(name).is_signed_by(c.ca_certificates().front()));
        }
        check_one_node_at_a_time(c);
        CHECK(c.plan({"--detailed-exitcode"}).status == 0);
        // The journal stays readable (a torn line is cut, not glued onto).
        auto again = c.apply();
        INFO(again.err);
        CHECK(again.status == 0);
      }
    }
  }
}
