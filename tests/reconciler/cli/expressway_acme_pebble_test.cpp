// End-to-end: an Expressway-E cluster whose nodes sign through their own ACME
// service (issuer expressway-acme) against a real Pebble doing REAL http-01
// validation: every name resolves to 127.0.0.1 (pebble-challtestsrv as DNS)
// and each simulated node answers the challenge from its own listener.
#include <catch2/catch.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/pki/certificate.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/providers/sim/sim_acme_support.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::PebbleProcess;
using edgecert::testing::TempDir;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct AcmeCluster {
  PebbleProcess pebble{testing::pebble_dns_options()};
  TempDir dir;
  std::unique_ptr<Env> env = make_posix_env();
  std::string sim_dir = dir.file("sim");
  std::string spec;
  std::vector<std::string> names = {"edge1", "edge2"};

  AcmeCluster() {
    // The nodes trust Pebble's TLS CA (to reach the directory) and its
    // issuing chain (to accept and serve what it signs), as the guide's ACME
    // prerequisites ask for Let's Encrypt's.
    dir.write("cluster/pebble-tls.pem", *env->read_file(pebble.ca_bundle(), kTestRead));
    dir.write("cluster/pebble-root.pem", pebble.management_get("/roots/0"));
    dir.write("cluster/pebble-intermediate.pem", pebble.management_get("/intermediates/0"));
    REQUIRE(env->create_dirs(sim_dir, 0700));
    for (const auto& name : names) {
      sim::SimNode node(*env, sim_dir, name, name + ".example.com");
      REQUIRE(node.ensure_booted());
      REQUIRE(node.set_restart_seconds(0));
      REQUIRE(node.set_acme_http01_listen(fmt::format("127.0.0.1:{}", pebble.http_port())));
    }
    write_spec("");
  }

  void write_spec(const std::string& server_certificate_extra, bool revoke_superseded = true) {
    spec = dir.write(
        "cluster/spec.yaml",
        fmt::format("apiVersion: edgecert/v1\n"
                    "kind: ExpresswayCluster\n"
                    "metadata: {{name: xacme}}\n"
                    "spec:\n"
                    "  product: expressway-e\n"
                    "  clusterFqdn: edge.example.com\n"
                    "  peers:\n"
                    "    - {{name: edge1, fqdn: edge1.example.com, endpoint: sim://edge1}}\n"
                    "    - {{name: edge2, fqdn: edge2.example.com, endpoint: sim://edge2}}\n"
                    "  serverCertificate:\n"
                    "    key: {{algorithm: ecdsa, size: 256}}\n"
                    "    issuer: {{type: expressway-acme}}\n"
                    "{}"
                    "  trustedCAs:\n"
                    "    certificates: [pebble-tls.pem, pebble-root.pem, "
                    "pebble-intermediate.pem]\n"
                    "  acme:\n"
                    "    provider: {{name: pebble, directory: \"{}\"}}\n"
                    "    email: pki@example.com\n"
                    "    acceptTermsOfService: true\n"
                    "    mode: manual\n"
                    "  rollout: {{healthTimeout: 1m, revokeSuperseded: {}}}\n",
                    server_certificate_extra, pebble.directory_url(), revoke_superseded));
  }

  testing::CliRun cli(std::vector<std::string> args, const std::string& input = "",
                      bool tty = false) {
    args.insert(args.end(), {"--sim-dir", sim_dir, "--state-dir", dir.file("state")});
    return testing::run_cli(args, env.get(), input, tty);
  }
  sim::SimNode node(const std::string& name) {
    return sim::SimNode(*env, sim_dir, name, name + ".example.com");
  }
  pki::Certificate serving(const std::string& name) {
    auto chain = node(name).served_chain();
    REQUIRE(chain);
    REQUIRE_FALSE(chain->empty());
    return chain->front();
  }
  int restarts(const std::string& name) {
    auto audit = node(name).audit();
    REQUIRE(audit);
    int n = 0;
    for (const auto& e : *audit)
      if (e.operation == "restart" && e.outcome == "ok") ++n;
    return n;
  }
  std::string status_of(const pki::Certificate& cert) { return pebble.cert_status(cert); }
};

}  // namespace

