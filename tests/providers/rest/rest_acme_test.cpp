// The node ACME service over https:// against an edgecert-sim child process
// whose node signs with a real Pebble (real http-01 validation: the node's
// listener is set with --acme-http01-listen, every name resolves to
// 127.0.0.1 through pebble-challtestsrv). The provider verifies the node's
// TLS certificate against a bundle holding the factory CA and Pebble's root,
// so the handshake after the deploy proves the new certificate is served.
// The ACME commands go over the CLI (SSH, host key pinned); the node's status
// page (account, last sign/deploy) has no API, so the simulator core shows
// what the node recorded.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/rest/rest_provider.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/providers/sim/sim_acme_support.h"
#include "tests/support/result_checks.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::testing;

TEST_CASE("rest ACME: sign, deploy without restart, revoke over https:// with edgecert-sim",
          "[rest][acme][pebble]") {
  const PebbleOptions po = pebble_dns_options();
  if (!can_run_pebble(po)) return;
  PebbleProcess pebble(po);
  TempDir dir;
  const std::string state = dir.file("sim");
  SimProcessOptions so;
  so.state_dir = state;
  so.nodes = {{"edge1", "edge1.example.com"}};
  so.password_file = dir.write("password", "acme-pw\n");
  so.stderr_file = dir.file("sim.log");
  so.extra_args = {"--acme-http01-listen", fmt::format("edge1=127.0.0.1:{}", pebble.http_port())};
  SimProcess sim(so);
  sim::SimNode admin(default_env(), state, "edge1", "edge1.example.com");
  CHECK(admin.acme_http01_listen().value() == fmt::format("127.0.0.1:{}", pebble.http_port()));

  // Trust for the node's TLS: its factory CA now, Pebble's root after deploy.
  auto before = admin.read_state();
  REQUIRE(before);
  std::string bundle = dir.write(
      "bundle.pem", before->trusted_cas.front().to_pem() + pebble.management_get("/roots/0"));
  node::NodeOpenContext ctx(default_env());
  ctx.connect_timeout = std::chrono::seconds(5);
  ctx.request_timeout = std::chrono::seconds(60);
  spec::Spec spec;
  spec.name = "acme";
  spec::Peer peer{"edge1", "edge1.example.com", sim.endpoint("edge1")};
  peer.ssh_host = "127.0.0.1";
  peer.ssh_port = sim.ssh_port("edge1");
  spec.peers = {peer};
  spec.access = spec::Access{"admin", "file:" + so.password_file, bundle};
  spec.access->known_hosts = dir.file("known_hosts");
  sim.pin_host_keys(spec.access->known_hosts);
  auto opened = rest::make_https_node_provider(ctx, spec, spec.peers[0]);
  require_ok(opened, "open");
  node::NodeProvider& n = **opened;

  auto pebble_tls_ca = default_env().read_file(pebble.ca_bundle(), kTestRead);
  REQUIRE(pebble_tls_ca);
  require_ok(n.append_trusted_cas(*pebble_tls_ca), "trust Pebble's TLS CA");
  require_ok(n.set_acme_settings(pebble_acme_settings(pebble.directory_url())), "settings");

  require_error(n.acme_sign(), ErrorCode::kNotFound,
                "edge1: SSH xCommand ACME Sign (ACME sign): no CSR is in progress");

  auto sign_and_deploy = [&]() -> pki::Certificate {
    require_ok(n.generate_csr(acme_csr_request("edge1.example.com", {"edge.example.com"})), "CSR");
    require_ok(n.acme_sign(), "sign");
    auto s = n.read_state();
    require_ok(s, "state");
    auto page = admin.read_state();
    require_ok(page, "status page");
    CHECK(page->acme_status.status == "Account registered");
    CHECK(page->acme_status.last_sign_status.rfind("Success: ", 0) == 0);
    const pki::Certificate leaf = pending_chain(*s).front();
    require_ok(n.acme_deploy(), "deploy");
    auto served = n.served_chain();  // a fresh, verified TLS handshake
    require_ok(served, "served chain");
    CHECK(served->front().sha256_fingerprint() == leaf.sha256_fingerprint());
    auto after = n.read_state();
    require_ok(after, "state");
    CHECK_FALSE(after->restart_required);
    CHECK_FALSE(after->acme_status.pending_certificate_pem.has_value());
    CHECK(admin.read_state()->acme_status.last_deploy_status.rfind("Success: ", 0) == 0);
    return leaf;
  };
  const pki::Certificate first = sign_and_deploy();
  const pki::Certificate second = sign_and_deploy();

  require_error(n.acme_revoke(second.to_pem(), pki::RevocationReason::kSuperseded),
                ErrorCode::kInvalidArgument, "is in use");
  // The superseded certificate must be on the node first (a manual step).
  const std::string path = rest::acme_revoke_path(first);
  require_error(n.acme_revoke(first.to_pem(), pki::RevocationReason::kSuperseded),
                ErrorCode::kUnimplemented, path);
  require_ok(admin.put_file(path, first.to_pem()), "the operator copies the file");
  require_ok(n.acme_revoke(first.to_pem(), pki::RevocationReason::kSuperseded), "revoke");
  std::string st = pebble.cert_status(first);
  CHECK(st.find("Revoked") != std::string::npos);
  auto again = n.acme_revoke(first.to_pem(), pki::RevocationReason::kSuperseded);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
  require_error(n.acme_discard_pending(), ErrorCode::kNotFound,
                "SSH xCommand ACME Delete Pending Cert");
  require_error(n.acme_deploy(), ErrorCode::kNotFound, "SSH xCommand ACME Deploy");

  // The log names requests, never keys.
  sim.stop();
  auto log = default_env().read_file(so.stderr_file, kTestRead);
  REQUIRE(log);
  CHECK(log->find("unrecognised") == std::string::npos);
  CHECK(log->find("PRIVATE KEY") == std::string::npos);
  auto file = default_env().read_file(admin.state_path(), kTestRead);
  REQUIRE(file);
  for (const auto& k : private_key_fragments(*file)) CHECK(log->find(k) == std::string::npos);
}
