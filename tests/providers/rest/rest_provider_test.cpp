// The https:// provider against a scripted Expressway (fake_expressway.h):
// every read and write goes to the path or command the interface reference
// names, alternatives are used when access.interfaces leaves the primary out,
// manual operations answer kUnimplemented without touching the node, and bad
// replies (unknown XML, a truncated CLI transcript, an HTML login page, 401,
// 403) give errors naming node, interface and operation.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <tuple>

#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/rest/rest_provider.h"
#include "tests/providers/rest/fake_expressway.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using testing::FakeExpressway;
using wire::xacli::ConfigLine;
using wire::xacli::Node;
using wire::xacli::Reply;
using wire::xacli::ResultBlock;
using wire::xacli::Value;

constexpr const char* kServer = "GET /api/provisioning/certs/server";
constexpr const char* kRoot = "GET /api/provisioning/certs/root";
constexpr const char* kCsr = "GET /api/provisioning/certs/generate_csr";
constexpr const char* kUnit = "GET /getxml?location=/Status/SystemUnit";
constexpr const char* kWarnings = "GET /getxml?location=/Status/Warnings";
constexpr const char* kRevocationCmd = "xConfiguration SIP TLS Certificate Revocation Checking";

struct Pki {
  pki::PrivateKey ca_key;
  pki::Certificate ca;
  std::string leaf_pem;
  std::string other_leaf_pem;

  static std::string issue(const pki::Certificate& ca, const pki::PrivateKey& ca_key,
                           const std::string& cn, const std::string& serial) {
    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    pki::CsrOptions co;
    co.common_name = cn;
    co.dns_names = {cn};
    auto csr = pki::CertificateRequest::create(*key, co);
    REQUIRE(csr);
    pki::IssueOptions io;
    io.not_before = Clock::now() - std::chrono::hours(1);
    io.not_after = Clock::now() + std::chrono::days(365);
    io.serial_hex = serial;
    auto c = pki::sign_csr(*csr, ca, ca_key, io);
    REQUIRE(c);
    return c->to_pem();
  }
  static Pki make() {
    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    pki::CaOptions o;
    o.common_name = "Fake Node CA";
    o.not_before = Clock::now() - std::chrono::hours(24);
    o.not_after = Clock::now() + std::chrono::days(3650);
    auto ca = pki::create_self_signed_ca(*key, o);
    REQUIRE(ca);
    std::string leaf = issue(*ca, *key, "edge1.example.com", "11");
    std::string other = issue(*ca, *key, "edge1.example.com", "12");
    return Pki{std::move(*key), std::move(*ca), leaf, other};
  }
};

const Pki& test_pki() {
  static const Pki p = Pki::make();
  return p;
}

std::string fingerprint_of(const std::string& pem) {
  auto c = pki::Certificate::parse_one(pem, "t");
  REQUIRE(c);
  return c->sha256_fingerprint();
}

Reply result(std::vector<Node> fields) {
  Reply r;
  r.results.push_back(ResultBlock{true, std::move(fields)});
  return r;
}

Node leaf(const std::string& k, const std::string& v) {
  return Node::leaf(k, Value::string(v));
}

std::string system_unit_xml(std::int64_t uptime) {
  wire::xml::SystemUnit u;
  u.product = "TANDBERG VCS";
  u.version = "X15.0.2";
  u.uptime_seconds = uptime;
  u.product_type = "Expressway-E";
  wire::xml::StatusDocument d;
  d.system_unit = u;
  return wire::xml::format_status(d);
}

// A healthy Expressway-E: every read the provider makes has a route.
struct Fixture {
  MemoryEnv env;
  FakeExpressway node;
  std::int64_t uptime = 5000;
  std::string product_type = "Expressway-E";
  std::vector<wire::xml::Warning> warnings;
  std::string revocation_mode = "Off";
  std::string acme_managed = "Disabled";
  std::unique_ptr<node::NodeProvider> provider;

