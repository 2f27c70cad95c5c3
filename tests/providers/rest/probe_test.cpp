// The read-only prober (providers/rest/probe.h) against fake HTTPS and SSH
// transports whose replies are built with the providers/wire formatters:
// what it reads from each interface, that it only reads, per-interface
// failures, and the automated/manual/unavailable verdict per operation.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "providers/rest/probe.h"
#include "providers/wire/rest_json.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
namespace xacli = edgecert::wire::xacli;
namespace xml = edgecert::wire::xml;
using rest::OperationMode;
using rest::ProbeInterface;

namespace {

// What the fakes saw; owned by the test, since the probe destroys the
// transports it was given.
struct Record {
  std::vector<http::Request> http;
  std::vector<std::string> ssh;
  bool ssh_closed = false;
};

// Replies by target; every request is recorded.
class FakeHttp : public http::Transport {
 public:
  explicit FakeHttp(Record& r) : record(r) {}
  Record& record;
  std::map<std::string, Result<http::Response>> replies;
  std::vector<std::string> peer_chain;
  Result<http::Response> perform(const http::Request& r) override {
    record.http.push_back(r);
    auto it = replies.find(r.target);
    Result<http::Response> out =
        it == replies.end() ? Result<http::Response>(http::Response{
                                  .status = 404, .body = wire::rest::format_message("Not Found")})
                            : it->second;
    if (out && r.capture_peer_chain) out->peer_chain = peer_chain;
    return out;
  }
};

// Replies by command line; every command is recorded.
class FakeSsh : public ssh::Transport {
 public:
  explicit FakeSsh(Record& r) : record(r) {}
  Record& record;
  Result<std::string> banner_reply =
      std::string("Welcome to edge1\r\nTANDBERG Video Communication Server X15.0.2\r\nOK\r\n");
  std::map<std::string, Result<std::string>> replies;
  Result<std::string> banner() override { return banner_reply; }
  Result<std::string> run(std::string_view line) override {
    record.ssh.emplace_back(line);
    auto it = replies.find(std::string(line));
    if (it == replies.end()) return xacli::format_reply(xacli::error_reply("Unknown command"));
    return it->second;
  }
  void close() override { record.ssh_closed = true; }
};

http::Response ok(std::string body) {
  return {.status = 200, .body = std::move(body)};
}
http::Response status(long code, std::string message) {
  return {.status = code, .body = wire::rest::format_message(message)};
}

std::string system_unit_xml(const std::string& type, const std::string& version = "X15.0.2") {
  xml::StatusDocument doc;
  doc.product_attribute = "TANDBERG VCS";
  doc.version_attribute = version;
  doc.system_unit = xml::SystemUnit{
      .product = "TANDBERG VCS", .version = version, .uptime_seconds = 2492, .product_type = type};
  return xml::format_status(doc);
}

std::string warnings_xml(std::vector<std::string> reasons) {
  xml::StatusDocument doc;
  doc.warnings = std::vector<xml::Warning>{};
  int n = 0;
  for (auto& r : reasons)
    doc.warnings->push_back({"4836f60e-02de-11e0-bb2e-abe08f6f1f2" + std::to_string(n++),
                             std::move(r), "Unacknowledged"});
  return xml::format_status(doc);
}

std::string alternates_xml() {
  xml::Alternates a;
  a.cluster_name = "edge";
  a.configuration_primary = 1;
  a.peers = {{1, "edge1.example.com"}, {2, "edge2.example.com"}};
  return xml::format_alternates(a);
}

std::string cli_system_unit(const std::string& type) {
  xacli::Reply r;
  r.status.push_back(
      {"SystemUnit",
       {xacli::Node::leaf("Product", xacli::Value::string("TANDBERG VCS")),
        xacli::Node::leaf("ProductType", xacli::Value::string(type)),
        xacli::Node::leaf("Uptime", xacli::Value::bare("2493")),
        xacli::Node::parent("Software",
                            {xacli::Node::leaf("Version", xacli::Value::string("X15.0.2"))})}});
  return xacli::format_reply(r);
}

std::string cli_alternates() {
  xacli::Reply r;
  r.config = {{"Alternates Cluster Name", xacli::Value::string("edge")},
              {"Alternates ConfigurationPrimary", xacli::Value::bare("1")},
              {"Alternates Peer 1 Address", xacli::Value::string("edge1.example.com")},
              {"Alternates Peer 2 Address", xacli::Value::string("edge2.example.com")},
              {"Alternates Peer 3 Address", xacli::Value::string("")}};
  return xacli::format_reply(r);
}

std::string cli_revocation() {
  xacli::Reply r;
  const std::string p = "SIP TLS Certificate Revocation Checking ";
  r.config = {{p + "Mode", xacli::Value::bare("Off")},
              {p + "OCSP Mode", xacli::Value::bare("On")},
              {p + "CRL Mode", xacli::Value::bare("On")},
              {p + "CRL Network Fetch Mode", xacli::Value::bare("On")},
              {p + "Source Inaccessibility Behavior", xacli::Value::bare("Fail")}};
  return xacli::format_reply(r);
}

std::string cli_acme_settings() {
  xacli::Reply r;
  r.results.push_back({true,
                       {xacli::Node::leaf("AcmeManaged", xacli::Value::string("Disabled")),
                        xacli::Node::leaf("ProviderUuid", xacli::Value::string("Default")),
                        xacli::Node::leaf("RenewKey", xacli::Value::string("Rotate")),
                        xacli::Node::leaf("RenewalSchedule", xacli::Value::string(""))}});
  return xacli::format_reply(r);
}

// A RAML 0.8 description that nests some of edgecert's paths and leaves out
// the ACME ones.
const char* kRaml = R"(#%RAML 0.8
title: Expressway REST API
baseUri: https://{host}/api
/provisioning:
  /certs:
    /server:
      get:
        description: Server certificate
      post:
    /root:
      get:
    /generate_csr:
      get:
      post:
  /restart:
    post:
  /common/protocol/sip/certrevokecheck:
    get:
  /sysinfo:
    get:
)";

