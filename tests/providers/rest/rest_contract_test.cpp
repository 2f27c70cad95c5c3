// The node contract suite over the https:// provider against an in-process
// edgecert-sim (SimServer: REST + XML over real HTTPS, the CLI over real SSH),
// with verification on: the node's TLS certificate must verify for its FQDN
// against the CAs the node itself trusts (every section first appends the CA
// whose certificate it then serves, so the management trust follows the
// node's trusted CA list, the way an operator's caBundle follows the issuer),
// and its SSH host key must match the known_hosts file (pinned once when the
// target starts; the suite's providers never record a new key).
//
// Manual operations (everything a real node has no API for) are played by
// the suite through ContractTarget::play_operator on the same node files, as
// `edgecert-sim ui` does. Each case fails when the server saw a request it
// did not recognise. Reads are not retried here (get_attempts = 1): the suite
// counts requests (seeded failure patterns), and retries are client policy,
// tested with fakes in rest_provider_test.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/http/http_client.h"
#include "providers/rest/rest_provider.h"
#include "providers/simserver/sim_server.h"
#include "providers/ssh/ssh_client.h"
#include "tests/providers/node/contract_suite.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

constexpr const char* kPassword = "contract-pw";

// An HTTPS transport whose trust is the node's own trusted CA list, re-read
// before every request (a new libcurl handle when it changed).
class NodeTrustTransport final : public http::Transport {
 public:
  NodeTrustTransport(std::string state_dir, spec::Peer peer, int port)
      : state_dir_(std::move(state_dir)), peer_(std::move(peer)), port_(port) {}

  Result<http::Response> perform(const http::Request& request) override {
    // From the node file itself: SimNode's API would count as a request to
    // the node (fault injection: drops, failure rates).
    std::string pem = trusted_;
    if (auto file = default_env().read_file(state_dir_ + "/" + peer_.name + ".json", kTestRead)) {
      auto j = nlohmann::json::parse(*file, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("trusted_cas") && j["trusted_cas"].is_array()) {
        pem.clear();
        for (const auto& c : j["trusted_cas"])
          if (c.is_string()) pem += c.get<std::string>();
      }
    }
    if (!inner_ || pem != trusted_) {
      http::ClientOptions o;
      o.connect_host = "127.0.0.1";
      o.port = port_;
      o.server_name = peer_.fqdn;
      o.ca_pem = pem;
      o.tls_failure_hint = "the node's certificate does not verify against its own trusted CAs";
      o.username = "admin";
      o.password = pki::SecretString(kPassword);
      o.connect_timeout = std::chrono::seconds(5);
      o.request_timeout = std::chrono::seconds(30);
      auto t = http::make_curl_transport(std::move(o), default_env());
      if (!t) return std::unexpected(t.error());
      inner_ = std::move(*t);
      trusted_ = pem;
    }
    return inner_->perform(request);
  }

 private:
  std::string state_dir_;
  spec::Peer peer_;
  int port_;
  std::string trusted_;
  std::unique_ptr<http::Transport> inner_;
};

struct ServerHolder {
  testing::TempDir dir;
  std::string state = dir.file("sim");
  std::string known_hosts = dir.file("known_hosts");
  std::unique_ptr<simserver::SimServer> server;
  std::vector<int> ports;
  std::vector<int> ssh_ports;

  ServerHolder() {
    simserver::SimServerOptions o;
    o.state_dir = state;
    for (const char* n : {"edge1", "edge2"}) {
      simserver::NodeListener l;
      l.name = n;
      l.fqdn = std::string(n) + ".example.com";
      l.ssh_port = 0;
      o.nodes.push_back(l);
    }
    o.password = pki::SecretString(kPassword);
    o.scheduler_interval = std::chrono::milliseconds(0);
    server = std::make_unique<simserver::SimServer>(default_env(), std::move(o));
    auto p = server->start();
    REQUIRE(p);
    ports = *p;
    ssh_ports = server->ssh_ports();
    REQUIRE(ssh_ports.size() == 2);
    // Pin both host keys once (trust on first use), as an operator does with
    // --trust-new-host-key; everything after verifies against the file.
    for (int port : ssh_ports) {
      auto t = pin(port);
      REQUIRE(t);
      auto banner = (*t)->banner();
      INFO((banner ? std::string() : banner.error().message));
      REQUIRE(banner);
      (*t)->close();
    }
    auto pins = default_env().read_file(known_hosts, kTestRead);
    REQUIRE(pins);
    for (const std::string& fp : server->ssh_host_key_fingerprints()) CHECK_FALSE(fp.empty());
  }