  explicit Fixture(std::vector<spec::Interface> interfaces = {
                       spec::Interface::kRest, spec::Interface::kXml, spec::Interface::kCli}) {
    const Pki& p = test_pki();
    node.peer_chain = {p.leaf_pem};
    node.route(kServer, [&](const auto&) { return FakeExpressway::reply(200, p.leaf_pem); });
    node.route(kRoot, [&](const auto&) { return FakeExpressway::reply(200, p.ca.to_pem()); });
    node.route(kCsr, [](const auto&) { return FakeExpressway::message(404, "Not Found"); });
    node.route(kUnit,
               [this](const auto&) { return FakeExpressway::reply(200, system_unit_xml(uptime)); });
    node.route(kWarnings, [this](const auto&) {
      wire::xml::StatusDocument d;
      d.warnings = warnings;
      return FakeExpressway::reply(200, wire::xml::format_status(d));
    });
    node.route("GET /alternatesconfiguration.xml", [](const auto&) {
      wire::xml::Alternates a{"xml-cluster", 1, {{1, "edge1.example.com"}}};
      return FakeExpressway::reply(200, wire::xml::format_alternates(a));
    });
    node.cli(kRevocationCmd, [this](const auto&) {
      Reply r;
      const std::string pfx = "SIP TLS Certificate Revocation Checking ";
      r.config = {{pfx + "Mode", Value::bare(revocation_mode)},
                  {pfx + "OCSP Mode", Value::bare("On")},
                  {pfx + "CRL Mode", Value::bare("On")},
                  {pfx + "CRL Network Fetch Mode", Value::bare("Off")},
                  {pfx + "Source Inaccessibility Behavior", Value::bare("Fail")}};
      return FakeExpressway::cli_ok(r);
    });
    node.cli("xCommand ACME Settings Read", [this](const auto&) {
      return FakeExpressway::cli_ok(
          result({leaf("AcmeManaged", acme_managed), leaf("ProviderUuid", "Default"),
                  leaf("RenewKey", "Retain"),
                  leaf("RenewalSchedule", R"({"DaysOfWeek":["Mon","Thu"],"TimeOfDay":"04:00"})")}));
    });
    node.cli("xCommand ACME Providers Read", [](const auto& c) {
      CHECK(c.arg("ProviderUuid") != nullptr);
      return FakeExpressway::cli_ok(
          result({leaf("ProviderUuid", "Default"), leaf("Name", "letsencrypt"),
                  leaf("Url", "https://acme.example/directory"), leaf("Email", "pki@example.com"),
                  leaf("TermsOfService", "Accepted")}));
    });
    node.cli("xCommand ACME Get Pending Cert",
             [](const auto&) { return FakeExpressway::cli_error("No certificate is pending"); });
    node.cli("xConfiguration Alternates", [](const auto&) {
      Reply r;
      r.config = {{"Alternates Cluster Name", Value::string("edge-cluster")},
                  {"Alternates ConfigurationPrimary", Value::bare("1")},
                  {"Alternates Peer 1 Address", Value::string("edge1.example.com")},
                  {"Alternates Peer 2 Address", Value::string("edge2.example.com")},
                  {"Alternates Peer 3 Address", Value::string("")}};
      return FakeExpressway::cli_ok(r);
    });
    node.cli("xStatus SystemUnit", [this](const auto&) {
      Reply r;
      r.status.push_back({"SystemUnit",
                          {leaf("Product", "TANDBERG VCS"), leaf("ProductType", product_type),
                           Node::leaf("Uptime", Value::bare(std::to_string(uptime))),
                           Node::parent("Software", {leaf("Version", "X15.0.2")})}});
      return FakeExpressway::cli_ok(r);
    });
    provider = rest::make_expressway_node_provider("edge1", env, node.http_transport(),
                                                   node.ssh_transport(), std::move(interfaces));
  }

  node::NodeState state() {
    auto s = provider->read_state();
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s);
    return std::move(*s);
  }
  std::vector<std::string> http_keys() const {
    std::vector<std::string> out;
    for (const auto& s : node.http_seen) out.push_back(s.method + " " + s.target);
    return out;
  }
};

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// An error that names node, interface and request, and operation.
void check_names(const Error& e, const std::string& where, const std::string& action) {
  INFO(e.message);
  CHECK(e.message.rfind("edge1: " + where + " (" + action + "): ", 0) == 0);
  CHECK(e.node == "edge1");
  CHECK(e.action == action);
}

}  // namespace

