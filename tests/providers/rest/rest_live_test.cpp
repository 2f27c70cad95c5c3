// The https:// provider as `edgecert` opens it (the spec's access block, the
// registered factory) against an edgecert-sim child process: HTTP Basic
// credentials, the server certificate verified against access.caBundle for
// the peer FQDN (or skipped with --insecure), SSH host keys pinned in
// access.knownHosts (--trust-new-host-key records an unknown one), and the
// password never in an error.
#include <catch2/catch.hpp>

#include "providers/pki/signer.h"
#include "providers/rest/rest_provider.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct Live {
  testing::TempDir dir;
  std::string password_file = dir.write("password", "live-pw\n");
  std::string known_hosts = dir.file("spec/.edgecert/known_hosts");
  std::unique_ptr<testing::SimProcess> sim;

  Live() {
    testing::SimProcessOptions o;
    o.state_dir = dir.file("sim");
    o.nodes = {{"edge1", "edge1.example.com"}, {"edge2", "edge2.example.com"}};
    o.password_file = password_file;
    o.stderr_file = dir.file("sim.log");
    o.extra_args = {"--restart-seconds", "1"};
    sim = std::make_unique<testing::SimProcess>(o);
  }

  struct Open {
    std::optional<std::string> ca_bundle;
    bool insecure = false;
    bool trust_new_host_key = false;
    std::string password_from;
    std::string fqdn = "edge1.example.com";
    std::vector<spec::Interface> interfaces = {spec::Interface::kRest, spec::Interface::kXml,
                                               spec::Interface::kCli};
  };
  Result<std::unique_ptr<node::NodeProvider>> open(const Open& o) {
    node::NodeOpenContext ctx(default_env());
    ctx.insecure = o.insecure;
    ctx.trust_new_host_key = o.trust_new_host_key;
    ctx.connect_timeout = std::chrono::seconds(5);
    ctx.request_timeout = std::chrono::seconds(30);
    spec::Spec s;
    s.name = "live";
    s.directory = dir.file("spec");
    spec::Peer p{"edge1", o.fqdn, sim->endpoint("edge1")};
    p.ssh_host = "127.0.0.1";
    p.ssh_port = sim->ssh_port("edge1");
    s.peers = {p};
    spec::Access a{"admin", o.password_from.empty() ? "file:" + password_file : o.password_from,
                   o.ca_bundle};
    a.interfaces = o.interfaces;  // knownHosts left empty: the default next to the spec
    s.access = a;
    return node::open_node(ctx, s, s.peers[0]);
  }
  std::unique_ptr<node::NodeProvider> open_ok(const Open& o) {
    auto n = open(o);
    REQUIRE(n);
    return std::move(*n);
  }
  std::string factory_ca_pem() {
    sim::SimNode n(default_env(), dir.file("sim"), "edge1", "edge1.example.com");
    auto st = n.read_state();
    REQUIRE(st);
    return st->trusted_cas.front().to_pem();
  }
};

}  // namespace

TEST_CASE("rest live: a verified node over REST, XML and SSH reads like a real Expressway",
          "[rest][live]") {
  Live l;
  l.sim->pin_host_keys(l.known_hosts);
  Live::Open o;
  o.ca_bundle = l.dir.write("bundle.pem", l.factory_ca_pem());
  auto n = l.open_ok(o);
  auto s = n->read_state();
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  CHECK(s->product == node::Product::kExpresswayE);
  CHECK(s->software_version == "X14.3.1");
  REQUIRE(s->uptime_seconds);
  REQUIRE(s->cluster_peers);
  CHECK(*s->cluster_peers == std::vector<std::string>{"edge1.example.com", "edge2.example.com"});
  CHECK(s->server_chain.front().subject_cn() == "edge1.example.com");
  CHECK(s->manual_operations.size() == 8);
  auto log = default_env().read_file(l.dir.file("sim.log"), kTestRead);
  REQUIRE(log);
  CHECK_FALSE(contains(*log, "unrecognised"));
}