struct Node {
  pki::testing::TestPki pki;
  Record seen;
  FakeHttp* http = nullptr;
  FakeSsh* ssh = nullptr;
  rest::ProbeTransports transports;
  rest::ProbeTarget target{
      .name = "edge1", .endpoint = "https://edge1.example.com", .ssh = "edge1.example.com:22"};

  explicit Node(const std::string& type = "Expressway-E") {
    auto h = std::make_unique<FakeHttp>(seen);
    auto s = std::make_unique<FakeSsh>(seen);
    http = h.get();
    ssh = s.get();
    transports.http = std::move(h);
    transports.ssh = std::move(s);
    http->peer_chain = {pki.leaf.to_pem(), pki.inter.to_pem()};
    http->replies.emplace("/api/provisioning/certs/server",
                          ok(pki.leaf.to_pem() + pki.inter.to_pem()));
    http->replies.emplace("/api/provisioning/certs/root",
                          ok(pki.root.to_pem() + pki.inter.to_pem()));
    http->replies.emplace("/api/raml", ok(kRaml));
    http->replies.emplace(xml::kSystemUnitPath, ok(system_unit_xml(type)));
    http->replies.emplace(xml::kWarningsPath,
                          ok(warnings_xml({"Cluster TLS permissive - Cluster TLS verification mode "
                                           "permits invalid certificates",
                                           "Something else - not an alarm edgecert knows"})));
    http->replies.emplace(xml::kAlternatesPath, ok(alternates_xml()));
    ssh->replies.emplace("xStatus SystemUnit", cli_system_unit(type));
    ssh->replies.emplace("xConfiguration Alternates", cli_alternates());
    ssh->replies.emplace("xConfiguration SIP TLS Certificate Revocation Checking",
                         cli_revocation());
    ssh->replies.emplace("xCommand ACME Settings Read", cli_acme_settings());
  }

  rest::NodeProbe probe() {
    return rest::probe_node(target, std::move(transports), pki::testing::test_now());
  }
};

const rest::OperationSupport& op(const rest::NodeProbe& p, const std::string& id) {
  for (const auto& o : p.operations)
    if (o.id == id) return o;
  FAIL("no operation " << id);
  throw std::logic_error("unreachable");
}