TEST_CASE("rest: read_state is built from the documented reads only", "[rest]") {
  Fixture f;
  node::NodeState s = f.state();
  const Pki& p = test_pki();
  CHECK(f.node.unrecognised().empty());
  CHECK(f.http_keys() == std::vector<std::string>{kServer, kUnit, kCsr, kRoot, kWarnings});
  for (const auto& r : f.node.http_seen) CHECK_FALSE(r.has_header("X-CSRF-Header"));
  // The served chain comes from the handshake of the certs/server read.
  CHECK(f.node.http_seen[0].capture);
  CHECK(f.node.cli_seen ==
        std::vector<std::string>{kRevocationCmd, "xCommand ACME Settings Read",
                                 "xCommand ACME Providers Read ProviderUuid: \"Default\"",
                                 "xCommand ACME Get Pending Cert", "xConfiguration Alternates"});

  CHECK(s.product == node::Product::kExpresswayE);
  CHECK(s.software_version == "X15.0.2");
  CHECK(s.uptime_seconds == 5000);
  REQUIRE(s.server_chain.size() == 1);
  CHECK(s.server_chain[0].sha256_fingerprint() == fingerprint_of(p.leaf_pem));
  CHECK(s.staged_chain.empty());
  CHECK_FALSE(s.restart_required);
  CHECK_FALSE(s.pending_csr);
  REQUIRE(s.trusted_cas.size() == 1);
  CHECK(s.trusted_cas[0].sha256_fingerprint() == p.ca.sha256_fingerprint());
  CHECK(s.alarms.empty());
  CHECK(s.tls_verification == spec::TlsVerification::kEnforce);
  CHECK_FALSE(s.revocation.enabled);
  CHECK(s.revocation.ocsp);
  CHECK(s.revocation.crl);
  CHECK_FALSE(s.revocation.cdp_downloads);
  CHECK(s.revocation.fallback == spec::RevocationFallback::kTreatAsRevoked);
  CHECK(s.acme.mode == spec::AcmeMode::kDisabled);
  CHECK(s.acme.provider_name == "letsencrypt");
  CHECK(s.acme.provider_directory == "https://acme.example/directory");
  CHECK(s.acme.email == "pki@example.com");
  CHECK(s.acme.terms_accepted);
  CHECK(s.acme.renew_key == spec::KeyRotation::kRetain);
  REQUIRE(s.acme.schedule);
  CHECK(s.acme.schedule->days == std::vector<spec::Weekday>{1, 4});
  CHECK(s.acme.schedule->minute_of_day == 240);
  CHECK(s.acme_status.status == "Disabled");
  CHECK_FALSE(s.acme_status.pending_certificate_pem);
  REQUIRE(s.cluster_peers);
  CHECK(*s.cluster_peers == std::vector<std::string>{"edge1.example.com", "edge2.example.com"});
  CHECK(s.cluster_name == "edge-cluster");
  CHECK(s.manual_operations.size() == 8);
  CHECK_FALSE(s.crl_settings_known);
  CHECK_FALSE(s.manual_crl_known);
}

TEST_CASE("rest: staged certificate, pending CSR, alarms, ACME pending certificate", "[rest]") {
  Fixture f;
  const Pki& p = test_pki();
  // certs/server shows the uploaded certificate while TLS still serves the old one.
  f.node.route(kServer, [&](const auto&) {
    return FakeExpressway::reply(200, p.other_leaf_pem + p.ca.to_pem());
  });
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  pki::CsrOptions co;
  co.common_name = "edge1.example.com";
  co.dns_names = {"edge1.example.com", "edge.example.com"};
  auto csr = pki::CertificateRequest::create(*key, co);
  REQUIRE(csr);
  f.node.route(kCsr, [&](const auto&) { return FakeExpressway::reply(200, csr->to_pem()); });
  f.warnings = {{"u1", *wire::xml::reason_for_alarm(40049), "Unacknowledged"},
                {"u2", *wire::xml::reason_for_alarm(40069, 12), "Acknowledged"},
                {"u3", "Something else - not a certificate alarm", "Unacknowledged"}};
  f.acme_managed = "Automated";
  f.node.cli("xCommand ACME Get Pending Cert", [&](const auto&) {
    return FakeExpressway::cli_ok(result({leaf("Certificate", p.other_leaf_pem)}));
  });

  auto s = f.state();
  CHECK(f.node.unrecognised().empty());
  REQUIRE(s.staged_chain.size() == 2);
  CHECK(s.staged_chain[0].sha256_fingerprint() == fingerprint_of(p.other_leaf_pem));
  CHECK(s.server_chain[0].sha256_fingerprint() == fingerprint_of(p.leaf_pem));
  CHECK(s.restart_required);
  REQUIRE(s.pending_csr);
  CHECK(s.pending_csr->dns_names ==
        std::vector<std::string>{"edge1.example.com", "edge.example.com"});
  REQUIRE(s.alarms.size() == 3);
  CHECK(s.alarms[0].id == "40049");
  CHECK(s.alarms[1].id == "40069");
  CHECK(s.alarms[2].id == "u3");
  CHECK(s.tls_verification == spec::TlsVerification::kPermissive);
  CHECK(s.acme.mode == spec::AcmeMode::kAutomated);
  CHECK(s.acme_status.status == "Enabled");
  CHECK(s.acme_status.pending_certificate_pem == p.other_leaf_pem);
}

