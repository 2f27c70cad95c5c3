// The simulated Expressway-E ACME service against a real Pebble started by
// each test: sign (real http-01 served by the node's own listener, and with
// validation skipped), deploy without restart, revoke, trust of the
// provider's TLS certificate, and automated mode on a clock the test jumps.
//
// Nodes live in a MemoryEnv whose clock starts at the real time (Pebble
// issues certificates valid from the real now); the ACME client's polling
// sleeps move that clock instead of waiting.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "providers/sim/sim_node.h"
#include "providers/sim/sim_provider.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/providers/sim/sim_acme_support.h"
#include "tests/support/result_checks.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using namespace edgecert::testing;

// A MemoryEnv on the real time of day (whole seconds).
TimePoint real_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(Clock::now());
}

// One simulated Expressway-E behind the sim:// provider, in a MemoryEnv.
struct AcmeNode {
  // Paced: the node's ACME client polls a real Pebble.
  PacedMemoryEnv env{real_now()};
  spec::Spec spec;
  node::NodeOpenContext ctx{env};
  std::unique_ptr<node::NodeProvider> node;

  explicit AcmeNode(const std::string& fqdn = "edge1.example.com") {
    env.pace(kPebblePace);
    ctx.sim_dir = "/sim";
    spec.name = "acme";
    spec.peers = {{"edge1", fqdn, "sim://edge1"}};
    auto n = node::open_node(ctx, spec, spec.peers[0]);
    require_ok(n, "open");
    node = std::move(*n);
  }
  sim::SimNode admin() {
    auto n = sim::sim_node_for(ctx, spec, spec.peers[0]);
    REQUIRE(n);
    return std::move(*n);
  }
  node::NodeState state() {
    auto s = node->read_state();
    require_ok(s, "read state");
    return std::move(*s);
  }
  pki::Certificate served() {
    auto c = node->served_chain();
    require_ok(c, "served chain");
    REQUIRE_FALSE(c->empty());
    return c->front();
  }
  void trust_file(const std::string& pem_path) {
    auto pem = default_env().read_file(pem_path, kTestRead);
    REQUIRE(pem);
    require_ok(node->append_trusted_cas(*pem), "append CA");
  }
  void settings(const std::string& directory, spec::AcmeMode mode = spec::AcmeMode::kManual,
                std::optional<spec::Schedule> schedule = std::nullopt,
                spec::KeyRotation renew_key = spec::KeyRotation::kRotate) {
    node::AcmeSettings a = pebble_acme_settings(directory);
    a.mode = mode;
    a.renew_key = renew_key;
    a.schedule = std::move(schedule);
    require_ok(node->set_acme_settings(a), "ACME settings");
  }
  // Manual mode with `pebble`, its TLS CA trusted, http-01 challenges served
  // at `http01` ("none": with always_valid Pebble does not fetch them).
  void use(const PebbleProcess& pebble, const std::string& http01 = "none") {
    require_ok(admin().set_acme_http01_listen(http01), "http-01 address");
    trust_file(pebble.ca_bundle());
    settings(pebble.directory_url());
  }
  // CSR and sign: the certificate is pending.
  void sign(const std::vector<std::string>& sans = {}) {
    require_ok(node->generate_csr(acme_csr_request(spec.peers[0].fqdn, sans)), "CSR");
    require_ok(node->acme_sign(), "sign");
  }
  // CSR, sign, deploy; returns the deployed leaf.
  pki::Certificate sign_and_deploy(const std::vector<std::string>& sans = {}) {
    sign(sans);
    auto leaf = pending_chain(state()).front();
    require_ok(node->acme_deploy(), "deploy");
    CHECK(served().sha256_fingerprint() == leaf.sha256_fingerprint());
    return leaf;
  }
  std::vector<sim::AuditEntry> audit(const std::string& op) {
    auto all = admin().audit();
    REQUIRE(all);
    std::vector<sim::AuditEntry> out;
    for (auto& e : *all)
      if (e.operation == op) out.push_back(e);
    return out;
  }
};

std::vector<std::string> sorted_names(const pki::Certificate& c) {
  auto n = c.subject_alt_names().dns;
  std::sort(n.begin(), n.end());
  return n;
}

}  // namespace

