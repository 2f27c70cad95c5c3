// edgecert-sim's ACME side in-process: the pending-certificate resource and
// the background scheduler, which deploys a pending certificate at its
// scheduled slot although no request arrives (the appliance's scheduler runs
// on its own). The node's clock is the real one plus an offset the test
// jumps; sleeps are real, so the server's threads and the ACME client see
// one consistent, thread-safe clock.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"
#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/providers/sim/sim_acme_support.h"
#include "tests/providers/sim/sim_test_env.h"
#include "tests/providers/simserver/sim_server_client.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

// Real files, real sleeps, the real clock moved by a settable offset.
class OffsetClockEnv : public testing::PosixFilesEnv {
 public:
  void jump_to(TimePoint t) {
    offset_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  }
  TimePoint now() override { return Clock::now() + std::chrono::milliseconds(offset_ms_.load()); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }

 private:
  std::atomic<int64_t> offset_ms_{0};
};

// The node's listener, as admin/pw.
std::unique_ptr<http::Transport> client(int port) {
  return testing::sim_server_client(port, "edge1.example.com", "pw");
}
using testing::sim_server_request;

// The active leaf as the node file has it (reading the file runs no
// operation, so it cannot trigger the scheduler's catch-up itself).
std::string active_leaf_sha256(Env& env, const std::string& path) {
  auto text = env.read_file(path, kTestRead);
  REQUIRE(text);
  auto j = nlohmann::json::parse(*text);
  auto leaf = pki::Certificate::parse_one(j["active"]["chain"][0].get<std::string>(), "active");
  REQUIRE(leaf);
  return leaf->sha256_fingerprint();
}

}  // namespace

TEST_CASE(
    "simserver: pending ACME certificate resource, the background scheduler deploys at the "
    "slot",
    "[simserver][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  testing::PebbleProcess pebble(testing::PebbleOptions{});
  testing::TempDir dir;
  OffsetClockEnv env;
  const std::string state = dir.file("sim");
  sim::SimNode admin(env, state, "edge1", "edge1.example.com");
  REQUIRE(admin.set_acme_http01_listen("none"));
  auto tls_ca = default_env().read_file(pebble.ca_bundle(), kTestRead);
  REQUIRE(tls_ca);
  REQUIRE(admin.append_trusted_cas(*tls_ca));
  node::AcmeSettings a = testing::pebble_acme_settings(pebble.directory_url());
  REQUIRE(admin.set_acme_settings(a));
  REQUIRE(admin.generate_csr(testing::acme_csr_request("edge1.example.com")));
  auto signed_ = admin.acme_sign();
  INFO((signed_ ? std::string() : signed_.error().message));
  REQUIRE(signed_);
  auto st = admin.read_state();
  REQUIRE(st);
  const std::string pending = testing::pending_chain(*st).front().sha256_fingerprint();

  // Automated: the next slot is tomorrow 04:00 UTC.
  const TimePoint slot = std::chrono::floor<std::chrono::days>(env.now()) + std::chrono::days(1) +
                         std::chrono::hours(4);
  a.mode = spec::AcmeMode::kAutomated;
  a.schedule = spec::Schedule{
      {std::chrono::weekday(
           std::chrono::sys_days(std::chrono::floor<std::chrono::days>(slot).time_since_epoch()))
           .c_encoding()},
      4 * 60};
  REQUIRE(admin.set_acme_settings(a));

  simserver::SimServerOptions o;
  o.state_dir = state;
  o.nodes = {{"edge1", "edge1.example.com", "127.0.0.1", 0}};
  o.password = pki::SecretString("pw");
  o.scheduler_interval = std::chrono::milliseconds(20);
  simserver::SimServer server(env, std::move(o));
  auto ports = server.start();
  REQUIRE(ports);
  auto http = client(ports->front());

  auto got = http->perform(sim_server_request("GET", rest::kAcmePendingCertPath));
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(active_leaf_sha256(env, admin.state_path()) != pending);

  // Past the slot, nobody asks anything: the background scheduler deploys.
  env.jump_to(slot + std::chrono::seconds(1));
  bool deployed = false;
  for (int i = 0; i < 250 && !deployed; ++i) {
    deployed = active_leaf_sha256(env, admin.state_path()) == pending;
    if (!deployed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(deployed);
  auto audit = env.read_file(admin.audit_path(), kTestRead);
  REQUIRE(audit);
  CHECK(audit->find("\"acme_automated_deploy\"") != std::string::npos);
  CHECK(audit->find("run_scheduler") == std::string::npos);  // the runs themselves are not audited

  // The handshake presents it, and nothing is pending any more.
  auto chain_req = sim_server_request("GET", rest::kServerCertPath);
  chain_req.capture_peer_chain = true;
  auto served = client(ports->front())->perform(chain_req);
  REQUIRE(served);
  REQUIRE_FALSE(served->peer_chain.empty());
  auto leaf = pki::Certificate::parse_one(served->peer_chain.front(), "served");
  REQUIRE(leaf);
  CHECK(leaf->sha256_fingerprint() == pending);
  auto none = http->perform(sim_server_request("GET", rest::kAcmePendingCertPath));
  REQUIRE(none);
  CHECK(none->status == 404);
  auto del = sim_server_request("DELETE", rest::kAcmePendingCertPath);
  del.headers.emplace_back(rest::kCsrfHeader, "x");
  auto gone = http->perform(del);
  REQUIRE(gone);
  CHECK(gone->status == 404);
  server.stop();
}
