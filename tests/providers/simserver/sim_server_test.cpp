// edgecert-sim's REST API in-process over real HTTPS (reference §3.1, §3.2):
// auth, CSRF, reason phrases, the certificate resources, RAML, unrecognised
// requests, and the TLS identity each listener presents.
#include <catch2/catch.hpp>

#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "tests/providers/simserver/sim_server_fixture.h"

namespace {

using namespace edgecert;
using testing::message_of;
using testing::SimServerFixture;

constexpr const char* kCsrBody =
    R"({"Additional_FQDNS": ["alt.example.com"], "Country": "", "Province": "", "Locality": "",
        "Organization": "Example", "OrganizationalUnit": "", "Email": "",
        "KeyLength": 256, "DigestAlgorithm": "sha256", "PublicKeyAlgorithm": "ECDSA"})";

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("simserver REST: 401, 403 without CSRF, 404 recorded, reason phrases", "[simserver]") {
  SimServerFixture f;
  auto bad = f.client(0, "nope")->perform(http::Request{"GET", "/api/provisioning/certs/root"});
  REQUIRE(bad);
  CHECK(bad->status == 401);
  CHECK(message_of(*bad) == "Unauthorized");

  // The CSRF list's POSTs need the header; other POSTs do not.
  auto no_csrf = f.request("POST", "/api/provisioning/restart", {}, {}, /*csrf=*/false);
  REQUIRE(no_csrf);
  CHECK(no_csrf->status == 403);
  CHECK(message_of(*no_csrf) == "Forbidden");
  auto sign = f.request("POST", "/api/provisioning/certs/acme/pendingcert", {}, {}, false);
  REQUIRE(sign);
  CHECK(sign->status == 403);
  auto no_csr = f.request("POST", "/api/provisioning/certs/generate_csr", "{}", "application/json",
                          /*csrf=*/false);
  REQUIRE(no_csr);
  CHECK(no_csr->status == 400);  // not a CSRF path: the body is what is wrong
  CHECK(message_of(*no_csr).rfind("Bad Request: ", 0) == 0);
  CHECK(f.admin("edge1").restart_phase().value() == sim::RestartPhase::kUp);

  CHECK(f.server->unrecognised_requests().empty());
  // edgecert's former invented resources are gone: a real node's 404.
  auto invented = f.get("/api/provisioning/edgecert/status");
  CHECK(invented.status == 404);
  auto unknown = f.get("/api/provisioning/edgecert-nothing");
  CHECK(unknown.status == 404);
  CHECK(message_of(unknown) == "Not Found");
  auto del = f.request("DELETE", "/api/provisioning/certs/generate_csr");
  REQUIRE(del);
  CHECK(del->status == 404);  // discarding a CSR has no API on a real node
  CHECK(f.server->unrecognised_requests() ==
        std::vector<std::string>{"edge1: GET /api/provisioning/edgecert/status",
                                 "edge1: GET /api/provisioning/edgecert-nothing",
                                 "edge1: DELETE /api/provisioning/certs/generate_csr"});
}