std::string errors_of(const rest::NodeProbe& p) {
  std::string out;
  for (const auto& i : p.interfaces)
    for (const auto& e : i.errors) out += e.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("probe: an Expressway-E answering on REST, XML and SSH", "[probe]") {
  Node n;
  rest::NodeProbe p = n.probe();
  INFO(errors_of(p));
  CHECK(p.answered());
  CHECK(p.product == node::Product::kExpresswayE);
  CHECK(p.product_type == "Expressway-E");
  CHECK(p.product_line == "TANDBERG VCS");
  CHECK(p.version == "X15.0.2");
  CHECK(p.uptime_seconds == 2492);  // XML first; the CLI's 2493 only fills gaps
  REQUIRE(p.cluster_peers);
  CHECK(*p.cluster_peers == std::vector<std::string>{"edge1.example.com", "edge2.example.com"});
  CHECK(p.cluster_name == "edge");
  REQUIRE(p.alarms);
  REQUIRE(p.alarms->size() == 2);
  CHECK((*p.alarms)[0].number == 40049);
  CHECK((*p.alarms)[0].state == "Unacknowledged");
  CHECK_FALSE((*p.alarms)[1].number);
  REQUIRE(p.served_chain.size() == 2);
  CHECK(p.served_chain[0].subject_cn() == "edge1.example.com");
  CHECK(p.server_chain_stored == 2);
  CHECK(p.trusted_ca_count == 2);
  CHECK(p.csr_pending == false);  // generate_csr answered 404: none pending
  REQUIRE(p.revocation);
  CHECK(p.revocation->size() == 5);
  CHECK(p.revocation->front() == std::pair<std::string, std::string>{"Mode", "Off"});
  CHECK(p.acme_managed == "Disabled");
  CHECK(p.notes.empty());

  // /api/raml: served; the ACME paths are not in it.
  CHECK(p.raml_served == true);
  std::map<std::string, bool> listed(p.raml_paths.begin(), p.raml_paths.end());
  CHECK(listed.at("/api/provisioning/certs/server"));
  CHECK(listed.at("/api/provisioning/certs/generate_csr"));
  CHECK(listed.at("/api/provisioning/restart"));
  CHECK(listed.at("/api/provisioning/common/protocol/sip/certrevokecheck"));
  CHECK_FALSE(listed.at("/api/provisioning/certs/acme/pendingcert"));
  CHECK_FALSE(listed.at("/api/provisioning/certs/acme/pendingcert/deploy"));

  // Read-only: GETs only, and only reading CLI commands.
  for (const auto& r : n.seen.http) CHECK(r.method == "GET");
  CHECK(n.seen.ssh ==
        std::vector<std::string>{"xStatus SystemUnit", "xConfiguration Alternates",
                                 "xConfiguration SIP TLS Certificate Revocation Checking",
                                 "xCommand ACME Settings Read"});
  CHECK(n.seen.ssh_closed);

  // Operations.
  CHECK(op(p, "read-health").mode == OperationMode::kAutomated);
  CHECK(op(p, "read-health").interface == ProbeInterface::kXml);
  CHECK(op(p, "read-cluster-peers").interface == ProbeInterface::kCli);
  CHECK(op(p, "generate-csr").interface == ProbeInterface::kRest);
  CHECK(op(p, "generate-csr").how == "POST /api/provisioning/certs/generate_csr");
  CHECK(op(p, "generate-csr").note.empty());
  CHECK(op(p, "restart").interface == ProbeInterface::kRest);
  CHECK(op(p, "set-revocation-checking").interface == ProbeInterface::kCli);
  CHECK(op(p, "acme-sign").mode == OperationMode::kAutomated);
  CHECK(op(p, "acme-sign").note.empty());  // a CLI command: /api/raml does not matter
  const auto& tls = op(p, "set-tls-verification");
  CHECK(tls.mode == OperationMode::kManual);
  CHECK_FALSE(tls.interface);
  CHECK(tls.how.find("System > Clustering") != std::string::npos);
  CHECK(tls.verify.find("40049") != std::string::npos);
  CHECK(tls.note.empty());
  for (const char* manual :
       {"discard-csr", "delete-trusted-ca", "reset-trusted-cas", "set-crl-settings",
        "upload-manual-crl", "remove-manual-crl", "acme-revoke"})
    CHECK(op(p, manual).mode == OperationMode::kManual);
}

TEST_CASE("probe: a path /api/raml does not list is noted on its operation", "[probe]") {
  Node n;
  n.http->replies.insert_or_assign("/api/raml", ok("#%RAML 0.8\ntitle: x\n/provisioning:\n"
                                                   "  /certs:\n    /root:\n      get:\n"));
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  CHECK(op(p, "generate-csr").mode == OperationMode::kAutomated);
  CHECK(op(p, "generate-csr").note ==
        "/api/provisioning/certs/generate_csr is not listed in /api/raml");
  CHECK(op(p, "append-trusted-cas").note.empty());
}

TEST_CASE("probe: /api/raml not served is an answer, not a failure", "[probe]") {
  Node n;
  n.http->replies.erase("/api/raml");  // 404
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  CHECK(p.raml_served == false);
  CHECK(p.raml_paths.empty());
  CHECK(op(p, "generate-csr").note.empty());
}

TEST_CASE("probe: one interface failing leaves the others running", "[probe]") {
  Node n;
  for (const char* path :
       {"/api/provisioning/certs/server", "/api/provisioning/certs/root", "/api/raml"})
    n.http->replies.insert_or_assign(path, status(401, "Unauthorized"));
  n.ssh->banner_reply = Error::Permission(
      "SSH admin@edge1.example.com:22: host key SHA256:abc is not pinned in /k/known_hosts");
  rest::NodeProbe p = n.probe();

  CHECK_FALSE(p.answered());
  const auto& r = p.interface(ProbeInterface::kRest);
  REQUIRE(r.errors.size() == 1);  // a 401 ends the interface: one error, not four
  CHECK(r.errors[0].message ==
        "edge1: REST GET /api/provisioning/certs/server (read server certificate): HTTP 401 "
        "Unauthorized (check the user name and password; the account needs API access)");
  CHECK(r.errors[0].node == "edge1");
  CHECK(r.errors[0].action == "read server certificate");
  CHECK(r.errors[0].code == ErrorCode::kPermission);
  CHECK(r.calls.size() == 1);

  const auto& c = p.interface(ProbeInterface::kCli);
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].message ==
        "edge1: SSH login (open the CLI session): SSH admin@edge1.example.com:22: host key "
        "SHA256:abc is not pinned in /k/known_hosts");
  CHECK(n.seen.ssh.empty());

  // XML still answered everything.
  CHECK(p.interface(ProbeInterface::kXml).answered());
  CHECK(p.version == "X15.0.2");
  CHECK(p.product == node::Product::kExpresswayE);
  REQUIRE(p.cluster_peers);  // from the XML alternative
  CHECK(p.cluster_peers->size() == 2);

  CHECK(op(p, "read-cluster-peers").interface == ProbeInterface::kXml);
  CHECK(op(p, "generate-csr").mode == OperationMode::kUnavailable);
  CHECK(op(p, "generate-csr").note == "needs REST: REST did not answer");
  CHECK(op(p, "restart").mode == OperationMode::kUnavailable);
  CHECK(op(p, "restart").note == "needs REST or SSH: REST did not answer; SSH did not answer");
  CHECK(op(p, "acme-sign").mode == OperationMode::kUnavailable);
  CHECK(op(p, "discard-csr").mode == OperationMode::kManual);
  CHECK(op(p, "discard-csr").note == "edgecert cannot check it here: REST did not answer");
  CHECK(op(p, "set-tls-verification").note.empty());  // verified through XML, which answered
}

