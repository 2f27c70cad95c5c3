// `edgecert probe` on the command line: option errors, a node that answers on
// no interface (text and JSON), and --spec. The probing itself is tested
// with fake transports in tests/providers/rest/probe_test.cpp and against a
// real edgecert-sim in tests/scripts/probe_test.sh.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/base/env.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using testing::run_cli;

// Nothing listens on port 1 of the loopback: every interface fails at once.
const std::vector<std::string> kClosed{
    "probe", "https://127.0.0.1:1", "--ssh", "127.0.0.1:1", "--username",
    "admin", "--password-from",     "env:PW"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace

TEST_CASE("probe: a password on the command line is refused", "[probe][cli]") {
  MemoryEnv env;
  auto r = run_cli(
      {"probe", "https://edge1.example.com", "--username", "admin", "--password", "hunter2"}, &env);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("--password is not accepted") != std::string::npos);
  CHECK(r.err.find("--password-from env:VAR") != std::string::npos);
  CHECK(r.err.find("hunter2") == std::string::npos);
}

TEST_CASE("probe: option errors say what is wrong", "[probe][cli]") {
  MemoryEnv env;
  env.set_env("PW", "secret-pw");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"probe", "--username", "admin", "--password-from", "env:PW"}, "give at least one ENDPOINT"},
      {{"probe", "http://edge1.example.com", "--username", "admin", "--password-from", "env:PW"},
       "ENDPOINT 'http://edge1.example.com': not an https:// endpoint"},
      {{"probe", "https://edge1.example.com", "--password-from", "env:PW"},
       "--username is required"},
      {{"probe", "https://edge1.example.com", "--username", "admin"},
       "--password-from env:VAR or file:PATH is required"},
      {{"probe", "https://edge1.example.com", "--username", "admin", "--password-from", "env:NOPE"},
       "--password-from: passwordFrom env:NOPE: environment variable NOPE is not set"},
      {{"probe", "https://edge1.example.com", "--username", "admin", "--password-from",
        "secret-pw"},
       "expected env:VAR or file:PATH"},
      {with(kClosed, {"--interfaces", "rest,soap"}),
       "--interfaces: unknown interface 'soap' (expected rest, xml, cli)"},
      {with(kClosed, {"--ssh", "127.0.0.1:2"}),
       "--ssh 127.0.0.1:2: more --ssh addresses than nodes (1)"},
      {with(kClosed, {"--ssh", "edge9=127.0.0.1:2"}),
       "--ssh edge9=127.0.0.1:2: no node is called 'edge9' (nodes: 127.0.0.1:1)"},
      {{"probe", "https://edge1.example.com", "--ssh", "edge1.example.com", "--username", "admin",
        "--password-from", "env:PW"},
       "--ssh 'edge1.example.com': no port (expected HOST:PORT)"},
  };
  for (const Case& c : cases) {
    auto r = run_cli(c.args, &env);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.find("secret-pw") == std::string::npos);
  }
}

TEST_CASE("probe: a node answering on no interface: every interface named, exit 1",
          "[probe][cli]") {
  MemoryEnv env;
  env.set_env("PW", "secret-pw");
  auto r = run_cli(kClosed, &env);
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.out.starts_with("127.0.0.1:1 (https://127.0.0.1:1, SSH 127.0.0.1:1)\n"));
  CHECK(r.out.find("interfaces   REST FAILED, XML FAILED, SSH FAILED") != std::string::npos);
  CHECK(r.out.find("error: 127.0.0.1:1: REST GET /api/provisioning/certs/server (read "
                   "server certificate): cannot connect") != std::string::npos);
  CHECK(r.out.find("error: 127.0.0.1:1: XML /getxml?location=/Status/SystemUnit (read "
                   "product and version): cannot connect") != std::string::npos);
  CHECK(r.out.find("error: 127.0.0.1:1: SSH login (open the CLI session): SSH "
                   "admin@127.0.0.1:1: cannot connect") != std::string::npos);
  // The manual steps are known without asking the node.
  CHECK(r.out.find("manual         -    set the cluster TLS verification mode") !=
        std::string::npos);
  CHECK(r.out.find("unavailable    -    generate a CSR") != std::string::npos);
  CHECK(r.err.find("1 of 1 node(s) did not answer on every allowed interface") !=
        std::string::npos);
  CHECK(r.out.find("secret-pw") == std::string::npos);
  CHECK(r.err.find("secret-pw") == std::string::npos);
  // Nothing was pinned: no host key was seen.
  CHECK_FALSE(env.exists(".edgecert/known_hosts"));
}