  Result<std::unique_ptr<ssh::Transport>> ssh_client(int port, bool trust_new) {
    ssh::ClientOptions so;
    so.host = "127.0.0.1";
    so.port = port;
    so.user = "admin";
    so.password = ssh::Secret(kPassword);
    so.known_hosts_file = known_hosts;
    so.trust_new_host_key = trust_new;
    so.connect_timeout = std::chrono::seconds(5);
    so.command_timeout = std::chrono::seconds(30);
    return ssh::make_libssh_transport(std::move(so));
  }
  Result<std::unique_ptr<ssh::Transport>> pin(int port) { return ssh_client(port, true); }
};

class RestTarget : private ServerHolder, public testing::ContractTarget {
 public:
  RestTarget() {
    spec_.name = "contract";
    for (size_t i = 0; i < 2; ++i) {
      spec::Peer p;
      p.name = i == 0 ? "edge1" : "edge2";
      p.fqdn = p.name + ".example.com";
      p.endpoint = fmt::format("https://127.0.0.1:{}", ports[i]);
      p.ssh_host = "127.0.0.1";
      p.ssh_port = ssh_ports[i];
      spec_.peers.push_back(p);
    }
  }
  ~RestTarget() override {
    // Everything the provider sent is something a real node would recognise.
    const auto unrecognised = server->unrecognised_requests();
    INFO("unrecognised by edgecert-sim: " << fmt::format("{}", fmt::join(unrecognised, "; ")));
    CHECK(unrecognised.empty());
  }
  Env& env() override { return default_env(); }
  const spec::Spec& spec() override { return spec_; }
  Result<std::unique_ptr<node::NodeProvider>> open(const spec::Peer& peer) override {
    const size_t i = peer.name == "edge1" ? 0 : 1;
    auto cli = ssh_client(peer.ssh_port, /*trust_new=*/false);
    if (!cli) return std::unexpected(cli.error());
    rest::RestOptions o;
    o.get_attempts = 1;
    return rest::make_expressway_node_provider(
        peer.name, default_env(), std::make_unique<NodeTrustTransport>(state, peer, ports[i]),
        std::move(*cli), {spec::Interface::kRest, spec::Interface::kXml, spec::Interface::kCli}, o);
  }
  sim::SimNode admin(const spec::Peer& peer) override {
    return sim::SimNode(default_env(), state, peer.name, peer.fqdn);
  }
  int restart_seconds() const override { return 1; }
  bool can_jump_clock() const override { return false; }
  bool real_expressway() const override { return true; }

 private:
  spec::Spec spec_;
};

}  // namespace

EDGECERT_NODE_CONTRACT_TESTS("https, edgecert-sim over REST, XML and SSH", [] {
  return std::unique_ptr<testing::ContractTarget>(new RestTarget);
})

TEST_CASE("rest: a changed SSH host key is refused, naming both fingerprints", "[rest][ssh]") {
  ServerHolder h;
  // A known_hosts line for the port with another key.
  auto other = testing::run_command("ssh-keygen -q -t ed25519 -N '' -f " + h.dir.file("k") +
                                    " && cat " + h.dir.file("k.pub"));
  REQUIRE(other.status == 0);
  const std::string line = fmt::format("[127.0.0.1]:{} {}", h.ssh_ports[0], other.out);
  REQUIRE(default_env().write_file_atomic(h.known_hosts, line, 0600));
  auto t = h.ssh_client(h.ssh_ports[0], /*trust_new=*/true);
  REQUIRE(t);
  auto p = rest::make_expressway_node_provider("edge1", default_env(), nullptr, std::move(*t),
                                               {spec::Interface::kCli});
  auto r = p->acme_settings();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermission);
  CHECK(r.error().message.rfind("edge1: SSH xCommand ACME Settings Read (read ACME settings): ",
                                0) == 0);
  CHECK(r.error().message.find("HOST KEY CHANGED") != std::string::npos);
  CHECK(r.error().message.find(h.server->ssh_host_key_fingerprints()[0]) != std::string::npos);
}