TEST_CASE("sim ACME: sign with real http-01 from the node's listener, deploy without restart",
          "[sim][acme][pebble]") {
  const PebbleOptions po = pebble_dns_options();
  if (!can_run_pebble(po)) return;
  PebbleProcess pebble(po);
  AcmeNode n;
  sim::SimNode admin = n.admin();
  n.use(pebble, fmt::format("127.0.0.1:{}", pebble.http_port()));
  CHECK(admin.acme_http01_listen().value() == fmt::format("127.0.0.1:{}", pebble.http_port()));
  const pki::Certificate factory = n.served();
  CHECK(n.state().acme_status.status == "Account not registered");

  require_error(n.node->acme_sign(), ErrorCode::kNotFound, "no CSR is in progress");
  n.sign({"edge.example.com"});
  CHECK_FALSE(loopback_port_listens(pebble.http_port()));  // only while signing

  node::NodeState s = n.state();
  CHECK(s.acme_status.status == "Account registered");
  INFO("last sign status: " << s.acme_status.last_sign_status);
  CHECK(s.acme_status.last_sign_status.rfind("Success: ", 0) == 0);
  CHECK(s.acme_status.last_deploy_status.empty());
  auto pending = pending_chain(s);
  REQUIRE(pending.size() >= 2);
  const pki::Certificate leaf = pending.front();
  CHECK(sorted_names(leaf) == std::vector<std::string>{"edge.example.com", "edge1.example.com"});
  REQUIRE(s.pending_csr.has_value());  // kept until deploy
  CHECK(pki::spki_sha256(leaf) ==
        pki::spki_sha256(*pki::CertificateRequest::parse(s.pending_csr->pem, "csr")));
  // Signed, not served.
  CHECK(n.served().sha256_fingerprint() == factory.sha256_fingerprint());
  CHECK(s.server_chain.front().sha256_fingerprint() == factory.sha256_fingerprint());

  require_ok(n.node->acme_deploy(), "deploy");
  s = n.state();
  CHECK(n.served().sha256_fingerprint() == leaf.sha256_fingerprint());
  CHECK(s.server_chain.front().sha256_fingerprint() == leaf.sha256_fingerprint());
  CHECK(s.server_chain.size() == pending.size());
  CHECK_FALSE(s.restart_required);
  CHECK(s.staged_chain.empty());
  CHECK_FALSE(s.pending_csr.has_value());
  CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
  CHECK(s.acme_status.last_deploy_status.rfind("Success: ", 0) == 0);
  require_error(n.node->acme_deploy(), ErrorCode::kNotFound, "no ACME certificate is pending");

  // Audited, without a key anywhere public.
  CHECK(n.audit("acme_sign").size() == 2);  // the kNotFound one and the success
  CHECK(n.audit("acme_sign").back().outcome == "ok");
  CHECK(n.audit("acme_sign").back().details.find(leaf.sha256_fingerprint()) != std::string::npos);
  CHECK(n.audit("acme_deploy").front().outcome == "ok");
  auto file = n.env.read_file(admin.state_path(), kTestRead);
  REQUIRE(file);
  auto keys = private_key_fragments(*file);
  REQUIRE(keys.size() >= 2);  // the account key and the server key (at least)
  auto audit_text = n.env.read_file(admin.audit_path(), kTestRead);
  REQUIRE(audit_text);
  CHECK(audit_text->find("PRIVATE KEY") == std::string::npos);
  for (const auto& k : keys) CHECK(audit_text->find(k) == std::string::npos);
}