TEST_CASE("rest: access.interfaces picks the alternatives", "[rest]") {
  SECTION("REST and XML only: no SSH; revocation over REST, peers from alternatesconfiguration") {
    Fixture f({spec::Interface::kRest, spec::Interface::kXml});
    f.node.route("GET /api/provisioning/common/protocol/sip/certrevokecheck", [](const auto&) {
      return FakeExpressway::reply(
          200,
          R"({"Mode":"On","OcspMode":"Off","CrlMode":"On","CrlNetworkFetchMode":"On","SourceInaccessibilityBehavior":"Ignore"})");
    });
    f.node.route("GET /api/provisioning/certs/acme/pendingcert",
                 [](const auto&) { return FakeExpressway::message(404, "Not Found"); });
    auto s = f.provider->read_state();
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s);
    CHECK(f.node.cli_seen.empty());
    CHECK(f.node.unrecognised().empty());
    CHECK(s->revocation.enabled);
    REQUIRE(s->cluster_peers);
    CHECK(*s->cluster_peers == std::vector<std::string>{"edge1.example.com"});
    CHECK(s->cluster_name == "xml-cluster");
    CHECK(s->acme.mode == spec::AcmeMode::kDisabled);  // not readable without the CLI
    auto a = f.provider->acme_settings();
    REQUIRE_FALSE(a);
    CHECK(a.error().code == ErrorCode::kUnimplemented);
    CHECK(a.error().message ==
          "edge1: read ACME settings: needs the CLI over SSH, and spec.access.interfaces allows "
          "only rest, xml");
    // Sign and deploy have REST alternatives (with the CSRF header).
    f.node.route("POST /api/provisioning/certs/acme/pendingcert",
                 [](const auto&) { return FakeExpressway::message(200, "OK"); });
    f.node.route("POST /api/provisioning/certs/acme/pendingcert/deploy",
                 [](const auto&) { return FakeExpressway::message(200, "OK"); });
    REQUIRE(f.provider->acme_sign());
    REQUIRE(f.provider->acme_deploy());
    CHECK(f.node.http_seen.back().has_header("X-CSRF-Header"));
    CHECK(f.node.unrecognised().empty());
  }
  SECTION("XML and CLI only: no REST; the handshake of the SystemUnit read, restart over the CLI") {
    Fixture f({spec::Interface::kXml, spec::Interface::kCli});
    auto s = f.state();
    CHECK(f.http_keys() == std::vector<std::string>{kUnit, kWarnings});
    CHECK(f.node.http_seen[0].capture);
    CHECK(s.server_chain.size() == 1);
    CHECK(s.trusted_cas.empty());
    auto g = f.provider->generate_csr({});
    REQUIRE_FALSE(g);
    CHECK(g.error().code == ErrorCode::kUnimplemented);
    CHECK(contains(g.error().message, "needs REST"));
    f.node.cli("xCommand Restart", [](const auto&) { return FakeExpressway::cli_ok({}); });
    REQUIRE(f.provider->restart());
    CHECK(f.node.cli_seen.back() == "xCommand Restart");
    CHECK(f.node.unrecognised().empty());
  }
  SECTION("CLI only: product from xStatus SystemUnit; an Expressway-C has no ACME reads") {
    Fixture f({spec::Interface::kCli});
    f.product_type = "Expressway-C";
    auto s = f.state();
    CHECK(f.node.http_seen.empty());
    CHECK(s.product == node::Product::kExpresswayC);
    CHECK(s.software_version == "X15.0.2");
    for (const auto& c : f.node.cli_seen) CHECK_FALSE(contains(c, "ACME"));
    CHECK(f.node.unrecognised().empty());
  }
}

