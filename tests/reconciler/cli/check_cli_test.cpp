// `edgecert check` over sim:// clusters: exit 0/2/1, drift by kind, expiry
// and renewal, alarms, the last apply, the metrics file, folders of specs,
// and one broken cluster never hiding another.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/sim/sim_provider.h"
#include "reconciler/engine/check.h"
#include "reconciler/engine/journal.h"
#include "reconciler/engine/lock.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using testing::SimCluster;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string metrics(SimCluster& c, const std::string& path = "cluster/metrics.prom") {
  auto m = c.memory.read_file(path, kTestRead);
  REQUIRE(m);
  return *m;
}

}  // namespace

TEST_CASE("check: a cluster that differs from its spec exits 2 and names the drift", "[check]") {
  SimCluster c;
  auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
  INFO(r.out << r.err);
  CHECK(r.status == 2);
  CHECK(has(r.out, "test (cluster/spec.yaml): NEEDS APPLY"));
  CHECK(has(r.out, "generate-csr"));
  const std::string m = metrics(c);
  CHECK(has(m, "edgecert_check_success{cluster=\"test\",spec=\"cluster/spec.yaml\"} 1\n"));
  for (const char* node : {"edge1", "edge2", "edge3"}) {
    CHECK(has(
        m, fmt::format("edgecert_drift{{cluster=\"test\",node=\"{}\",kind=\"generate-csr\"}} 1\n",
                       node)));
    // Kinds the plan does not have are there with 0, so an alert resolves.
    CHECK(has(
        m,
        fmt::format("edgecert_drift{{cluster=\"test\",node=\"{}\",kind=\"remove-manual-crl\"}} 0\n",
                    node)));
  }
  CHECK(has(m, "edgecert_lock_held{cluster=\"test\"} 0\n"));
  CHECK_FALSE(has(m, "edgecert_last_apply_timestamp_seconds"));  // never applied
  CHECK(has(m, "# TYPE edgecert_drift gauge\n"));
  // A check changes nothing: the plan afterwards is the same as before.
  CHECK(c.restarts("edge1") == 0);
  CHECK_FALSE(c.memory.exists("cluster/.edgecert/state/test/journal.jsonl"));
}

TEST_CASE("check: in sync after apply exits 0, with expiry, renewal and the last apply",
          "[check]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(has(r.out, "test (cluster/spec.yaml): in sync"));
  CHECK(has(r.out, "last apply: "));
  CHECK(has(r.out, ", complete"));
  const std::string m = metrics(c);
  const pki::Certificate served = c.serving("edge1");
  CHECK(has(m, fmt::format("edgecert_certificate_not_after_timestamp_seconds{{cluster=\"test\","
                           "node=\"edge1\"}} {}\n",
                           unix_seconds(served.not_after()))));
  // The default renewal point: two thirds of the lifetime.
  const auto due = unix_seconds(served.not_before()) +
                   (unix_seconds(served.not_after()) - unix_seconds(served.not_before())) * 2 / 3;
  const auto at = m.find(
      "edgecert_certificate_renewal_due_timestamp_seconds{cluster=\"test\","
      "node=\"edge1\"} ");
  REQUIRE(at != std::string::npos);
  const auto value = std::stoll(m.substr(m.find("} ", at) + 2));
  CHECK(std::llabs(value - due) <= 1);
  CHECK_FALSE(has(m, "} 1\nedgecert_drift"));
  CHECK_FALSE(has(m, "edgecert_drift{cluster=\"test\",node=\"edge1\",kind=\"generate-csr\"} 1"));
  CHECK(has(m, "edgecert_last_apply_success{cluster=\"test\"} 1\n"));
  CHECK(has(m, "edgecert_last_apply_timestamp_seconds{cluster=\"test\"} "));

  SECTION("near the end of its life the certificate is due and the node raises its alarm") {
    c.memory.set_now(served.not_after() - std::chrono::hours(24 * 10));
    auto late =
        c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom", "--output", "json"});
    INFO(late.out << late.err);
    CHECK(late.status == 2);
    auto doc = nlohmann::json::parse(late.out);
    CHECK(doc["clusters"][0]["status"] == "needs-apply");
    CHECK(doc["clusters"][0]["nodes"][0]["renewal_is_due"] == true);
    CHECK(doc["clusters"][0]["nodes"][0]["alarms"] == nlohmann::json::array({"40069"}));
    CHECK(doc["clusters"][0]["last_apply"]["outcome"] == "complete");
    CHECK(has(metrics(c),
              "edgecert_alarm_active{cluster=\"test\",node=\"edge1\",alarm=\"40069\"} 1\n"));
  }
}