TEST_CASE("probe: a connection failure is one error per interface", "[probe]") {
  Node n;
  for (const char* path : {"/api/provisioning/certs/server", xml::kSystemUnitPath})
    n.http->replies.insert_or_assign(path,
                                     Error::Unavailable("cannot connect: Connection refused"));
  rest::NodeProbe p = n.probe();
  REQUIRE(p.interface(ProbeInterface::kRest).errors.size() == 1);
  REQUIRE(p.interface(ProbeInterface::kXml).errors.size() == 1);
  CHECK(p.interface(ProbeInterface::kXml).errors[0].message ==
        "edge1: XML /getxml?location=/Status/SystemUnit (read product and version): "
        "cannot connect: Connection refused");
  CHECK(p.interface(ProbeInterface::kXml).calls.size() == 1);
  // The CLI filled in what XML could not say.
  CHECK(p.interface(ProbeInterface::kCli).answered());
  CHECK(p.version == "X15.0.2");
  CHECK(p.uptime_seconds == 2493);
  CHECK(op(p, "read-health").interface == ProbeInterface::kCli);
  CHECK(op(p, "read-alarms").mode == OperationMode::kUnavailable);
}

TEST_CASE("probe: bad replies name the interface, the request and the operation", "[probe]") {
  Node n;
  n.http->replies.insert_or_assign("/api/provisioning/certs/root",
                                   ok("<!DOCTYPE html><html><body>Please log in</body></html>"));
  n.http->replies.insert_or_assign(xml::kWarningsPath,
                                   ok("<html><head><title>Login</title></head></html>"));
  std::string truncated = cli_system_unit("Expressway-E");
  truncated.resize(truncated.size() / 2);
  n.ssh->replies.insert_or_assign("xStatus SystemUnit", truncated);
  rest::NodeProbe p = n.probe();
  INFO(errors_of(p));
  CHECK_FALSE(p.answered());

  const auto& r = p.interface(ProbeInterface::kRest);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message ==
        "edge1: REST GET /api/provisioning/certs/root (read trusted CAs): expected PEM, got an "
        "HTML page (a login or proxy page?)");
  CHECK(r.calls.size() == 4);  // a bad reply does not end the interface

  const auto& x = p.interface(ProbeInterface::kXml);
  REQUIRE(x.errors.size() == 1);
  CHECK(x.errors[0].message.starts_with(
      "edge1: XML /getxml?location=/Status/Warnings (read alarms): "));
  CHECK(x.errors[0].message.find("HTML page") != std::string::npos);
  CHECK_FALSE(p.alarms);

  const auto& c = p.interface(ProbeInterface::kCli);
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].message.starts_with(
      "edge1: SSH xStatus SystemUnit (read product and version): "));
  CHECK(c.errors[0].code == ErrorCode::kCorrupt);
  CHECK(c.calls.size() == 5);  // login, then every command: the next ones still ran
}

