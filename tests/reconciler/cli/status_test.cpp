// `edgecert status` over a 3-peer sim:// cluster: text, JSON, unreachable
// nodes, the sim dir options, and no secrets in the output.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/node/node.h"
#include "providers/sim/sim_provider.h"
#include "schema/loader.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using testing::run_cli;

const char* kSpec = R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: tokyo
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: sim://edge1}
    - {name: edge2, fqdn: edge2.example.com, endpoint: sim://edge2}
    - {name: edge3, fqdn: edge3.example.com, endpoint: sim://edge3}
  serverCertificate:
    issuer: {type: openssl-ca, directory: ca/}
)";

struct Cluster {
  MemoryEnv env;
  Cluster() { env.put("/work/spec.yaml", kSpec); }
  sim::SimNode admin(const std::string& peer, const std::string& dir = "/sim") {
    auto loaded = schema::load_spec_file("/work/spec.yaml", env);
    REQUIRE(loaded.ok());
    node::NodeOpenContext ctx(env);
    ctx.sim_dir = dir;
    auto n = sim::sim_node_for(ctx, *loaded.spec, *loaded.spec->find_peer(peer));
    REQUIRE(n);
    return std::move(*n);
  }
};

}  // namespace

TEST_CASE("status: text table of every node's live state", "[status]") {
  Cluster c;
  node::CsrRequest req;
  req.common_name = "edge.example.com";
  req.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  req.key_size = 256;
  REQUIRE(c.admin("edge2").generate_csr(req));
  REQUIRE(c.admin("edge3").set_tls_verification(spec::TlsVerification::kPermissive));

  auto r = run_cli({"status", "/work/spec.yaml", "--sim-dir", "/sim"}, &c.env);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("NODE ", 0) == 0);
  for (const char* h : {"CN", "SANS", "EXPIRES", "ISSUER", "CSR", "RESTART", "CAS", "TLS"})
    CHECK(r.out.find(h) != std::string::npos);
  for (const char* p : {"edge1", "edge2", "edge3"}) {
    std::string fqdn = std::string(p) + ".example.com";
    CHECK(r.out.find("\n" + std::string(p) + " ") != std::string::npos);
    CHECK(r.out.find(fqdn) != std::string::npos);
  }
  CHECK(r.out.find("TEMPORARY CA ") != std::string::npos);
  CHECK(r.out.find("yes (edge.example.com)") != std::string::npos);
  CHECK(r.out.find("permissive") != std::string::npos);
  CHECK(r.out.find("enforce") != std::string::npos);
  CHECK(r.out.find("PRIVATE KEY") == std::string::npos);
  // Nor any line of a key the nodes hold (their own disk has them).
  for (const char* p : {"edge1", "edge2", "edge3"}) {
    auto file = c.env.read_file(std::string("/sim/") + p + ".json", kTestRead);
    REQUIRE(file);
    size_t pos = 0;
    int keys = 0;
    while ((pos = file->find("BEGIN PRIVATE KEY-----\\n", pos)) != std::string::npos) {
      size_t start = pos + 24;
      std::string line = file->substr(start, 64);
      CHECK(line.find('\\') == std::string::npos);
      CHECK(r.out.find(line) == std::string::npos);
      CHECK(r.err.find(line) == std::string::npos);
      ++keys;
      pos = start;
    }
    CHECK(keys >= 1);
  }
}

TEST_CASE("status: --output json", "[status]") {
  Cluster c;
  auto r = run_cli({"status", "/work/spec.yaml", "--sim-dir", "/sim", "--output", "json"}, &c.env);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("cluster") == "tokyo");
  REQUIRE(j.at("nodes").size() == 3);
  const auto& n1 = j["nodes"][0];
  CHECK(n1.at("name") == "edge1");
  CHECK(n1.at("reachable") == true);
  CHECK(n1.at("software_version") == "X14.3.1");
  CHECK(n1.at("server_certificate").at("subject_cn") == "edge1.example.com");
  CHECK(n1.at("server_certificate").at("sans") == nlohmann::json::array({"edge1.example.com"}));
  CHECK(n1.at("server_certificate").at("issuer_cn").get<std::string>().rfind("TEMPORARY CA ", 0) ==
        0);
  CHECK(n1.at("pending_csr").is_null());
  CHECK(n1.at("restart_required") == false);
  CHECK(n1.at("trusted_ca_count") == 1);
  CHECK(n1.at("tls_verification") == "enforce");
  CHECK(r.out.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("status: an unreachable node is shown with its error, the others still are", "[status]") {
  Cluster c;
  sim::FaultConfig f;
  f.restart_never_returns = true;
  auto edge2 = c.admin("edge2");
  REQUIRE(edge2.set_faults(f));
  REQUIRE(edge2.restart());

  auto r = run_cli({"status", "/work/spec.yaml", "--sim-dir", "/sim"}, &c.env);
  CHECK(r.status == 1);
  CHECK(r.out.find("edge1.example.com") != std::string::npos);
  CHECK(r.out.find("edge3.example.com") != std::string::npos);
  CHECK(r.out.find("(unreachable)") != std::string::npos);
  CHECK(r.out.find("edge2: unreachable: edge2: read state: node is restarting") !=
        std::string::npos);

  auto j = run_cli({"status", "/work/spec.yaml", "--sim-dir", "/sim", "-o", "json"}, &c.env);
  CHECK(j.status == 1);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["nodes"][1]["reachable"] == false);
  CHECK(doc["nodes"][1]["error"] == "edge2: read state: node is restarting");
  CHECK(doc["nodes"][0]["reachable"] == true);
  CHECK(doc["nodes"][2]["reachable"] == true);
}

TEST_CASE("status: sim dir from $EDGECERT_SIM_DIR, else .edgecert/sim/<name>", "[status]") {
  Cluster c;
  auto r = run_cli({"status", "/work/spec.yaml"}, &c.env);
  CHECK(r.status == 0);
  CHECK(c.env.exists("/work/.edgecert/sim/tokyo/edge1.json"));
  c.env.set_env("EDGECERT_SIM_DIR", "/elsewhere");
  r = run_cli({"status", "/work/spec.yaml"}, &c.env);
  CHECK(r.status == 0);
  CHECK(c.env.exists("/elsewhere/edge3.json"));
}

TEST_CASE("status: spec errors are diagnostics and exit 1, touching no node", "[status]") {
  MemoryEnv env;
  env.put("/work/bad.yaml", "apiVersion: edgecert/v1\nkind: Nope\n");
  auto r = run_cli({"status", "/work/bad.yaml", "--sim-dir", "/sim"}, &env);
  CHECK(r.status == 1);
  CHECK(r.err.find("/work/bad.yaml:") == 0);
  CHECK(r.out.empty());
  CHECK_FALSE(env.exists("/sim"));
}