TEST_CASE("sim ACME: preconditions, the provider's TLS trust, the http-01 address",
          "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  sim::SimNode admin = n.admin();

  SECTION("disabled, or no CSR") {
    require_error(n.node->acme_sign(), ErrorCode::kInvalidArgument, "disabled");
    n.settings(pebble.directory_url());
    require_error(n.node->acme_sign(), ErrorCode::kNotFound, "no CSR");
    CHECK(n.state().acme_status.last_sign_status.empty());
  }
  SECTION("the provider's TLS certificate must verify against the trusted CA list") {
    require_ok(admin.set_acme_http01_listen("none"), "http-01 none");
    n.settings(pebble.directory_url());
    require_ok(n.node->generate_csr(acme_csr_request("edge1.example.com")), "CSR");
    auto r = n.node->acme_sign();
    require_error(r, ErrorCode::kPermission, "trusted CA list");
    auto s = n.state();
    CHECK(s.acme_status.last_sign_status.rfind("Failed: ", 0) == 0);
    CHECK(s.acme_status.status == "Account not registered");
    CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
    // Trusting it is all it takes.
    n.trust_file(pebble.ca_bundle());
    require_ok(n.node->acme_sign(), "sign");
    CHECK(n.state().acme_status.last_sign_status.rfind("Success: ", 0) == 0);
  }
  SECTION("the http-01 address: validated, and a bind failure fails the sign") {
    require_error(admin.set_acme_http01_listen("localhost"), ErrorCode::kInvalidArgument,
                  "HOST:PORT");
    require_error(admin.set_acme_http01_listen("127.0.0.1:0"), ErrorCode::kInvalidArgument,
                  "1-65535");
    CHECK(admin.acme_http01_listen().value() == "0.0.0.0:80");  // the appliance's default
    // Something else holds the port.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::string taken = fmt::format("127.0.0.1:{}", ntohs(a.sin_port));
    require_ok(admin.set_acme_http01_listen(taken), "http-01 address");
    n.trust_file(pebble.ca_bundle());
    n.settings(pebble.directory_url());
    require_ok(n.node->generate_csr(acme_csr_request("edge1.example.com")), "CSR");
    auto r = n.node->acme_sign();
    close(fd);
    require_error(r, ErrorCode::kUnavailable, "cannot serve http-01 challenges on " + taken);
    auto s = n.state();
    CHECK(s.acme_status.last_sign_status.find("cannot serve http-01") != std::string::npos);
    CHECK(s.acme_status.status == "Account registered");  // that part worked
  }
}

TEST_CASE("sim ACME: a provider that goes away fails the sign at once and closes the listener",
          "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  const int port = free_loopback_port();
  n.use(pebble, fmt::format("127.0.0.1:{}", port));
  n.sign();  // registers the account
  pebble.stop();
  // The account is known, so the listener starts before the order fails.
  auto r = n.node->acme_sign();
  require_error(r, ErrorCode::kUnavailable, pebble.directory_url());
  CHECK_FALSE(loopback_port_listens(port));
  auto s = n.state();
  CHECK(s.acme_status.last_sign_status.rfind("Failed: ", 0) == 0);
  CHECK(s.acme_status.pending_certificate_pem.has_value());  // the earlier one stays
}

TEST_CASE("sim ACME: revoke refuses the certificate in use, revokes a superseded one",
          "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  n.use(pebble);
  pki::Certificate first = n.sign_and_deploy();
  pki::Certificate second = n.sign_and_deploy();
  CHECK(first.sha256_fingerprint() != second.sha256_fingerprint());

  require_error(n.node->acme_revoke(second.to_pem(), pki::RevocationReason::kSuperseded),
                ErrorCode::kInvalidArgument, "is in use");
  CHECK(pebble.cert_status(second).find("Valid") != std::string::npos);
  require_error(n.node->acme_revoke(first.to_pem(), static_cast<pki::RevocationReason>(6)),
                ErrorCode::kInvalidArgument, "reason 6");

  require_ok(n.node->acme_revoke(first.to_pem(), pki::RevocationReason::kSuperseded), "revoke");
  std::string st = pebble.cert_status(first);
  CHECK(st.find("Revoked") != std::string::npos);
  CHECK(st.find("\"Reason\": 4") != std::string::npos);
  require_error(n.node->acme_revoke(first.to_pem(), pki::RevocationReason::kSuperseded),
                ErrorCode::kAlreadyExists, "");
  CHECK(n.served().sha256_fingerprint() == second.sha256_fingerprint());

  auto revokes = n.audit("acme_revoke");
  REQUIRE(revokes.size() == 4);
  CHECK(revokes[2].outcome == "ok");
  CHECK(revokes[2].details.find(first.serial_hex()) != std::string::npos);
  CHECK(revokes[0].outcome.rfind("error: invalid-argument:", 0) == 0);
}

TEST_CASE("sim ACME: discard the pending certificate", "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  n.use(pebble);
  n.sign();
  CHECK(n.state().acme_status.pending_certificate_pem.has_value());
  require_ok(n.node->acme_discard_pending(), "discard");
  CHECK_FALSE(n.state().acme_status.pending_certificate_pem.has_value());
  CHECK(n.state().pending_csr.has_value());
  require_error(n.node->acme_deploy(), ErrorCode::kNotFound, "no ACME certificate is pending");
  // The CSR is still there to sign again.
  require_ok(n.node->acme_sign(), "sign again");
  CHECK(n.state().acme_status.pending_certificate_pem.has_value());
}