TEST_CASE("probe: interfaces that are not allowed are not touched", "[probe]") {
  Node n;
  n.target.interfaces = {ProbeInterface::kXml};
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  for (const auto& r : n.seen.http) CHECK(r.target.find("/api/") == std::string::npos);
  CHECK(n.seen.ssh.empty());
  CHECK_FALSE(p.interface(ProbeInterface::kRest).tried);
  CHECK(p.raml_served == std::nullopt);
  CHECK(p.served_chain.size() == 2);  // the XML request's handshake
  CHECK(op(p, "generate-csr").mode == OperationMode::kUnavailable);
  CHECK(op(p, "generate-csr").note == "needs REST: REST is not allowed here");
  CHECK(op(p, "read-cluster-peers").interface == ProbeInterface::kXml);
}

TEST_CASE("probe: an Expressway-C has no ACME service", "[probe]") {
  Node n("Expressway-C");
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  CHECK(p.product == node::Product::kExpresswayC);
  CHECK(std::find(n.seen.ssh.begin(), n.seen.ssh.end(), "xCommand ACME Settings Read") ==
        n.seen.ssh.end());
  for (const char* id :
       {"acme-settings", "acme-sign", "acme-deploy", "acme-discard-pending", "acme-revoke"}) {
    CHECK(op(p, id).mode == OperationMode::kNotApplicable);
    CHECK(op(p, id).note.find("Expressway-C") != std::string::npos);
  }
  CHECK(op(p, "generate-csr").mode == OperationMode::kAutomated);
}

