// The node contract suite, unchanged, over the https:// provider talking to an
// edgecert-sim child process (real TLS, real HTTP, real clock). The suite
// sets conditions through the simulator's administration API on the same
// node files the server serves.
//
// TLS verification is off here (NodeOpenContext::insecure): the suite's
// certificates come from CAs it creates inside each section, which no bundle
// prepared in advance could hold. Verification itself is tested in
// rest_provider_test.cpp. GETs are not retried here (get_attempts = 1): the
// suite counts requests (seeded failure patterns), and retries are client
// policy, tested separately.
#include <catch2/catch.hpp>

#include "providers/rest/rest_provider.h"
#include "tests/providers/node/contract_suite.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

struct RestHolder {
  testing::TempDir dir;
  std::unique_ptr<testing::SimProcess> sim;
  RestHolder() {
    std::string pw = dir.write("password", "contract-pw\n");
    testing::SimProcessOptions o;
    o.state_dir = dir.file("sim");
    o.nodes = {{"edge1", "edge1.example.com"}, {"edge2", "edge2.example.com"}};
    o.password_file = pw;
    // The old provider's suite expects 503 "node is restarting".
    o.extra_args = {"--restart-seconds", "1", "--restart-refuses-connections", "off"};
    sim = std::make_unique<testing::SimProcess>(o);
  }
};

class RestTarget : private RestHolder, public testing::ContractTarget {
 public:
  RestTarget() : ctx_(default_env()) {
    ctx_.insecure = true;
    ctx_.connect_timeout = std::chrono::seconds(5);
    ctx_.request_timeout = std::chrono::seconds(30);
    spec_.name = "contract";
    spec_.peers = {{"edge1", "edge1.example.com", sim->endpoint("edge1")},
                   {"edge2", "edge2.example.com", sim->endpoint("edge2")}};
    spec_.access = spec::Access{"admin", "file:" + dir.file("password"), std::nullopt};
  }
  Env& env() override { return default_env(); }
  const spec::Spec& spec() override { return spec_; }
  Result<std::unique_ptr<node::NodeProvider>> open(const spec::Peer& peer) override {
    rest::RestOptions o;
    o.get_attempts = 1;
    return rest::make_https_node_provider_with(ctx_, spec_, peer, o);
  }
  sim::SimNode admin(const spec::Peer& peer) override {
    return sim::SimNode(default_env(), dir.file("sim"), peer.name, peer.fqdn);
  }
  int restart_seconds() const override { return 1; }
  bool can_jump_clock() const override { return false; }

 private:
  node::NodeOpenContext ctx_;
  spec::Spec spec_;
};

}  // namespace

EDGECERT_NODE_CONTRACT_TESTS("https, edgecert-sim", [] {
  return std::unique_ptr<testing::ContractTarget>(new RestTarget);
})