TEST_CASE("rest: writes go to the documented paths and commands, with X-CSRF-Header", "[rest]") {
  Fixture f;
  const Pki& p = test_pki();

  SECTION("generate CSR: the wire body, then the CSR read back") {
    f.node.route("POST /api/provisioning/certs/generate_csr",
                 [](const auto&) { return FakeExpressway::message(200, "OK"); });
    f.node.queue(kCsr, FakeExpressway::reply(200, "-----BEGIN CERTIFICATE REQUEST-----\nX\n"));
    node::CsrRequest r;
    r.common_name = "edge1.example.com";
    r.dns_names = {"edge.example.com"};
    r.subject.country = "JP";
    r.key_algorithm = spec::KeyAlgorithm::kEcdsa;
    r.key_size = 384;
    r.digest = spec::Digest::kSha384;
    auto csr = f.provider->generate_csr(r);
    REQUIRE(csr);
    CHECK(contains(*csr, "BEGIN CERTIFICATE REQUEST"));
    const auto& post = f.node.http_seen.at(0);
    CHECK(post.has_header("X-CSRF-Header"));
    CHECK(post.content_type == "application/json");
    auto body = wire::rest::decode_generate_csr(post.body);
    REQUIRE(body);
    CHECK(body->common_name == "edge1.example.com");
    CHECK(body->additional_fqdns == std::vector<std::string>{"edge.example.com"});
    CHECK(body->country == "JP");
    CHECK(body->public_key_algorithm == pki::KeyAlgorithm::kEcdsa);
    CHECK(body->key_length == 384);
    CHECK(body->digest == pki::Digest::kSha384);
    CHECK(f.node.unrecognised().empty());

    f.node.queue("POST /api/provisioning/certs/generate_csr",
                 FakeExpressway::message(409, "Conflict"));
    auto again = f.provider->generate_csr(r);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::kAlreadyExists);
    check_names(again.error(), "REST POST /api/provisioning/certs/generate_csr", "generate CSR");

    r.reuse_current_key = true;
    auto reuse = f.provider->generate_csr(r);
    REQUIRE_FALSE(reuse);
    CHECK(reuse.error().code == ErrorCode::kUnimplemented);
  }
  SECTION("upload: multipart file (+ key), staged fingerprint; the key never echoed") {
    f.node.route("POST /api/provisioning/certs/server",
                 [](const auto&) { return FakeExpressway::message(200, "OK"); });
    node::CertificateUpload up;
    up.chain_pem = p.other_leaf_pem + p.ca.to_pem();
    up.key = pki::SecretString("-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n");
    auto r = f.provider->upload_server_certificate(up);
    REQUIRE(r);
    CHECK(r->staged_sha256 == fingerprint_of(p.other_leaf_pem));
    CHECK(r->warnings.empty());
    const auto& post = f.node.http_seen.at(0);
    CHECK(post.has_header("X-CSRF-Header"));
    CHECK(contains(post.content_type, "multipart/form-data"));
    CHECK(contains(post.body, "name=\"file\""));
    CHECK(contains(post.body, "name=\"key\""));
    f.node.queue("POST /api/provisioning/certs/server",
                 FakeExpressway::message(400, "The certificate does not match the key"));
    auto bad = f.provider->upload_server_certificate(up);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::kInvalidArgument);
    CHECK(bad.error().message ==
          "edge1: REST POST /api/provisioning/certs/server (upload server certificate): HTTP 400 "
          "Bad Request: The certificate does not match the key");
    CHECK_FALSE(contains(bad.error().message, "SECRETKEYBYTES"));
  }
  SECTION("append trusted CAs: multipart file; added and skipped from the list before") {
    f.node.route("POST /api/provisioning/certs/root", [](const auto&) {
      return FakeExpressway::message(200, "Root Certificate updated.");
    });
    pki::CaOptions co;
    co.common_name = "Second CA";
    co.not_before = Clock::now();
    co.not_after = Clock::now() + std::chrono::days(30);
    auto other = pki::create_self_signed_ca(p.ca_key, co);
    REQUIRE(other);
    auto r = f.provider->append_trusted_cas(p.ca.to_pem() + other->to_pem());
    REQUIRE(r);
    CHECK(r->added == std::vector<std::string>{other->sha256_fingerprint()});
    CHECK(r->skipped == std::vector<std::string>{p.ca.sha256_fingerprint()});
    CHECK(f.http_keys() == std::vector<std::string>{kRoot, "POST /api/provisioning/certs/root"});
    CHECK(f.node.http_seen[1].has_header("X-CSRF-Header"));
  }
  SECTION("revocation checking: one xConfiguration line per leaf") {
    for (const char* words : {"xConfiguration SIP TLS Certificate Revocation Checking",
                              "xConfiguration SIP TLS Certificate Revocation Checking OCSP",
                              "xConfiguration SIP TLS Certificate Revocation Checking CRL",
                              "xConfiguration SIP TLS Certificate Revocation Checking CRL Network "
                              "Fetch",
                              "xConfiguration SIP TLS Certificate Revocation Checking Source "
                              "Inaccessibility"})
      f.node.cli(words, [](const auto&) { return FakeExpressway::cli_ok({}); });
    spec::RevocationChecking rc;
    rc.enabled = true;
    rc.ocsp = false;
    rc.fallback = spec::RevocationFallback::kTreatAsNotRevoked;
    REQUIRE(f.provider->set_revocation_checking(rc));
    const std::string pfx = "xConfiguration SIP TLS Certificate Revocation Checking ";
    CHECK(f.node.cli_seen ==
          std::vector<std::string>{pfx + "Mode: On", pfx + "OCSP Mode: Off", pfx + "CRL Mode: On",
                                   pfx + "CRL Network Fetch Mode: On",
                                   pfx + "Source Inaccessibility Behavior: Ignore"});
    CHECK(f.node.unrecognised().empty());
  }
  SECTION("ACME settings: Providers Write, then Settings Write") {
    f.node.cli("xCommand ACME Providers Write",
               [](const auto&) { return FakeExpressway::cli_ok({}); });
    f.node.cli("xCommand ACME Settings Write",
               [](const auto&) { return FakeExpressway::cli_ok({}); });
    node::AcmeSettings a;
    a.provider_name = "letsencrypt";
    a.provider_directory = "https://acme.example/directory";
    a.email = "ops@example.com";
    a.terms_accepted = true;
    a.mode = spec::AcmeMode::kAutomated;
    a.schedule = spec::Schedule{{1}, 240};
    REQUIRE(f.provider->set_acme_settings(a));
    REQUIRE(f.node.cli_seen.size() == 2);
    CHECK(
        f.node.cli_seen[0] ==
        R"(xCommand ACME Providers Write ProviderUuid: "Default" Name: "letsencrypt" Url: "https://acme.example/directory" Email: "ops@example.com" TermsOfService: "Accepted")");
    CHECK(
        f.node.cli_seen[1] ==
        R"(xCommand ACME Settings Write AcmeManaged: "Automated" ProviderUuid: "Default" RenewKey: "Rotate" RenewalSchedule: '{"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"}')");
  }
  SECTION("ACME sign, deploy, discard over the CLI; the node's refusals keep their category") {
    f.node.cli("xCommand ACME Sign", [](const auto&) { return FakeExpressway::cli_ok({}); });
    f.node.cli("xCommand ACME Deploy", [](const auto&) {
      return FakeExpressway::cli_error("No ACME certificate is pending");
    });
    f.node.cli("xCommand ACME Delete Pending Cert", [](const auto&) {
      return FakeExpressway::cli_error("the ACME service is disabled");
    });
    REQUIRE(f.provider->acme_sign());
    auto d = f.provider->acme_deploy();
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ErrorCode::kNotFound);
    check_names(d.error(), "SSH xCommand ACME Deploy", "ACME deploy");
    auto x = f.provider->acme_discard_pending();
    REQUIRE_FALSE(x);
    CHECK(x.error().code == ErrorCode::kInvalidArgument);
    CHECK(f.node.http_seen.empty());
  }
  SECTION("ACME revoke: the file must be on the node; then xCommand ACME Revoke") {
    f.acme_managed = "Manual";
    auto cert = pki::Certificate::parse_one(p.other_leaf_pem, "c");
    REQUIRE(cert);
    const std::string path = rest::acme_revoke_path(*cert);
    CHECK(path.rfind("/tmp/edgecert-revoke-", 0) == 0);
    f.node.cli_queue("xCommand ACME Revoke", FakeExpressway::cli_error("No such file: " + path));
    auto missing = f.provider->acme_revoke(p.other_leaf_pem);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::kUnimplemented);
    check_names(missing.error(), "SSH xCommand ACME Revoke", "ACME revoke");
    CHECK(contains(missing.error().message, "copy the superseded certificate"));
    CHECK(contains(missing.error().message, path));
    f.node.cli("xCommand ACME Revoke", [&](const auto& c) {
      CHECK(c.arg("CertPath")->value == path);
      CHECK(c.arg("Provider")->value == "letsencrypt");
      return FakeExpressway::cli_ok({});
    });
    REQUIRE(f.provider->acme_revoke(p.other_leaf_pem));
    auto in_use = f.provider->acme_revoke(p.leaf_pem);
    REQUIRE_FALSE(in_use);
    CHECK(in_use.error().code == ErrorCode::kInvalidArgument);
    CHECK(contains(in_use.error().message, "is in use"));
    auto bad_reason =
        f.provider->acme_revoke(p.other_leaf_pem, static_cast<pki::RevocationReason>(2));
    REQUIRE_FALSE(bad_reason);
    CHECK(contains(bad_reason.error().message, "reason 2"));
  }
  SECTION("restart: POST restart with the CSRF header; the SSH session is dropped") {
    f.node.route("POST /api/provisioning/restart", [](const auto&) {
      return FakeExpressway::message(200, "The operation was successful");
    });
    REQUIRE(f.provider->restart());
    CHECK(f.node.http_seen.at(0).has_header("X-CSRF-Header"));
    CHECK(f.node.closes == 1);
  }
}

