// read_cluster (live_state.h): nodes read concurrently up to the bound, the
// result in the nodes' order whatever order the reads end in, and a node
// that fails or throws recorded as that node's error only.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "reconciler/engine/live_state.h"

using namespace edgecert;

namespace {

// Counts the reads in flight; every other operation is not expected here.
struct Gauge {
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
};

class SlowNode final : public node::NodeProvider {
 public:
  enum class Mode { kOk, kFail, kThrow };
  SlowNode(std::string name, Gauge& gauge, std::chrono::milliseconds delay, Mode mode = Mode::kOk)
      : name_(std::move(name)), gauge_(gauge), delay_(delay), mode_(mode) {}

  const std::string& name() const override { return name_; }
  Result<node::NodeState> read_state() override {
    int now = ++gauge_.in_flight;
    for (int seen = gauge_.most; now > seen && !gauge_.most.compare_exchange_weak(seen, now);) {
    }
    // Real time: the reads must overlap for the gauge to see them.
    std::this_thread::sleep_for(delay_);
    --gauge_.in_flight;
    if (mode_ == Mode::kThrow) throw std::runtime_error("provider bug");
    if (mode_ == Mode::kFail) return make_error(ErrorCode::kUnavailable, name_ + ": no answer");
    node::NodeState s;
    s.software_version = "X15.0.1 " + name_;
    return s;
  }

  Result<std::string> generate_csr(const node::CsrRequest&) override { return no(); }
  Status discard_csr() override { return no(); }
  Result<node::UploadResult> upload_server_certificate(const node::CertificateUpload&) override {
    return no();
  }
  Result<node::AppendCasResult> append_trusted_cas(std::string_view) override { return no(); }
  Status delete_trusted_ca(const std::string&) override { return no(); }
  Status reset_trusted_cas() override { return no(); }
  Status set_crl_settings(const node::CrlSettings&) override { return no(); }
  Status upload_manual_crl(std::string_view) override { return no(); }
  Status remove_manual_crl() override { return no(); }
  Status set_revocation_checking(const spec::RevocationChecking&) override { return no(); }
  Status set_tls_verification(spec::TlsVerification) override { return no(); }
  Result<node::AcmeSettings> acme_settings() override { return no(); }
  Status set_acme_settings(const node::AcmeSettings&) override { return no(); }
  Status acme_sign() override { return no(); }
  Status acme_deploy() override { return no(); }
  Status acme_discard_pending() override { return no(); }
  Status acme_revoke(std::string_view, pki::RevocationReason) override { return no(); }
  Status restart() override { return no(); }
  Status wait_until_up(std::chrono::seconds) override { return no(); }
  Result<std::vector<pki::Certificate>> served_chain() override { return no(); }

 private:
  static std::unexpected<Error> no() {
    return std::unexpected(Error{ErrorCode::kUnimplemented, "not in this test"});
  }
  std::string name_;
  Gauge& gauge_;
  std::chrono::milliseconds delay_;
  Mode mode_;
};

OpenedNodes nodes_of(Gauge& gauge, int count, SlowNode::Mode third = SlowNode::Mode::kOk) {
  OpenedNodes nodes;
  for (int i = 0; i < count; ++i) {
    std::string name = "edge" + std::to_string(i + 1);
    // Earlier nodes are slower: concurrent reads end in reverse order.
    auto delay = std::chrono::milliseconds(20 + 10 * (count - i));
    nodes.providers.emplace_back(
        name, std::make_unique<SlowNode>(name, gauge, delay, i == 2 ? third : SlowNode::Mode::kOk));
  }
  return nodes;
}

}  // namespace

TEST_CASE("read_cluster reads up to `parallelism` nodes at once, in the nodes' order",
          "[live_state]") {
  for (size_t bound : {size_t{1}, size_t{3}, size_t{6}, size_t{20}}) {
    Gauge gauge;
    OpenedNodes nodes = nodes_of(gauge, 6);
    ClusterLive live = read_cluster(nodes, bound);
    INFO("parallelism " << bound);
    CHECK(gauge.most == static_cast<int>(std::min<size_t>(bound, 6)));
    REQUIRE(live.nodes.size() == 6);
    for (int i = 0; i < 6; ++i) {
      const std::string name = "edge" + std::to_string(i + 1);
      CHECK(live.nodes[i].peer == name);
      REQUIRE(live.nodes[i].state);
      CHECK(live.nodes[i].state->software_version == "X15.0.1 " + name);
      CHECK_FALSE(live.nodes[i].fingerprint.empty());
    }
  }
}

TEST_CASE("read_cluster: a node that fails or throws is that node's error only", "[live_state]") {
  for (auto mode : {SlowNode::Mode::kFail, SlowNode::Mode::kThrow}) {
    Gauge gauge;
    OpenedNodes nodes = nodes_of(gauge, 5, mode);
    ClusterLive live = read_cluster(nodes, 4);
    REQUIRE(live.nodes.size() == 5);
    CHECK_FALSE(live.all_readable());
    for (int i = 0; i < 5; ++i) {
      if (i == 2) {
        REQUIRE(live.nodes[i].error);
        CHECK_FALSE(live.nodes[i].state);
        CHECK(live.nodes[i].error->code ==
              (mode == SlowNode::Mode::kThrow ? ErrorCode::kInternal : ErrorCode::kUnavailable));
      } else {
        CHECK(live.nodes[i].state);
      }
    }
  }
}

TEST_CASE("read_cluster: clusters read at once share one bound through ReadSlots", "[live_state]") {
  // Three clusters of 6 nodes, each allowed 6 reads of its own, read from
  // three threads at once: the shared slots hold them to 4 in flight.
  Gauge gauge;  // one gauge: it counts the reads of every cluster
  ReadSlots slots(4);
  std::vector<OpenedNodes> clusters;
  for (int c = 0; c < 3; ++c) clusters.push_back(nodes_of(gauge, 6));
  std::vector<ClusterLive> lives(3);
  std::vector<std::thread> threads;
  for (int c = 0; c < 3; ++c)
    threads.emplace_back([&, c] { lives[c] = read_cluster(clusters[c], 6, &slots); });
  for (auto& t : threads) t.join();
  CHECK(gauge.most == 4);
  for (const ClusterLive& live : lives) {
    REQUIRE(live.nodes.size() == 6);
    CHECK(live.all_readable());
    CHECK(live.nodes[5].peer == "edge6");
  }
  // A slot is given back by a read that throws too: the next cluster still
  // gets all of them.
  Gauge second;
  OpenedNodes throwing = nodes_of(second, 6, SlowNode::Mode::kThrow);
  CHECK_FALSE(read_cluster(throwing, 6, &slots).all_readable());
  Gauge third;
  OpenedNodes after = nodes_of(third, 6);
  CHECK(read_cluster(after, 6, &slots).all_readable());
  CHECK(third.most == 4);
}
