// What SimNode adds for the real-node interfaces (issue 11): reads that write
// nothing, uptime, product and version, the operator's peer list and files,
// restart phases, and the node lock that keeps concurrent writers from
// losing each other's changes.
#include <atomic>
#include <thread>

#include <fmt/core.h>

#include <catch2/catch.hpp>

#include "providers/sim/sim_node.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

// Counts every Env write.
class CountingEnv : public MemoryEnv {
 public:
  Status write_file_atomic(const std::string& p, const std::string& d, unsigned m) override {
    ++writes;
    return MemoryEnv::write_file_atomic(p, d, m);
  }
  Status append_file(const std::string& p, const std::string& d, unsigned m) override {
    ++appends;
    return MemoryEnv::append_file(p, d, m);
  }
  int writes = 0;
  int appends = 0;
};

}  // namespace

TEST_CASE("sim: reads write nothing unless they change the node or faults are set", "[sim]") {
  CountingEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.ensure_booted());
  REQUIRE(n.read_state());  // creates the lock file once
  const int writes = env.writes;
  const int appends = env.appends;
  REQUIRE(n.read_state());
  REQUIRE(n.ping());
  REQUIRE(n.served_chain());
  REQUIRE(n.acme_settings());
  REQUIRE(n.restart_phase());
  CHECK(env.writes == writes);
  CHECK(env.appends == appends);

  // Finishing a restart is a change: saved and audited.
  REQUIRE(n.set_restart_seconds(1));
  REQUIRE(n.restart());
  CHECK(n.restart_phase().value() == sim::RestartPhase::kDown);
  env.advance(std::chrono::seconds(2));
  CHECK(n.restart_phase().value() == sim::RestartPhase::kDue);
  const int before = env.appends;
  REQUIRE(n.read_state());
  CHECK(env.appends == before + 1);
  CHECK(n.restart_phase().value() == sim::RestartPhase::kUp);

  // With faults configured every request is audited (tests count attempts).
  sim::FaultConfig fc;
  fc.latency_ms = 1;
  REQUIRE(n.set_faults(fc));
  const int faulted = env.appends;
  REQUIRE(n.read_state());
  CHECK(env.appends == faulted + 1);
}

TEST_CASE("sim: uptime counts from the boot and again from the end of a restart", "[sim]") {
  MemoryEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.ensure_booted());
  env.advance(std::chrono::seconds(100));
  CHECK(n.read_state().value().uptime_seconds == 100);
  REQUIRE(n.set_restart_seconds(3));
  REQUIRE(n.restart());
  env.advance(std::chrono::seconds(10));
  // Up since the restart's time was up (3 s after it was asked), whenever
  // the next request came.
  CHECK(n.read_state().value().uptime_seconds == 7);
}

TEST_CASE("sim: product, software version, peer list and files on the node", "[sim]") {
  MemoryEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.ensure_booted());
  auto s = n.read_state();
  CHECK(s->product == node::Product::kUnknown);
  CHECK(s->software_version == "X14.3.1");
  CHECK_FALSE(s->cluster_peers);

  REQUIRE(n.set_product(node::Product::kExpresswayC));
  REQUIRE(n.set_software_version("X15.0.2"));
  REQUIRE(n.set_cluster_peers(std::vector<std::string>{"a.example.com", "10.0.0.2"}));
  s = n.read_state();
  CHECK(s->product == node::Product::kExpresswayC);
  CHECK(s->software_version == "X15.0.2");
  CHECK(s->cluster_peers == std::vector<std::string>{"a.example.com", "10.0.0.2"});
  REQUIRE(n.set_cluster_peers(std::nullopt));
  CHECK_FALSE(n.read_state()->cluster_peers);

  CHECK_FALSE(n.set_product(node::Product::kUnknown));
  for (const char* bad : {"15.0", "X15", "X15..1", "X15.0.", "Xa.b", "X15.0.2.1"})
    CHECK_FALSE(n.set_software_version(bad));
  CHECK_FALSE(n.set_cluster_peers(std::vector<std::string>(7, "a.example.com")));
  CHECK_FALSE(n.set_cluster_peers(std::vector<std::string>{"has space"}));

  auto missing = n.node_file("/tmp/x.pem");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "File not found: /tmp/x.pem");
  REQUIRE(n.put_file("/tmp/x.pem", "PEM"));
  CHECK(n.node_file("/tmp/x.pem").value() == "PEM");
  CHECK_FALSE(n.put_file("relative.pem", "PEM"));
}

TEST_CASE("sim: concurrent writers through the node lock lose nothing", "[sim]") {
  testing::TempDir tmp;
  const std::string dir = tmp.file("sim");
  REQUIRE(sim::SimNode(default_env(), dir, "edge1", "edge1.example.com").ensure_booted());
  constexpr int kEach = 20;
  std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe
  auto writer = [&](char who) {
    // Its own instance, as another process would have.
    sim::SimNode n(default_env(), dir, "edge1", "edge1.example.com");
    for (int i = 0; i < kEach; ++i)
      if (!n.put_file(fmt::format("/tmp/{}{}", who, i), "x")) ++failures;
  };
  std::thread a(writer, 'a');
  std::thread b(writer, 'b');
  a.join();
  b.join();
  CHECK(failures == 0);
  sim::SimNode n(default_env(), dir, "edge1", "edge1.example.com");
  for (char who : {'a', 'b'})
    for (int i = 0; i < kEach; ++i) CHECK(n.node_file(fmt::format("/tmp/{}{}", who, i)));
}