TEST_CASE("probe: no ProductType, disagreeing interfaces, an old release", "[probe]") {
  Node n("");
  n.http->replies.insert_or_assign(xml::kSystemUnitPath, ok(system_unit_xml("", "X14.2.1")));
  n.ssh->replies.insert_or_assign("xStatus SystemUnit", cli_system_unit(""));
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  CHECK(p.product == node::Product::kUnknown);
  CHECK(p.version == "X14.2.1");
  auto has_note = [&](const std::string& text) {
    return std::any_of(p.notes.begin(), p.notes.end(),
                       [&](const std::string& s) { return s.find(text) != std::string::npos; });
  };
  CHECK(has_note("does not show ProductType"));
  CHECK(has_note("XML says version X14.2.1, the CLI says X15.0.2"));
  CHECK(op(p, "generate-csr").note == "ECDSA keys need X14.3 or later; the node runs X14.2.1");
  CHECK(op(p, "restart").note.empty());                         // X14.2.1 has the CSRF header
  CHECK(op(p, "acme-sign").mode == OperationMode::kAutomated);  // unknown product: not ruled out
}

TEST_CASE("probe: an ACME read the node refuses is an answer", "[probe]") {
  Node n;
  n.ssh->replies.insert_or_assign("xCommand ACME Settings Read",
                                  xacli::format_reply(xacli::error_reply("Unknown command")));
  rest::NodeProbe p = n.probe();
  CHECK(p.answered());
  CHECK_FALSE(p.acme_managed);
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0] == "SSH xCommand ACME Settings Read: the node answered ERROR: Unknown command");
}

TEST_CASE("probe: a transport that could not be made fails its interfaces", "[probe]") {
  Node n;
  n.transports.http.reset();
  n.transports.http_error = Error::InvalidArgument("'https://x/y': a path is not allowed");
  n.transports.ssh.reset();
  n.transports.ssh_error = Error::InvalidArgument("SSH endpoint 'x': no port");
  rest::NodeProbe p = n.probe();
  CHECK_FALSE(p.answered());
  CHECK(p.interface(ProbeInterface::kRest).errors.at(0).message ==
        "edge1: REST GET /api/provisioning/certs/server (read server certificate): "
        "'https://x/y': a path is not allowed");
  CHECK(p.interface(ProbeInterface::kCli).errors.at(0).message ==
        "edge1: SSH login (open the CLI session): SSH endpoint 'x': no port");
}

TEST_CASE("probe: RAML resource paths from nested and flat documents", "[probe]") {
  auto declared = rest::raml_resource_paths(kRaml);
  CHECK(std::find(declared.begin(), declared.end(), "/provisioning/certs/server") !=
        declared.end());
  CHECK(std::find(declared.begin(), declared.end(),
                  "/provisioning/common/protocol/sip/certrevokecheck") != declared.end());
  CHECK(std::find(declared.begin(), declared.end(), "/provisioning/sysinfo") != declared.end());
  // Methods and properties are not resources.
  for (const auto& d : declared) CHECK(d.find("get") == std::string::npos);

  CHECK(rest::raml_lists({"/api/provisioning/certs/root"}, "/api/provisioning/certs/root"));
  CHECK(rest::raml_lists({"/provisioning/certs/root"}, "/api/provisioning/certs/root"));
  CHECK(rest::raml_lists({"/v1/provisioning/certs/root"}, "/api/provisioning/certs/root"));
  CHECK_FALSE(rest::raml_lists({"/provisioning/certs/rootx"}, "/api/provisioning/certs/root"));
  CHECK_FALSE(rest::raml_lists({"/provisioning/certs"}, "/api/provisioning/certs/root"));
  CHECK_FALSE(rest::raml_lists({"/xprovisioning/certs/root"}, "/api/provisioning/certs/root"));

  auto flat = rest::raml_resource_paths(
      "#%RAML 0.8\r\n/provisioning/certs/server: # comment\r\n  get:\r\n/a: not a resource\r\n");
  CHECK(flat == std::vector<std::string>{"/provisioning/certs/server"});
}

TEST_CASE("probe: host:port and interface names", "[probe]") {
  auto hp = rest::parse_host_port("127.0.0.1:2222", "--ssh");
  REQUIRE(hp);
  CHECK(hp->host == "127.0.0.1");
  CHECK(hp->port == 2222);
  for (const char* bad : {"host", "host:", ":22", "host:0", "host:65536", "host:2x"}) {
    auto r = rest::parse_host_port(bad, "--ssh");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("--ssh '") == 0);
  }
  CHECK(rest::parse_probe_interface("CLI") == ProbeInterface::kCli);
  CHECK_FALSE(rest::parse_probe_interface("soap"));
}