TEST_CASE("rest live: wrong password is refused on every interface, never echoed", "[rest][live]") {
  Live l;
  l.sim->pin_host_keys(l.known_hosts);
  Live::Open o;
  o.insecure = true;
  o.password_from = "file:" + l.dir.write("wrong", "not-the-password\n");
  auto n = l.open_ok(o);
  auto r = n->read_state();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermission);
  CHECK(r.error().message.rfind(
            "edge1: REST GET /api/provisioning/certs/server (read server certificate): HTTP 401 "
            "Unauthorized",
            0) == 0);
  CHECK_FALSE(contains(r.error().message, "not-the-password"));
  auto a = n->acme_settings();
  REQUIRE_FALSE(a);
  CHECK(a.error().code == ErrorCode::kPermission);
  CHECK(a.error().message.rfind("edge1: SSH xCommand ACME Settings Read (read ACME settings): ",
                                0) == 0);
  CHECK_FALSE(contains(a.error().message, "not-the-password"));
  auto w = n->wait_until_up(std::chrono::seconds(5));  // not transient: no polling
  REQUIRE_FALSE(w);
  CHECK(w.error().code == ErrorCode::kPermission);
}

TEST_CASE("rest live: the server certificate is verified against access.caBundle", "[rest][live]") {
  Live l;
  const std::vector<spec::Interface> https_only = {spec::Interface::kRest, spec::Interface::kXml};
  std::string right = l.dir.write("right.pem", l.factory_ca_pem());
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  pki::CaOptions co;
  co.common_name = "Unrelated CA";
  co.not_before = Clock::now() - std::chrono::hours(1);
  co.not_after = Clock::now() + std::chrono::days(30);
  auto other = pki::create_self_signed_ca(*key, co);
  REQUIRE(other);
  std::string wrong = l.dir.write("wrong.pem", other->to_pem());

  SECTION("the node's CA and its FQDN verify") {
    Live::Open o;
    o.ca_bundle = right;
    o.interfaces = https_only;
    CHECK(l.open_ok(o)->read_state());
  }
  SECTION("a wrong bundle fails clearly, with no fallback") {
    Live::Open o;
    o.ca_bundle = wrong;
    o.interfaces = https_only;
    auto r = l.open_ok(o)->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermission);
    CHECK(contains(r.error().message,
                   "edge1: REST GET /api/provisioning/certs/server (read server "
                   "certificate): TLS verification failed"));
  }
  SECTION("the certificate must name the peer FQDN") {
    Live::Open o;
    o.ca_bundle = right;
    o.fqdn = "edge9.example.com";
    o.interfaces = https_only;
    auto r = l.open_ok(o)->read_state();
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "TLS verification failed"));
  }
  SECTION("insecure (the CLI's --insecure) skips verification explicitly") {
    Live::Open o;
    o.ca_bundle = wrong;
    o.insecure = true;
    o.interfaces = https_only;
    CHECK(l.open_ok(o)->read_state());
  }
}

TEST_CASE("rest live: SSH host keys are pinned in access.knownHosts", "[rest][live]") {
  Live l;
  Live::Open o;
  o.insecure = true;
  o.interfaces = {spec::Interface::kCli};
  auto refused = l.open_ok(o)->read_state();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kPermission);
  CHECK(contains(refused.error().message, "edge1: SSH xStatus SystemUnit"));
  CHECK(contains(refused.error().message, "is not pinned in " + l.known_hosts));
  CHECK_FALSE(default_env().exists(l.known_hosts));

  o.trust_new_host_key = true;
  auto trusted = l.open_ok(o)->read_state();
  INFO((trusted ? std::string() : trusted.error().message));
  REQUIRE(trusted);
  CHECK(trusted->product == node::Product::kExpresswayE);
  auto pins = default_env().read_file(l.known_hosts, kTestRead);
  REQUIRE(pins);
  CHECK(contains(*pins, fmt::format("[127.0.0.1]:{} ", l.sim->ssh_port("edge1"))));

  o.trust_new_host_key = false;
  CHECK(l.open_ok(o)->read_state());  // pinned now
}