TEST_CASE("simserver REST: CSR, trusted CAs, upload staged until restart, RAML", "[simserver]") {
  SimServerFixture f(/*restart_seconds=*/0);
  auto none = f.get("/api/provisioning/certs/generate_csr");
  CHECK(none.status == 404);
  CHECK(message_of(none) == "Not Found");

  auto gen =
      f.request("POST", "/api/provisioning/certs/generate_csr", kCsrBody, "application/json");
  REQUIRE(gen);
  CHECK(gen->status == 200);
  CHECK(message_of(*gen) == "OK");
  auto again =
      f.request("POST", "/api/provisioning/certs/generate_csr", kCsrBody, "application/json");
  REQUIRE(again);
  CHECK(again->status == 409);
  CHECK(message_of(*again) == "Conflict");
  auto csr_reply = f.get("/api/provisioning/certs/generate_csr");
  REQUIRE(csr_reply.status == 200);
  CHECK(csr_reply.header("Content-Type").value_or("").rfind("text/plain", 0) == 0);
  auto pending = node::pending_csr_from_pem(csr_reply.body);
  REQUIRE(pending);
  CHECK(pending->common_name == "edge1.example.com");  // CommonName defaults to the FQDN
  CHECK(pending->dns_names == std::vector<std::string>{"edge1.example.com", "alt.example.com"});
  CHECK(pending->subject.organization == "Example");

  // A CA of our own, appended, then a certificate for the CSR it signs.
  auto ca_key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(ca_key);
  pki::CaOptions ca_opts;
  ca_opts.common_name = "Test CA";
  const TimePoint now = default_env().now();
  ca_opts.not_before = now - std::chrono::hours(1);
  ca_opts.not_after = now + std::chrono::days(365);
  auto ca = pki::create_self_signed_ca(*ca_key, ca_opts);
  REQUIRE(ca);
  auto appended = f.post_file("/api/provisioning/certs/root", ca->to_pem());
  CHECK(appended.status == 200);
  CHECK(message_of(appended) == "Root Certificate updated.");
  auto roots = f.get("/api/provisioning/certs/root");
  CHECK(contains(roots.body, ca->to_pem()));
  CHECK(f.post_file("/api/provisioning/certs/root", "hello").status == 400);

  auto csr = pki::CertificateRequest::parse(csr_reply.body, "csr");
  REQUIRE(csr);
  pki::IssueOptions issue;
  issue.not_before = now - std::chrono::hours(1);
  issue.not_after = now + std::chrono::days(200);
  issue.serial_hex = "1001";
  auto cert = pki::sign_csr(*csr, *ca, *ca_key, issue);
  REQUIRE(cert);
  auto uploaded = f.post_file("/api/provisioning/certs/server", cert->to_pem());
  CHECK(uploaded.status == 200);
  CHECK(message_of(uploaded) == "OK");
  // The stored certificate is the new one; TLS still serves the old one.
  auto stored = f.get("/api/provisioning/certs/server");
  CHECK(stored.body == cert->to_pem());
  http::Request hs{"GET", "/api/raml"};
  hs.capture_peer_chain = true;
  auto raml = f.client()->perform(hs);
  REQUIRE(raml);
  CHECK(raml->body.rfind("#%RAML 0.8", 0) == 0);
  for (const char* p : {"/certs:", "/server:", "/root:", "/generate_csr:", "/pendingcert:",
                        "/deploy:", "/certrevokecheck:", "/restart:"})
    CHECK(contains(raml->body, p));
  REQUIRE_FALSE(raml->peer_chain.empty());
  CHECK(raml->peer_chain.front() != cert->to_pem());
}

TEST_CASE("simserver REST: certrevokecheck GET/PUT, ACME pendingcert without a pending one",
          "[simserver]") {
  SimServerFixture f;
  const std::string path = "/api/provisioning/common/protocol/sip/certrevokecheck";
  auto before = f.get(path);
  REQUIRE(before.status == 200);
  CHECK(contains(before.body, R"("Mode":"Off")"));
  auto put = f.request("PUT", path,
                       R"({"Mode":"On","OcspMode":"Off","CrlMode":"On","CrlNetworkFetchMode":"On",
                           "SourceInaccessibilityBehavior":"Fail"})",
                       "application/json");
  REQUIRE(put);
  CHECK(put->status == 200);
  auto st = f.admin("edge1").read_state();
  REQUIRE(st);
  CHECK(st->revocation.enabled);
  CHECK_FALSE(st->revocation.ocsp);
  CHECK(st->revocation.fallback == spec::RevocationFallback::kTreatAsRevoked);
  auto bad = f.request("PUT", path, R"({"Mode":"Sometimes"})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);

  auto pending = f.get("/api/provisioning/certs/acme/pendingcert");
  CHECK(pending.status == 404);
  auto deploy = f.request("POST", "/api/provisioning/certs/acme/pendingcert/deploy");
  REQUIRE(deploy);
  CHECK(deploy->status == 400);  // ACME is disabled on a factory node
  CHECK(f.server->unrecognised_requests().empty());
}

TEST_CASE("simserver: each listener presents its own node's active certificate, stop is final",
          "[simserver]") {
  SimServerFixture f;
  for (int i = 0; i < 2; ++i) {
    std::string name = i == 0 ? "edge1" : "edge2";
    http::Request g{"GET", "/status.xml"};
    g.capture_peer_chain = true;
    auto r = f.client(i)->perform(g);
    REQUIRE(r);
    REQUIRE(r->peer_chain.size() == 1);
    auto st = f.admin(name).read_state();
    REQUIRE(st);
    CHECK(r->peer_chain[0] == st->server_chain.front().to_pem());
  }
  auto c = f.client();
  f.server->stop();
  f.server->stop();  // idempotent
  CHECK_FALSE(c->perform(http::Request{"GET", "/status.xml"}));
}

TEST_CASE("simserver: NAME=VALUE flags", "[simserver]") {
  auto kv = simserver::split_assignment("--node", "edge1=127.0.0.1:0");
  REQUIRE(kv);
  CHECK(kv->first == "edge1");
  CHECK(kv->second == "127.0.0.1:0");
  CHECK_FALSE(simserver::split_assignment("--node", "edge1"));
  CHECK_FALSE(simserver::split_assignment("--fqdn", "=x"));
}