TEST_CASE("rest: operations a real node has no API for are manual steps", "[rest]") {
  Fixture f;
  struct Case {
    Status status;
    const char* operation;
    const char* page;
  };
  std::vector<Case> cases;
  cases.push_back({f.provider->discard_csr(), "discard-csr", "Server certificate"});
  cases.push_back(
      {f.provider->delete_trusted_ca("AA:BB"), "delete-trusted-ca", "Trusted CA certificate"});
  cases.push_back({f.provider->reset_trusted_cas(), "reset-trusted-cas", "Reset to default"});
  cases.push_back({f.provider->set_crl_settings({}), "set-crl-settings", "CRL management"});
  cases.push_back({f.provider->upload_manual_crl("x"), "upload-manual-crl", "Upload CRL file"});
  cases.push_back({f.provider->remove_manual_crl(), "remove-manual-crl", "Remove revocation list"});
  cases.push_back({f.provider->set_tls_verification(spec::TlsVerification::kPermissive),
                   "set-tls-verification", "System > Clustering"});
  for (const auto& c : cases) {
    REQUIRE_FALSE(c.status);
    INFO(c.status.error().message);
    CHECK(c.status.error().code == ErrorCode::kUnimplemented);
    CHECK(c.status.error().message.rfind("edge1: ", 0) == 0);
    CHECK(contains(c.status.error().message, c.operation));
    CHECK(contains(c.status.error().message, c.page));
    CHECK(c.status.error().node == "edge1");
  }
  CHECK(f.node.http_seen.empty());
  CHECK(f.node.cli_seen.empty());
}