TEST_CASE("probe: --output json", "[probe][cli]") {
  MemoryEnv env;
  env.set_env("PW", "secret-pw");
  auto r = run_cli(with(kClosed, {"--output", "json", "--interfaces", "xml,cli"}), &env);
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["answered"] == false);
  REQUIRE(j["nodes"].size() == 1);
  const auto& n = j["nodes"][0];
  CHECK(n["name"] == "127.0.0.1:1");
  CHECK(n["endpoint"] == "https://127.0.0.1:1");
  CHECK(n["ssh"] == "127.0.0.1:1");
  CHECK(n["answered"] == false);
  CHECK(n["product"] == "unknown");
  CHECK(n["version"].is_null());
  CHECK(n["interfaces"]["rest"]["allowed"] == false);
  CHECK(n["interfaces"]["rest"]["answered"] == true);
  CHECK(n["interfaces"]["rest"]["calls"].empty());
  CHECK(n["interfaces"]["xml"]["answered"] == false);
  CHECK(n["interfaces"]["xml"]["errors"][0].get<std::string>().find(
            "127.0.0.1:1: XML /getxml?location=/Status/SystemUnit") == 0);
  CHECK(n["interfaces"]["cli"]["errors"][0].get<std::string>().find("SSH login") !=
        std::string::npos);
  CHECK(n["raml"]["served"].is_null());
  bool found = false;
  for (const auto& op : n["operations"])
    if (op["id"] == "generate-csr") {
      found = true;
      CHECK(op["mode"] == "unavailable");
      CHECK(op["interface"].is_null());
      CHECK(op["note"] == "needs REST: REST is not allowed here");
    }
  CHECK(found);
}

TEST_CASE("probe --spec: peers and access from the spec", "[probe][cli]") {
  MemoryEnv env;
  env.set_env("PW", "secret-pw");
  env.put("/work/spec.yaml", R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: tokyo
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: "https://127.0.0.1:1", ssh: "127.0.0.1:1"}
    - {name: edge2, fqdn: edge2.example.com, endpoint: "sim://edge2"}
  access: {username: admin, passwordFrom: "env:PW", interfaces: [xml, cli]}
  serverCertificate:
    issuer: {type: openssl-ca, directory: ca/}
)");
  auto r = run_cli({"probe", "--spec", "/work/spec.yaml", "-o", "json"}, &env);
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["nodes"].size() == 1);
  CHECK(j["nodes"][0]["name"] == "edge1");
  CHECK(j["nodes"][0]["ssh"] == "127.0.0.1:1");                    // peers[].ssh
  CHECK(j["nodes"][0]["interfaces"]["rest"]["allowed"] == false);  // access.interfaces
  CHECK(j["nodes"][0]["interfaces"]["xml"]["allowed"] == true);
  CHECK(j["notes"][0] == "peer edge2 skipped: sim://edge2 is not an https:// endpoint");

  auto named = run_cli({"probe", "--spec", "/work/spec.yaml", "edge2"}, &env);
  CHECK(named.status == 1);
  CHECK(named.err.find("peer edge2: endpoint sim://edge2 is not https://") != std::string::npos);
  auto unknown = run_cli({"probe", "--spec", "/work/spec.yaml", "edge7"}, &env);
  CHECK(unknown.status == 1);
  CHECK(unknown.err.find("no peer is called or at edge7") != std::string::npos);
}

TEST_CASE("probe: every command that opens nodes takes --trust-new-host-key", "[probe][cli]") {
  for (const char* command : {"status", "plan", "apply", "revoke", "probe"}) {
    auto r = run_cli({command, "--help"});
    INFO(command << ": " << r.out);
    CHECK(r.out.find("--trust-new-host-key") != std::string::npos);
  }
}
