// The edgecert-sim front end as a library, in-process: listeners on free
// ports, the appliance's auth/CSRF/error conventions, and the identity each
// listener presents.
#include <catch2/catch.hpp>

#include "providers/rest/rest_api.h"
#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"
#include "tests/providers/simserver/sim_server_client.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

using testing::sim_server_client;
using testing::sim_server_request;

TEST_CASE("simserver: one listener per node on free ports, appliance conventions", "[simserver]") {
  testing::TempDir dir;
  simserver::SimServerOptions o;
  o.state_dir = dir.file("sim");
  o.nodes = {{"edge1", "edge1.example.com", "127.0.0.1", 0},
             {"edge2", "edge2.example.com", "127.0.0.1", 0}};
  o.password = pki::SecretString("pw");
  simserver::SimServer server(default_env(), std::move(o));
  auto ports = server.start();
  REQUIRE(ports);
  REQUIRE(ports->size() == 2);
  CHECK((*ports)[0] != (*ports)[1]);

  auto good = sim_server_client((*ports)[0], "edge1.example.com", "pw");
  auto ping = good->perform(sim_server_request("GET", rest::kPingPath));
  REQUIRE(ping);
  CHECK(ping->status == 200);
  CHECK(ping->body.find("X14.3.1") != std::string::npos);

  auto bad = sim_server_client((*ports)[0], "edge1.example.com", "nope");
  auto denied = bad->perform(sim_server_request("GET", rest::kStatusPath));
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(rest::message_of(denied->body).find("Authentication failed") != std::string::npos);

  auto no_csrf = good->perform(sim_server_request("DELETE", rest::kGenerateCsrPath));
  REQUIRE(no_csrf);
  CHECK(no_csrf->status == 403);

  auto with_csrf = sim_server_request("DELETE", rest::kGenerateCsrPath);
  with_csrf.headers.emplace_back(rest::kCsrfHeader, "1");
  auto none = good->perform(with_csrf);
  REQUIRE(none);
  CHECK(none->status == 404);
  CHECK(rest::message_of(none->body) == "no CSR is in progress");

  auto unknown = good->perform(sim_server_request("GET", "/api/provisioning/nothing"));
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(rest::message_of(unknown->body).find("no such resource") != std::string::npos);

  auto bad_json = sim_server_request("PUT", rest::kClusterTlsPath);
  bad_json.headers.emplace_back(rest::kCsrfHeader, "1");
  bad_json.body = R"({"Mode": "Sometimes"})";
  auto rejected = good->perform(bad_json);
  REQUIRE(rejected);
  CHECK(rejected->status == 400);

  // Each listener presents its own node's active certificate.
  for (int i = 0; i < 2; ++i) {
    std::string name = i == 0 ? "edge1" : "edge2";
    auto c = sim_server_client((*ports)[i], name + ".example.com", "pw");
    auto g = sim_server_request("GET", rest::kServerCertPath);
    g.capture_peer_chain = true;
    auto r = c->perform(g);
    REQUIRE(r);
    REQUIRE(r->peer_chain.size() == 1);
    auto served = pki::Certificate::parse_one(r->peer_chain[0], "served");
    REQUIRE(served);
    sim::SimNode node(default_env(), dir.file("sim"), name, name + ".example.com");
    auto st = node.read_state();
    REQUIRE(st);
    CHECK(served->sha256_fingerprint() == st->server_chain.front().sha256_fingerprint());
    CHECK(r->body == st->server_chain.front().to_pem());
  }

  server.stop();
  server.stop();  // idempotent
  CHECK_FALSE(good->perform(sim_server_request("GET", rest::kPingPath)));
}

TEST_CASE("simserver: NAME=VALUE flags", "[simserver]") {
  auto kv = simserver::split_assignment("--node", "edge1=127.0.0.1:0");
  REQUIRE(kv);
  CHECK(kv->first == "edge1");
  CHECK(kv->second == "127.0.0.1:0");
  CHECK_FALSE(simserver::split_assignment("--node", "edge1"));
  CHECK_FALSE(simserver::split_assignment("--fqdn", "=x"));
}

}  // namespace