TEST_CASE("rest: bad replies name node, interface, request and operation", "[rest]") {
  Fixture f;
  const std::string login =
      "<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in</body></html>";

  SECTION("unknown XML") {
    f.node.route(kUnit, [](const auto&) {
      return FakeExpressway::reply(200, "<?xml version=\"1.0\"?><Other><X>1</X></Other>");
    });
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    check_names(r.error(), "XML /getxml?location=/Status/SystemUnit", "read product and version");
  }
  SECTION("an unknown ProductType or a version that is not a release, by XML and by SSH") {
    for (const auto& [type, version, said] :
         {std::tuple{"Expressway-X", "X15.0.2", "ProductType 'Expressway-X' is neither"},
          {"Expressway-E", "X15.0-beta", "software version 'X15.0-beta' is not a release"},
          {"Expressway-E", "15.0.2", "software version '15.0.2' is not a release"}}) {
      INFO(said);
      Fixture g;
      g.node.route(kUnit, [type, version](const auto&) {
        wire::xml::SystemUnit u;
        u.product = "TANDBERG VCS";
        u.version = version;
        u.uptime_seconds = 10;
        u.product_type = type;
        wire::xml::StatusDocument d;
        d.system_unit = u;
        return FakeExpressway::reply(200, wire::xml::format_status(d));
      });
      auto r = g.provider->read_state();
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::kCorrupt);
      check_names(r.error(), "XML /getxml?location=/Status/SystemUnit", "read product and version");
      CHECK(contains(r.error().message, said));
    }
    Fixture c({spec::Interface::kCli});
    c.product_type = "VCS Control";
    auto r = c.provider->read_state();
    REQUIRE_FALSE(r);
    check_names(r.error(), "SSH xStatus SystemUnit", "read product and version");
    CHECK(contains(r.error().message, "ProductType 'VCS Control' is neither"));
  }
  SECTION("an HTML login page instead of XML") {
    f.node.route(kWarnings, [&](const auto&) { return FakeExpressway::reply(200, login); });
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    check_names(r.error(), "XML /getxml?location=/Status/Warnings", "read alarms");
    CHECK(contains(r.error().message, "HTML page"));
  }
  SECTION("an HTML login page instead of JSON") {
    f.node.route("POST /api/provisioning/restart",
                 [&](const auto&) { return FakeExpressway::reply(200, login); });
    auto r = f.provider->restart();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    check_names(r.error(), "REST POST /api/provisioning/restart", "restart");
    CHECK(contains(r.error().message, "not JSON: an HTML page (a login or proxy page?)"));
  }
  SECTION("an HTML login page instead of PEM") {
    f.node.route(kRoot, [&](const auto&) { return FakeExpressway::reply(200, login); });
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    check_names(r.error(), "REST GET /api/provisioning/certs/root", "read trusted CAs");
    CHECK(contains(r.error().message, "not PEM: an HTML page"));
  }
  SECTION("a truncated CLI transcript") {
    f.node.cli("xCommand ACME Settings Read", [](const auto&) {
      return std::string("*r Result (status=OK):\r\n     AcmeManaged: \"Disabled\"\r\n");
    });
    auto r = f.provider->acme_settings();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    check_names(r.error(), "SSH xCommand ACME Settings Read", "read ACME settings");
    CHECK(contains(r.error().message, "truncated reply"));
    CHECK(f.node.closes == 1);  // the session is out of step: a new one next time
  }
  SECTION("401: credentials, never the password") {
    f.node.route(kServer, [](const auto&) { return FakeExpressway::message(401, "Unauthorized"); });
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermission);
    CHECK(r.error().message ==
          "edge1: REST GET /api/provisioning/certs/server (read server certificate): HTTP 401 "
          "Unauthorized (check access.username and access.passwordFrom)");
  }
  SECTION("403 without the CSRF header (a node that still refuses)") {
    f.node.route("POST /api/provisioning/restart",
                 [](const auto&) { return FakeExpressway::message(403, "Forbidden"); });
    auto r = f.provider->restart();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermission);
    check_names(r.error(), "REST POST /api/provisioning/restart", "restart");
    CHECK(contains(r.error().message, "HTTP 403 Forbidden"));
    CHECK(contains(r.error().message, "X-CSRF-Header"));
  }
  SECTION("an unknown CLI command") {
    f.node.cli("xConfiguration Alternates",
               [](const auto&) { return FakeExpressway::cli_error("Unknown command"); });
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnimplemented);
    check_names(r.error(), "SSH xConfiguration Alternates", "read cluster peers");
  }
}