TEST_CASE(
    "apply with expressway-acme: the nodes sign with real http-01 and deploy without a "
    "restart, revokeSuperseded and edgecert revoke go through the node",
    "[reconciler][e2e][acme][pebble]") {
  if (!testing::can_run_pebble(testing::pebble_dns_options())) return;
  AcmeCluster c;
  auto plan = c.cli({"plan", c.spec, "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.status == 2);
  CHECK(contains(plan.out, "factory temporary certificate"));
  CHECK(contains(plan.out, "0 restarts, 2 ACME deploys (no restart), one node at a time"));

  auto r = c.cli({"apply", c.spec, "--auto-approve"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Apply complete"));
  CHECK(contains(r.out, "acme-sign: signed by the node's ACME provider"));
  CHECK(contains(r.out, "(no restart)"));

  auto intermediate = pki::Certificate::parse_one(
      *c.env->read_file(c.dir.file("cluster/pebble-intermediate.pem"), kTestRead), "intermediate");
  REQUIRE(intermediate);
  std::map<std::string, pki::Certificate> first;
  for (const auto& name : c.names) {
    auto leaf = c.serving(name);
    CHECK(leaf.subject_cn() == "edge.example.com");
    CHECK(leaf.is_signed_by(*intermediate));
    auto dns = leaf.subject_alt_names().dns;
    CHECK(std::find(dns.begin(), dns.end(), name + ".example.com") != dns.end());
    CHECK(c.restarts(name) == 0);
    auto st = c.node(name).read_state();
    REQUIRE(st);
    CHECK(st->acme_status.status == "Account registered");
    CHECK(st->acme_status.last_sign_status.rfind("Success", 0) == 0);
    CHECK(st->acme_status.last_deploy_status.rfind("Success", 0) == 0);
    CHECK_FALSE(st->acme_status.pending_certificate_pem);
    CHECK_FALSE(st->pending_csr);
    CHECK(st->acme.provider_directory == c.pebble.directory_url());
    first.emplace(name, leaf);
  }
  auto again = c.cli({"plan", c.spec, "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.status == 0);
  CHECK(contains(again.out, "No changes. Live state matches the spec."));
  auto st_run = testing::run_cli({"status", c.spec, "--sim-dir", c.sim_dir}, c.env.get());
  INFO(st_run.out);
  CHECK(
      contains(st_run.out, "edge1: ACME manual (pebble): Account registered; last sign: Success"));

  // Someone signs a certificate for other names at edge1's ACME service: in
  // automated mode the node would deploy it, so apply takes it away.
  {
    auto e1 = c.node("edge1");
    node::CsrRequest other;
    other.common_name = "other.example.com";
    other.key_algorithm = spec::KeyAlgorithm::kEcdsa;
    other.key_size = 256;
    REQUIRE(e1.generate_csr(other));
    auto signed_other = e1.acme_sign();
    INFO((signed_other ? "" : signed_other.error().message));
    REQUIRE(signed_other);
    auto drift = c.cli({"plan", c.spec});
    INFO(drift.out << drift.err);
    CHECK(contains(drift.out,
                   "acme-discard-pending: the certificate pending in the node's ACME "
                   "service does not match the spec"));
    CHECK(contains(drift.out, "discard-csr"));
    auto fix = c.cli({"apply", c.spec, "--auto-approve"});
    INFO(fix.out << fix.err);
    REQUIRE(fix.status == 0);
    auto st = e1.read_state();
    REQUIRE(st);
    CHECK_FALSE(st->acme_status.pending_certificate_pem);
    CHECK_FALSE(st->pending_csr);
    CHECK(c.serving("edge1").sha256_fingerprint() == first.at("edge1").sha256_fingerprint());
    CHECK(contains(c.cli({"plan", c.spec}).out, "No changes."));
  }

  // A new name: every node re-signs; the replaced certificates are revoked
  // through the nodes (reason superseded) after the rollout was verified.
  c.write_spec("    additionalNames: [extra.example.com]\n");
  auto r2 = c.cli({"apply", c.spec, "--auto-approve"});
  INFO(r2.out << r2.err);
  REQUIRE(r2.status == 0);
  CHECK(contains(r2.out, "revoke-superseded: revoked serial"));
  for (const auto& name : c.names) {
    auto leaf = c.serving(name);
    auto dns = leaf.subject_alt_names().dns;
    CHECK(std::find(dns.begin(), dns.end(), "extra.example.com") != dns.end());
    std::string status = c.status_of(first.at(name));
    INFO(status);
    CHECK(contains(status, "Revoked"));
    CHECK(c.restarts(name) == 0);
  }

  // Without revokeSuperseded the old certificates stay valid until an
  // operator revokes one by hand: `edgecert revoke` through the node.
  c.write_spec("    additionalNames: [extra.example.com, more.example.com]\n",
               /*revoke_superseded=*/false);
  auto second = c.serving("edge1");
  auto r3 = c.cli({"apply", c.spec, "--auto-approve"});
  INFO(r3.out << r3.err);
  REQUIRE(r3.status == 0);
  CHECK_FALSE(contains(r3.out, "revoke-superseded"));
  CHECK(contains(c.status_of(second), "Valid"));

  c.dir.write("cluster/second.pem", second.to_pem());
  c.dir.write("cluster/current.pem", c.serving("edge1").to_pem());
  auto in_use =
      c.cli({"revoke", c.spec, "--node", "edge1", "--certificate",
             c.dir.file("cluster/current.pem"), "--reason", "key-compromise", "--auto-approve"});
  CHECK(in_use.status == 1);
  CHECK(contains(in_use.err, "edge1 serves it"));

  auto rv = c.cli({"revoke", c.spec, "--node", "edge1", "--certificate",
                   c.dir.file("cluster/second.pem"), "--reason", "key-compromise"},
                  "yes\n", true);
  INFO(rv.out << rv.err);
  REQUIRE(rv.status == 0);
  CHECK(contains(rv.out, "through: edge1's ACME service"));
  std::string status = c.status_of(second);
  INFO(status);
  CHECK(contains(status, "Revoked"));
  CHECK(contains(c.status_of(c.serving("edge1")), "Valid"));

  std::string everything = plan.out + r.out + r.err + r2.out + r3.out + rv.out;
  CHECK_FALSE(contains(everything, "PRIVATE KEY"));
  auto journal = c.env->read_file(c.dir.file("state/xacme/journal.jsonl"), kTestRead);
  REQUIRE(journal);
  CHECK_FALSE(contains(*journal, "PRIVATE KEY"));
}

TEST_CASE("apply with expressway-acme resumes at the deploy after a run stopped after signing",
          "[reconciler][e2e][acme][pebble]") {
  if (!testing::can_run_pebble(testing::pebble_dns_options())) return;
  AcmeCluster c;
  // Sign on the node by hand, as a run killed right after acme-sign leaves it.
  auto e1 = c.node("edge1");
  node::AcmeSettings a;
  a.provider_name = "pebble";
  a.provider_directory = c.pebble.directory_url();
  a.email = "pki@example.com";
  a.terms_accepted = true;
  a.mode = spec::AcmeMode::kManual;
  REQUIRE(e1.set_acme_settings(a));
  for (const char* f :
       {"cluster/pebble-tls.pem", "cluster/pebble-root.pem", "cluster/pebble-intermediate.pem"})
    REQUIRE(e1.append_trusted_cas(*c.env->read_file(c.dir.file(f), kTestRead)));
  node::CsrRequest req;
  req.common_name = "edge.example.com";
  req.dns_names = {"edge1.example.com"};
  req.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  req.key_size = 256;
  REQUIRE(e1.generate_csr(req));
  auto signed_ok = e1.acme_sign();
  INFO((signed_ok ? "" : signed_ok.error().message));
  REQUIRE(signed_ok);

  auto plan = c.cli({"plan", c.spec, "--output", "json"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.status == 0);
  auto j = nlohmann::json::parse(plan.out);
  std::vector<std::string> edge1;
  for (const auto& act : j["actions"])
    if (act["node"] == "edge1") edge1.push_back(act["kind"].get<std::string>());
  // Nothing to sign again on edge1: deploy what is pending, then verify.
  CHECK(edge1 == std::vector<std::string>{"set-tls-verification", "acme-deploy", "verify-served",
                                          "set-tls-verification"});

  auto r = c.cli({"apply", c.spec, "--auto-approve"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(c.cli({"plan", c.spec}).out, "No changes."));
}

TEST_CASE(
    "apply with expressway-acme over HTTPS: edgecert-sim nodes sign through their ACME "
    "service and deploy without a restart",
    "[reconciler][e2e][acme][pebble][https]") {
  if (!testing::can_run_pebble(testing::pebble_dns_options())) return;
  PebbleProcess pebble(testing::pebble_dns_options());
  TempDir dir;
  auto env = make_posix_env();
  const std::vector<std::pair<std::string, std::string>> peers = {{"edge1", "edge1.example.com"},
                                                                  {"edge2", "edge2.example.com"}};
  std::string state = dir.file("sim-state");
  REQUIRE(env->create_dirs(state, 0700));
  std::string pw = dir.write("password.txt", "s3cret-test-password\n");
  testing::SimProcessOptions so;
  so.state_dir = state;
  so.nodes = peers;
  so.password_file = pw;
  so.stderr_file = dir.file("sim.log");
  so.extra_args = {"--restart-seconds", "1"};
  for (const auto& [name, fqdn] : peers)
    so.extra_args.insert(
        so.extra_args.end(),
        {"--acme-http01-listen", fmt::format("{}=127.0.0.1:{}", name, pebble.http_port())});
  testing::SimProcess sim(so);

  std::string root = dir.write("cluster/pebble-root.pem", pebble.management_get("/roots/0"));
  dir.write("cluster/pebble-intermediate.pem", pebble.management_get("/intermediates/0"));
  dir.write("cluster/pebble-tls.pem", *env->read_file(pebble.ca_bundle(), kTestRead));
  // Management trust: the factory CAs the admin interfaces present first,
  // then Pebble's root once the ACME certificates serve.
  std::string bundle = *env->read_file(root, kTestRead) + sim.trusted_cas_pem(*env);
  dir.write("cluster/management-ca.pem", bundle);
  std::string peers_yaml = sim.peers_yaml();
  // The nodes' SSH host keys, pinned where access.knownHosts defaults to.
  sim.pin_host_keys(dir.file("cluster/.edgecert/known_hosts"));
  std::string spec = dir.write(
      "cluster/spec.yaml",
      fmt::format("apiVersion: edgecert/v1\n"
                  "kind: ExpresswayCluster\n"
                  "metadata: {{name: https-acme}}\n"
                  "spec:\n"
                  "  product: expressway-e\n"
                  "  clusterFqdn: edge.example.com\n"
                  "  peers:\n{}"
                  "  access: {{username: admin, passwordFrom: \"file:{}\", caBundle: "
                  "management-ca.pem}}\n"
                  "  serverCertificate:\n"
                  "    key: {{algorithm: ecdsa, size: 256}}\n"
                  "    issuer: {{type: expressway-acme}}\n"
                  "  trustedCAs:\n"
                  "    certificates: [pebble-tls.pem, pebble-root.pem, pebble-intermediate.pem]\n"
                  "  acme:\n"
                  "    provider: {{name: pebble, directory: \"{}\"}}\n"
                  "    email: pki@example.com\n"
                  "    acceptTermsOfService: true\n"
                  // Cluster TLS mode is a manual step on a real node.
                  "  rollout: {{healthTimeout: 1m, relaxTlsVerification: false}}\n",
                  peers_yaml, pw, pebble.directory_url()));
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--state-dir", dir.file("state")});
    return testing::run_cli(args, env.get());
  };

  auto plan = with({"plan", spec, "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.status == 2);
  CHECK(contains(plan.out, "0 restarts, 2 ACME deploys (no restart), one node at a time"));

  auto r = with({"apply", spec, "--auto-approve"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Apply complete"));
  auto intermediate = pki::Certificate::parse_one(
      *env->read_file(dir.file("cluster/pebble-intermediate.pem"), kTestRead), "i");
  REQUIRE(intermediate);
  for (const auto& [name, fqdn] : peers) {
    // verify-served checked the chain through a real TLS handshake.
    CHECK(contains(r.out, fmt::format("{}] verify-served: serving", name)));
    sim::SimNode node(*env, state, name, fqdn);
    auto served = node.served_chain();
    REQUIRE(served);
    CHECK(served->front().is_signed_by(*intermediate));
    auto trail = node.audit();
    REQUIRE(trail);
    for (const auto& e : *trail) CHECK_FALSE((e.operation == "restart" && e.outcome == "ok"));
  }
  auto again = with({"plan", spec, "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.status == 0);
  CHECK_FALSE(contains(plan.out + r.out + r.err + again.out, "s3cret-test-password"));
  CHECK_FALSE(contains(plan.out + r.out + r.err + again.out, "PRIVATE KEY"));
}

TEST_CASE(
    "apply with expressway-acme killed at every write: the next apply resumes, each node "
    "signs and deploys exactly once",
    "[reconciler][kill][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble{testing::PebbleOptions{}};  // validation skipped: nodes serve nothing
  const std::string tls = *default_env().read_file(pebble.ca_bundle(), kTestRead);
  const std::string root = pebble.management_get("/roots/0");
  const std::string intermediate = pebble.management_get("/intermediates/0");
  auto make = [&] {
    testing::SimClusterOptions o;
    o.peers = 2;
    o.init_ca = false;
    o.issuer = "{type: expressway-acme}";
    o.spec_extra = fmt::format(
        "  trustedCAs: {{certificates: [tls.pem, root.pem, intermediate.pem]}}\n"
        "  acme:\n"
        "    provider: {{name: pebble, directory: \"{}\"}}\n"
        "    email: pki@example.com\n"
        "    acceptTermsOfService: true\n",
        pebble.directory_url());
    auto c = std::make_unique<testing::SimCluster>(o);
    c->memory.pace(testing::kPebblePace);  // the nodes poll a real Pebble
    c->memory.put("cluster/tls.pem", tls);
    c->memory.put("cluster/root.pem", root);
    c->memory.put("cluster/intermediate.pem", intermediate);
    for (const auto& name : c->peer_names()) REQUIRE(c->node(name).set_acme_http01_listen("none"));
    return c;
  };
  auto count = [](testing::SimCluster& c, const std::string& name, const std::string& op) {
    auto audit = c.node(name).audit();
    REQUIRE(audit);
    return std::count_if(audit->begin(), audit->end(), [&](const sim::AuditEntry& e) {
      return e.operation == op && e.outcome == "ok";
    });
  };
  int total = 0;
  {
    auto probe = make();
    auto r = probe->apply();
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    total = probe->env.mutations();
  }
  REQUIRE(total > 10);
  for (int k = 1; k <= total; ++k) {
    DYNAMIC_SECTION("kill at write " << k) {
      auto c = make();
      c->env.crash_at_mutation(k);
      (void)c->apply();
      c->env.reset();
      c->memory.advance(std::chrono::seconds(30));
      if (auto lock = c->memory.read_file("cluster/.edgecert/state/test/lock.json", kTestRead)) {
        auto id = nlohmann::json::parse(*lock, nullptr, false);
        if (id.is_object())
          REQUIRE(c->cli({"force-unlock", id["id"], c->spec_path, "--force"}).status == 0);
      }
      auto r = c->apply();
      INFO("kill at " << k << "\n" << r.out << r.err);
      REQUIRE(r.status == 0);
      for (const auto& name : c->peer_names()) {
        CHECK(c->serving(name).issuer_cn().find("Pebble") != std::string::npos);
        CHECK(count(*c, name, "acme_sign") == 1);
        CHECK(count(*c, name, "acme_deploy") == 1);
        CHECK(count(*c, name, "restart") == 0);
      }
      CHECK(c->plan({"--detailed-exitcode"}).status == 0);
    }
  }
}