TEST_CASE("check: a run killed after a complete one is the last apply, and it failed", "[check]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  // A later run started and died before its end (kill -9): its lock went
  // with it, its journal stops mid-run.
  Journal journal(c.env, "cluster/.edgecert/state/test/journal.jsonl");
  JournalEntry start;
  start.run_id = "1799999999-abcdef";
  start.time = c.memory.now();
  REQUIRE(journal.append(start));
  auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
  INFO(r.out << r.err);
  CHECK(has(r.out, "unfinished: run 1799999999-abcdef stopped after 0 actions"));
  CHECK_FALSE(has(r.out, ", complete"));
  CHECK(has(metrics(c), "edgecert_last_apply_success{cluster=\"test\"} 0\n"));

  SECTION("while its lock is held it is running: the last finished run stands") {
    auto lock = acquire_lock(c.env, "cluster/.edgecert/state/test", "apply", current_process(c.env),
                             LockWait{});
    REQUIRE(lock);
    auto running = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
    CHECK(has(running.out, ", complete"));
    CHECK(has(metrics(c), "edgecert_last_apply_success{cluster=\"test\"} 1\n"));
  }
}

TEST_CASE("check: a held lock shows, and check does not wait for it", "[check]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  auto lock = acquire_lock(c.env, "cluster/.edgecert/state/test", "apply", current_process(c.env),
                           LockWait{});
  REQUIRE(lock);
  auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(has(r.out, "locked by a run"));
  CHECK(has(metrics(c), "edgecert_lock_held{cluster=\"test\"} 1\n"));
}

TEST_CASE("check: an unreadable node is an error (exit 1) that hides nothing else", "[check]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  sim::FaultConfig f;
  f.restart_never_returns = true;
  auto edge2 = c.node("edge2");
  REQUIRE(edge2.set_faults(f));
  REQUIRE(edge2.restart());
  auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(has(r.err, "edgecert: error: edge2: read state: node is restarting"));
  CHECK(has(r.out, "test (cluster/spec.yaml): ERROR"));
  CHECK(has(r.out, "unknown (no plan)"));
  const std::string m = metrics(c);
  CHECK(has(m, "edgecert_check_success{cluster=\"test\",spec=\"cluster/spec.yaml\"} 0\n"));
  // What could be read still is: edge1's and edge3's certificates ...
  CHECK(
      has(m, "edgecert_certificate_not_after_timestamp_seconds{cluster=\"test\",node=\"edge1\"}"));
  CHECK(
      has(m, "edgecert_certificate_not_after_timestamp_seconds{cluster=\"test\",node=\"edge3\"}"));
  CHECK_FALSE(has(m, "node=\"edge2\""));
  // ... but no drift at all: without a plan a drift alert must not resolve.
  CHECK_FALSE(has(m, "edgecert_drift{"));
}

TEST_CASE("check: folders, several clusters, and bad paths", "[check]") {
  SimCluster c;
  REQUIRE(c.apply().status == 0);
  auto spec = c.memory.read_file(c.spec_path, kTestRead);
  REQUIRE(spec);

  SECTION("a folder stands for the specs in it and below it") {
    c.memory.put("cluster/notes.txt", "not a spec");
    c.memory.put("cluster/ci/workflow.yaml", "name: ci\non: push\n");
    auto r = c.cli({"check", "cluster"});
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(has(r.out, "test (cluster/spec.yaml): in sync"));
  }
  SECTION("a folder without specs is an error") {
    c.memory.put("empty/readme.txt", "x");
    auto r = c.cli({"check", "empty"});
    CHECK(r.status == 1);
    CHECK(has(r.err, "empty: no spec in this folder or below it"));
  }
  SECTION("a spec that does not load is an error; the other clusters are still checked") {
    c.memory.put("cluster/broken.yaml", "apiVersion: edgecert/v1\nkind: [\n");
    auto r = c.cli(
        {"check", "cluster/broken.yaml", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(has(r.err, "cluster/broken.yaml:"));
    CHECK(has(r.out, "test (cluster/spec.yaml): in sync"));
    const std::string m = metrics(c);
    CHECK(has(m, "edgecert_check_success{cluster=\"\",spec=\"cluster/broken.yaml\"} 0\n"));
    CHECK(has(m, "edgecert_check_success{cluster=\"test\",spec=\"cluster/spec.yaml\"} 1\n"));
  }
  SECTION("two specs for one cluster: the second is refused") {
    c.memory.put("cluster/copy.yaml", *spec);
    auto r = c.cli({"check", c.spec_path, "cluster/copy.yaml"});
    CHECK(r.status == 1);
    CHECK(has(r.err, "cluster/copy.yaml: cluster 'test' is also defined in cluster/spec.yaml"));
    CHECK(has(r.out, "test (cluster/spec.yaml): in sync"));
  }
  SECTION("a metrics file that cannot be written is an error") {
    c.env.reset();
    c.env.set_scope([](const std::string& path) { return path == "cluster/metrics.prom"; });
    c.env.fail_mutation(1);
    auto r = c.cli({"check", c.spec_path, "--metrics-file", "cluster/metrics.prom"});
    CHECK(r.status == 1);
    CHECK(has(r.err, "edgecert: error: writing the metrics to cluster/metrics.prom: "));
  }
}

TEST_CASE("check metrics: label values are escaped", "[check]") {
  ClusterCheck c;
  c.cluster = "a\"b\\c\nd";
  c.spec_path = "x.yaml";
  const std::string m = check_metrics_text({c});
  CHECK(has(m, "edgecert_check_success{cluster=\"a\\\"b\\\\c\\nd\",spec=\"x.yaml\"} 1\n"));
}
