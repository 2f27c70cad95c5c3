// Tests the provider registry itself. The contract suite's instantiations
// live with each provider's tests (tests/providers/sim/sim_contract_test.cpp).
#include <catch2/catch.hpp>

#include "providers/node/node.h"

namespace {

using namespace edgecert;

spec::Spec two_peer_spec(const std::string& endpoint2) {
  spec::Spec s;
  s.name = "reg";
  s.peers = {{"edge1", "edge1.example.com", "sim://edge1"},
             {"edge2", "edge2.example.com", endpoint2}};
  return s;
}

}  // namespace

TEST_CASE("node registry: open_node picks the provider by scheme", "[node]") {
  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  ctx.sim_dir = "/sim";
  spec::Spec s = two_peer_spec("ftp://edge2");

  auto schemes = node::registered_node_schemes();
  CHECK(std::find(schemes.begin(), schemes.end(), "sim") != schemes.end());

  auto ok = node::open_node(ctx, s, s.peers[0]);
  REQUIRE(ok);
  CHECK((*ok)->name() == "edge1");

  auto bad = node::open_node(ctx, s, s.peers[1]);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message.find("edge2: open: endpoint 'ftp://edge2' has unknown scheme 'ftp'") ==
        0);
  CHECK(bad.error().message.find("sim://") != std::string::npos);

  s.peers[1].endpoint = "edge2.example.com";
  auto none = node::open_node(ctx, s, s.peers[1]);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no scheme") != std::string::npos);

  s.peers[1].endpoint = "sim://Edge_2";
  auto badname = node::open_node(ctx, s, s.peers[1]);
  REQUIRE_FALSE(badname);
  CHECK(badname.error().message.find("edge2: open: ") == 0);
}

TEST_CASE("node registry: a registered factory is used for its scheme", "[node]") {
  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  spec::Spec s = two_peer_spec("fake://edge2");
  int calls = 0;
  node::register_node_provider(
      "fake",
      [&calls](const node::NodeOpenContext&, const spec::Spec&,
               const spec::Peer& p) -> Result<std::unique_ptr<node::NodeProvider>> {
        ++calls;
        return make_error(ErrorCode::kUnavailable, p.name + ": open: fake provider");
      });
  auto r = node::open_node(ctx, s, s.peers[1]);
  CHECK(calls == 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "edge2: open: fake provider");
}

TEST_CASE(
    "node: sim dir is --sim-dir, else $EDGECERT_SIM_DIR, else .edgecert/sim/<name> by the spec",
    "[node]") {
  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  spec::Spec s = two_peer_spec("sim://edge2");
  CHECK(node::effective_sim_dir(ctx, s) == ".edgecert/sim/reg");
  // Next to the spec, not in the working folder.
  s.directory = "/srv/clusters/tokyo";
  CHECK(node::effective_sim_dir(ctx, s) == "/srv/clusters/tokyo/.edgecert/sim/reg");
  env.set_env("EDGECERT_SIM_DIR", "/var/sim");
  CHECK(node::effective_sim_dir(ctx, s) == "/var/sim");
  ctx.sim_dir = "/flag";
  CHECK(node::effective_sim_dir(ctx, s) == "/flag");
}

TEST_CASE("node: passwordFrom env: and file: resolve without echoing the secret", "[node]") {
  MemoryEnv env;
  env.set_env("EXPRESSWAY_PASSWORD", "s3cret");
  env.put("/secrets/pw", "filepw\n");
  auto a = node::resolve_password_from(env, "env:EXPRESSWAY_PASSWORD");
  REQUIRE(a);
  CHECK(a->view() == "s3cret");
  auto b = node::resolve_password_from(env, "file:/secrets/pw");
  REQUIRE(b);
  CHECK(b->view() == "filepw");
  auto c = node::resolve_password_from(env, "env:MISSING");
  REQUIRE_FALSE(c);
  CHECK(c.error().message.find("MISSING") != std::string::npos);
  auto d = node::resolve_password_from(env, "plain:x");
  REQUIRE_FALSE(d);
  CHECK(d.error().code == ErrorCode::kInvalidArgument);
}