TEST_CASE("rest: reads are retried with backoff through Env::sleep_for, writes never", "[rest]") {
  Fixture f;
  auto dropped = make_error(ErrorCode::kUnavailable, "connection dropped without a reply");
  SECTION("a dropped connection and a 503, then success") {
    f.node.queue(kRoot, dropped);
    f.node.queue(kRoot, FakeExpressway::message(503, "Service Unavailable"));
    TimePoint t0 = f.env.now();
    REQUIRE(f.provider->read_state());
    CHECK(f.env.now() - t0 == std::chrono::milliseconds(250 + 500));
  }
  SECTION("bounded: the last error names the attempts") {
    for (int i = 0; i < 3; ++i) f.node.queue(kRoot, FakeExpressway::message(503, "busy"));
    auto r = f.provider->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message ==
          "edge1: REST GET /api/provisioning/certs/root (read trusted CAs): HTTP 503 Service "
          "Unavailable: busy (after 3 attempts)");
  }
  SECTION("a CLI read is retried in a new session") {
    f.node.cli_queue(kRevocationCmd, make_error(ErrorCode::kUnavailable, "SSH connection lost"));
    REQUIRE(f.provider->read_state());
    CHECK(f.node.closes == 1);
  }
  SECTION("a dropped POST is reported, not repeated") {
    f.node.queue("POST /api/provisioning/restart", dropped);
    auto r = f.provider->restart();
    REQUIRE_FALSE(r);
    CHECK(f.node.http_seen.size() == 1);
    CHECK(contains(r.error().message, "re-read the node's state"));
    f.node.cli_queue("xCommand ACME Sign", make_error(ErrorCode::kUnavailable, "SSH timed out"));
    auto s = f.provider->acme_sign();
    REQUIRE_FALSE(s);
    CHECK(f.node.cli_seen.size() == 1);
  }
}

TEST_CASE("rest: wait_until_up waits for a handshake and an Uptime younger than the restart",
          "[rest]") {
  Fixture f;
  f.node.route("POST /api/provisioning/restart", [](const auto&) {
    return FakeExpressway::message(200, "The operation was successful");
  });
  REQUIRE(f.provider->restart());
  // Still up from before (the restart has not begun), then refusing, then back.
  f.node.queue(kUnit, FakeExpressway::reply(200, system_unit_xml(9000)));
  f.node.queue(kUnit, make_error(ErrorCode::kUnavailable, "cannot connect: refused"));
  f.uptime = 0;  // the route: booted just now
  TimePoint t0 = f.env.now();
  REQUIRE(f.provider->wait_until_up(std::chrono::seconds(60)));
  CHECK(f.env.now() - t0 == std::chrono::milliseconds(250 + 500));
  CHECK(f.node.unrecognised().empty());

  SECTION("no answer within the timeout") {
    REQUIRE(f.provider->restart());
    f.node.route(kUnit, [](const auto&) {
      return make_error(ErrorCode::kUnavailable, "cannot connect: refused");
    });
    auto w = f.provider->wait_until_up(std::chrono::seconds(5));
    REQUIRE_FALSE(w);
    CHECK(w.error().code == ErrorCode::kUnavailable);
    CHECK(contains(w.error().message, "edge1: wait until up: no answer within 5 s"));
  }
  SECTION("a refusal that is not transient ends the wait") {
    f.node.route(kUnit, [](const auto&) { return FakeExpressway::message(401, "Unauthorized"); });
    auto w = f.provider->wait_until_up(std::chrono::seconds(5));
    REQUIRE_FALSE(w);
    CHECK(w.error().code == ErrorCode::kPermission);
  }
}

TEST_CASE("rest: opening https:// endpoints", "[rest]") {
  auto e = rest::parse_https_endpoint("https://expe1.example.com");
  REQUIRE(e);
  CHECK(e->host == "expe1.example.com");
  CHECK(e->port == 443);
  auto p = rest::parse_https_endpoint("https://127.0.0.1:9443/");
  REQUIRE(p);
  CHECK(p->port == 9443);
  CHECK_FALSE(rest::parse_https_endpoint("https://host:99999"));
  CHECK_FALSE(rest::parse_https_endpoint("https://host/api"));
  CHECK_FALSE(rest::parse_https_endpoint("http://host"));

  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  spec::Spec s;
  s.peers = {{"edge1", "edge1.example.com", "https://127.0.0.1:9"}};
  auto none = node::open_node(ctx, s, s.peers[0]);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kInvalidArgument);
  CHECK(none.error().message.rfind("edge1: open: ", 0) == 0);
  s.access = spec::Access{"admin", "env:NO_SUCH_PASSWORD_VAR", std::nullopt};
  auto pw = node::open_node(ctx, s, s.peers[0]);
  REQUIRE_FALSE(pw);
  CHECK(pw.error().message.find("NO_SUCH_PASSWORD_VAR") != std::string::npos);
  env.set_env("PW", "x");
  s.access->password_from = "env:PW";
  CHECK(node::open_node(ctx, s, s.peers[0]));  // nothing connects before the first call
}