namespace {

// Midnight UTC of `t`'s day, and its weekday (0 = Sunday).
TimePoint day_start(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t);
}
spec::Weekday weekday_of(TimePoint t) {
  return std::chrono::weekday(
             std::chrono::sys_days(std::chrono::floor<std::chrono::days>(t).time_since_epoch()))
      .c_encoding();
}

}  // namespace

TEST_CASE("sim ACME: automated mode renews after two thirds, deploys only at the slot",
          "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  sim::SimNode admin = n.admin();
  require_ok(admin.set_acme_scheduler_seed(7), "seed");
  const bool retain = GENERATE(false, true);
  const auto renew_key = retain ? spec::KeyRotation::kRetain : spec::KeyRotation::kRotate;
  INFO("renew key " << (retain ? "retain" : "rotate"));

  // Manual first certificate, then automated mode. The slot is at 04:00 UTC
  // on the weekday three days after renewal falls due, so the renewal (in
  // the twice-a-day checks) comes first and the deployment waits for it.
  n.use(pebble);
  const pki::Certificate first = n.sign_and_deploy({"edge.example.com"});
  const TimePoint due = first.not_before() + (first.not_after() - first.not_before()) * 2 / 3;
  const spec::Weekday slot_day = weekday_of(due + std::chrono::days(3));
  n.settings(pebble.directory_url(), spec::AcmeMode::kAutomated, spec::Schedule{{slot_day}, 4 * 60},
             renew_key);
  const TimePoint slot = day_start(due + std::chrono::days(3)) + std::chrono::hours(4);

  // Before two thirds: nothing, however often the scheduler runs.
  n.env.set_now(due - std::chrono::hours(13));
  require_ok(admin.run_scheduler(), "scheduler");
  n.env.set_now(due - std::chrono::minutes(1));
  require_ok(admin.run_scheduler(), "scheduler");
  node::NodeState s = n.state();
  CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
  CHECK(n.audit("acme_automated_sign").empty());

  // A day later at least one check has passed since the due time: renewed,
  // pending, still not served.
  n.env.set_now(due + std::chrono::hours(24));
  require_ok(admin.run_scheduler(), "scheduler");
  s = n.state();
  auto pending = pending_chain(s);
  const pki::Certificate second = pending.front();
  CHECK(second.sha256_fingerprint() != first.sha256_fingerprint());
  CHECK(sorted_names(second) == sorted_names(first));
  CHECK(s.acme_status.last_sign_status.rfind("Success: ", 0) == 0);
  CHECK(n.served().sha256_fingerprint() == first.sha256_fingerprint());
  auto signs = n.audit("acme_automated_sign");
  REQUIRE(signs.size() == 1);
  CHECK(signs[0].outcome == "ok");
  // At a check time after the due time, within the day.
  CHECK(signs[0].time >= format_time_iso(due));
  CHECK(signs[0].time <= format_time_iso(due + std::chrono::hours(24)));

  // Just before the slot: still waiting.
  n.env.set_now(slot - std::chrono::seconds(1));
  CHECK(n.served().sha256_fingerprint() == first.sha256_fingerprint());
  // At the slot: deployed (caught up by the next operation), no
  // restart.
  n.env.set_now(slot);
  CHECK(n.served().sha256_fingerprint() == second.sha256_fingerprint());
  s = n.state();
  CHECK_FALSE(s.restart_required);
  CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
  CHECK(s.acme_status.last_deploy_status == "Success: " + format_time_iso(slot));
  auto deploys = n.audit("acme_automated_deploy");
  REQUIRE(deploys.size() == 1);
  CHECK(deploys[0].time == format_time_iso(slot));

  // Retain re-submits the stored CSR (same key); rotate makes a new key.
  if (retain) {
    CHECK(pki::spki_sha256(second) == pki::spki_sha256(first));
  } else {
    CHECK(pki::spki_sha256(second) != pki::spki_sha256(first));
  }
}

TEST_CASE("sim ACME: without automated mode nothing happens at two thirds", "[sim][acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  AcmeNode n;
  n.use(pebble);
  const pki::Certificate first = n.sign_and_deploy();
  n.env.set_now(first.not_before() + (first.not_after() - first.not_before()) * 5 / 6);
  require_ok(n.admin().run_scheduler(), "scheduler");
  node::NodeState s = n.state();
  CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
  CHECK(n.served().sha256_fingerprint() == first.sha256_fingerprint());
  CHECK(n.audit("acme_automated_sign").empty());
}
