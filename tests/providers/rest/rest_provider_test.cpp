// The https:// provider beyond the shared contract: wire behaviour with a fake
// transport (CSRF header, retries, backoff, status mapping, message shape),
// then against an edgecert-sim child process (Basic auth, CSRF, TLS
// verification against access.caBundle, --insecure, served chain across a
// restart, fault injection, no private key on the wire or in the log).
#include <deque>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/http/http_client.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/rest/rest_api.h"
#include "providers/rest/rest_provider.h"
#include "providers/sim/sim_node.h"
#include "tests/providers/rest/sim_process.h"
#include "tests/providers/sim/sim_test_env.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using http::Request;
using http::Response;

// ---------------------------------------------------------------------------
// Fake transport.

struct SeenRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has(const std::string& header) const {
    for (const auto& [k, v] : headers)
      if (k == header) return true;
    return false;
  }
};

class FakeTransport : public http::Transport {
 public:
  std::vector<SeenRequest>* seen;
  std::deque<Result<Response>>* replies;
  FakeTransport(std::vector<SeenRequest>* s, std::deque<Result<Response>>* r)
      : seen(s), replies(r) {}
  Result<Response> perform(const Request& r) override {
    seen->push_back({r.method, r.target, r.headers, std::string(r.body)});
    if (replies->empty()) return Response{.status = 200, .body = "{}"};
    auto next = std::move(replies->front());
    replies->pop_front();
    return next;
  }
};

Response reply(long status, std::string body) {
  return Response{.status = status, .body = std::move(body)};
}
Result<Response> dropped() {
  return make_error(ErrorCode::kUnavailable, "connection dropped without a reply: Empty reply");
}

struct FakeFixture {
  MemoryEnv env;
  std::vector<SeenRequest> seen;
  std::deque<Result<Response>> replies;
  std::unique_ptr<node::NodeProvider> node;
  explicit FakeFixture(std::string name = "edge1") {
    node = rest::make_rest_node_provider(std::move(name), env,
                                         std::make_unique<FakeTransport>(&seen, &replies));
  }
  std::string acme_json() { return rest::encode_acme_settings({}).dump(); }
};

TEST_CASE("rest: X-CSRF-Header on POST/PUT/DELETE, never on GET", "[rest]") {
  FakeFixture f;
  f.replies.push_back(reply(200, f.acme_json()));
  REQUIRE(f.node->acme_settings());
  REQUIRE(f.node->restart());
  REQUIRE(f.node->set_tls_verification(spec::TlsVerification::kPermissive));
  REQUIRE(f.node->discard_csr());
  REQUIRE(f.seen.size() == 4);
  CHECK(f.seen[0].method == "GET");
  CHECK_FALSE(f.seen[0].has("X-CSRF-Header"));
  CHECK(f.seen[1].method == "POST");
  CHECK(f.seen[1].path == "/api/provisioning/restart");
  CHECK(f.seen[1].has("X-CSRF-Header"));
  CHECK(f.seen[2].method == "PUT");
  CHECK(f.seen[2].has("X-CSRF-Header"));
  CHECK(f.seen[2].body.find("\"Permissive\"") != std::string::npos);
  CHECK(f.seen[3].method == "DELETE");
  CHECK(f.seen[3].path == "/api/provisioning/certs/generate_csr");
  CHECK(f.seen[3].has("X-CSRF-Header"));
}

TEST_CASE("rest: GETs are retried with exponential backoff through Env::sleep_for", "[rest]") {
  FakeFixture f;
  SECTION("a dropped connection and a 503, then success") {
    f.replies.push_back(dropped());
    f.replies.push_back(reply(503, R"({"Message": "node is restarting"})"));
    f.replies.push_back(reply(200, f.acme_json()));
    TimePoint t0 = f.env.now();
    REQUIRE(f.node->acme_settings());
    CHECK(f.seen.size() == 3);
    CHECK(f.env.now() - t0 == std::chrono::milliseconds(250 + 500));
  }
  SECTION("bounded: the last error names the attempts") {
    for (int i = 0; i < 5; ++i)
      f.replies.push_back(reply(503, R"({"Message": "node is restarting"})"));
    auto r = f.node->acme_settings();
    REQUIRE_FALSE(r);
    CHECK(f.seen.size() == 3);
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message ==
          "edge1: read ACME settings: GET /api/provisioning/edgecert/acme: 503: node is "
          "restarting (after 3 attempts)");
  }
  SECTION("4xx and 500 are answers, not retried") {
    f.replies.push_back(reply(404, R"({"Message": "no such thing"})"));
    REQUIRE_FALSE(f.node->acme_settings());
    f.replies.push_back(reply(500, R"({"Message": "the node failed, simulated 500"})"));
    REQUIRE_FALSE(f.node->acme_settings());
    CHECK(f.seen.size() == 2);
  }
}

TEST_CASE("rest: POST/PUT/DELETE are never retried", "[rest]") {
  FakeFixture f;
  f.replies.push_back(reply(503, R"({"Message": "busy"})"));
  auto r = f.node->restart();
  REQUIRE_FALSE(r);
  CHECK(f.seen.size() == 1);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message == "edge1: restart: POST /api/provisioning/restart: 503: busy");

  f.replies.push_back(dropped());
  auto p = f.node->set_tls_verification(spec::TlsVerification::kEnforce);
  REQUIRE_FALSE(p);
  CHECK(f.seen.size() == 2);
  CHECK(p.error().code == ErrorCode::kUnavailable);
  CHECK(p.error().message.find("connection dropped") != std::string::npos);
  CHECK(p.error().message.find("re-read the node's state") != std::string::npos);

  f.replies.push_back(dropped());
  REQUIRE_FALSE(f.node->remove_manual_crl());
  CHECK(f.seen.size() == 3);
}

TEST_CASE("rest: statuses map to error categories, messages name node, method, path, status",
          "[rest]") {
  FakeFixture f("edge2");
  struct Case {
    long status;
    ErrorCode code;
  };
  for (Case c : {Case{400, ErrorCode::kInvalidArgument}, Case{401, ErrorCode::kPermission},
                 Case{403, ErrorCode::kPermission}, Case{404, ErrorCode::kNotFound},
                 Case{409, ErrorCode::kAlreadyExists}, Case{500, ErrorCode::kInternal},
                 Case{502, ErrorCode::kUnavailable}, Case{503, ErrorCode::kUnavailable}}) {
    f.replies.push_back(reply(c.status, R"({"Message": "m"})"));
    auto r = f.node->discard_csr();
    REQUIRE_FALSE(r);
    INFO(c.status << ": " << r.error().message);
    CHECK(r.error().code == c.code);
    CHECK(r.error().message.rfind(
              fmt::format("edge2: discard CSR: DELETE /api/provisioning/certs/generate_csr: {}: m",
                          c.status),
              0) == 0);
  }
  f.replies.push_back(reply(401, R"({"Message": "Authentication failed"})"));
  auto a = f.node->restart();
  REQUIRE_FALSE(a);
  CHECK(a.error().message.find("check access.username and access.passwordFrom") !=
        std::string::npos);

  f.replies.push_back(
      reply(400, R"({"Message": "Common name must be a valid FQDN: 'edge2' has one label"})"));
  node::CertificateUpload up;
  up.chain_pem = "-----BEGIN CERTIFICATE-----\n";
  auto u = f.node->upload_server_certificate(up);
  REQUIRE_FALSE(u);
  CHECK(u.error().message ==
        "edge2: upload server certificate: POST /api/provisioning/certs/server: 400: Common name "
        "must be a valid FQDN: 'edge2' has one label");
}

TEST_CASE("rest: uploads are multipart with field file (and key), the key is not echoed",
          "[rest]") {
  FakeFixture f;
  f.replies.push_back(reply(400, R"({"Message": "rejected"})"));
  node::CertificateUpload up;
  up.chain_pem = "CERT-PEM";
  up.key = pki::SecretString("-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n");
  auto r = f.node->upload_server_certificate(up);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("SECRETKEYBYTES") == std::string::npos);
  REQUIRE(f.seen.size() == 1);
  const std::string& body = f.seen[0].body;
  CHECK(body.find("name=\"file\"") != std::string::npos);
  CHECK(body.find("CERT-PEM") != std::string::npos);
  CHECK(body.find("name=\"key\"") != std::string::npos);
}

TEST_CASE("rest: https endpoints and opening", "[rest]") {
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
  CHECK(node::open_node(ctx, s, s.peers[0]));
}

// ---------------------------------------------------------------------------
// Against a live edgecert-sim.

struct TestCa {
  pki::PrivateKey key;
  pki::Certificate cert;
  static TestCa make(const std::string& cn) {
    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    pki::CaOptions o;
    o.common_name = cn;
    o.not_before = Clock::now() - std::chrono::hours(24);
    o.not_after = Clock::now() + std::chrono::days(3650);
    auto cert = pki::create_self_signed_ca(*key, o);
    REQUIRE(cert);
    return TestCa{std::move(*key), std::move(*cert)};
  }
  std::string sign(const std::string& csr_pem, const std::string& serial) const {
    auto csr = pki::CertificateRequest::parse(csr_pem, "csr");
    REQUIRE(csr);
    pki::IssueOptions o;
    o.not_before = Clock::now() - std::chrono::hours(1);
    o.not_after = Clock::now() + std::chrono::days(365);
    o.serial_hex = serial;
    auto c = pki::sign_csr(*csr, cert, key, o);
    REQUIRE(c);
    return c->to_pem();
  }
};

struct Live {
  testing::TempDir dir;
  std::string password_file = dir.write("password", "live-pw\n");
  std::string log = dir.file("sim.log");
  std::unique_ptr<testing::SimProcess> sim;
  testing::PosixFilesVirtualClockEnv virtual_env;  // backoff sleeps take no real time

  Live() {
    testing::SimProcessOptions o;
    o.state_dir = dir.file("sim");
    o.nodes = {{"edge1", "edge1.example.com"}};
    o.password_file = password_file;
    o.stderr_file = log;
    o.extra_args = {"--restart-seconds", "1"};
    sim = std::make_unique<testing::SimProcess>(o);
  }
  sim::SimNode admin() {
    return sim::SimNode(default_env(), dir.file("sim"), "edge1", "edge1.example.com");
  }

  struct Open {
    std::optional<std::string> ca_bundle;
    bool insecure = false;
    std::string password_from;
    std::string fqdn = "edge1.example.com";
    Env* env = nullptr;
    rest::RestOptions options;
  };
  Result<std::unique_ptr<node::NodeProvider>> open(const Open& o) {
    node::NodeOpenContext ctx(o.env ? *o.env : default_env());
    ctx.insecure = o.insecure;
    ctx.connect_timeout = std::chrono::seconds(5);
    ctx.request_timeout = std::chrono::seconds(30);
    spec::Spec s;
    s.name = "live";
    s.peers = {{"edge1", o.fqdn, sim->endpoint("edge1")}};
    s.access = spec::Access{
        "admin", o.password_from.empty() ? "file:" + password_file : o.password_from, o.ca_bundle};
    return rest::make_https_node_provider_with(ctx, s, s.peers[0], o.options);
  }
  std::unique_ptr<node::NodeProvider> open_ok(const Open& o) {
    auto n = open(o);
    REQUIRE(n);
    return std::move(*n);
  }
  std::string factory_ca_pem() {
    auto st = admin().read_state();
    REQUIRE(st);
    return st->trusted_cas.front().to_pem();
  }
  int audit_count(const std::string& op) {
    auto a = admin().audit();
    REQUIRE(a);
    return static_cast<int>(
        std::count_if(a->begin(), a->end(), [&](const auto& e) { return e.operation == op; }));
  }
};

TEST_CASE("rest live: wrong password is 401 -> kPermission naming the node", "[rest][live]") {
  Live l;
  std::string wrong = l.dir.write("wrong", "not-the-password\n");
  Live::Open o;
  o.insecure = true;
  o.password_from = "file:" + wrong;
  auto n = l.open_ok(o);
  auto r = n->read_state();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermission);
  CHECK(r.error().message.rfind("edge1: read state: GET /api/provisioning/edgecert/status: 401: ",
                                0) == 0);
  CHECK(r.error().message.find("not-the-password") == std::string::npos);
  auto w = n->wait_until_up(std::chrono::seconds(5));  // not transient: no polling
  REQUIRE_FALSE(w);
  CHECK(w.error().code == ErrorCode::kPermission);
}

TEST_CASE("rest live: a POST without X-CSRF-Header is refused with 403", "[rest][live]") {
  Live l;
  http::ClientOptions o;
  o.connect_host = "127.0.0.1";
  o.port = l.sim->port("edge1");
  o.server_name = "edge1.example.com";
  o.insecure = true;
  o.username = "admin";
  o.password = pki::SecretString("live-pw");
  auto t = http::make_curl_transport(std::move(o));
  REQUIRE(t);
  Request post;
  post.method = "POST";
  post.target = rest::kRestartPath;
  auto r = (*t)->perform(post);
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(rest::message_of(r->body) == "Forbidden");  // the reference's 403 body
  CHECK(l.audit_count("restart") == 0);
  post.headers.emplace_back("X-CSRF-Header", "x");
  auto ok = (*t)->perform(post);
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("rest live: the server certificate is verified against access.caBundle", "[rest][live]") {
  Live l;
  std::string right = l.dir.write("right.pem", l.factory_ca_pem());
  TestCa other = TestCa::make("Unrelated CA");
  std::string wrong = l.dir.write("wrong.pem", other.cert.to_pem());

  SECTION("the node's CA and its FQDN verify") {
    Live::Open o;
    o.ca_bundle = right;
    auto n = l.open_ok(o);
    CHECK(n->read_state());
  }
  SECTION("a wrong bundle fails clearly, with no fallback") {
    Live::Open o;
    o.ca_bundle = wrong;
    auto n = l.open_ok(o);
    auto r = n->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermission);
    CHECK(r.error().message.rfind("edge1: read state: GET /api/provisioning/edgecert/status: TLS "
                                  "verification failed",
                                  0) == 0);
    auto s = n->set_tls_verification(spec::TlsVerification::kPermissive);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kPermission);
    auto st = l.admin().read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
    CHECK(l.audit_count("set_tls_verification") == 0);
  }
  SECTION("the certificate must name the peer FQDN") {
    Live::Open o;
    o.ca_bundle = right;
    o.fqdn = "edge9.example.com";
    auto r = l.open_ok(o)->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("TLS verification failed") != std::string::npos);
  }
  SECTION("insecure (the CLI's --insecure) skips verification explicitly") {
    Live::Open o;
    o.ca_bundle = wrong;
    o.insecure = true;
    CHECK(l.open_ok(o)->read_state());
  }
}

TEST_CASE("rest live: served_chain is a real handshake and changes after upload + restart",
          "[rest][live]") {
  Live l;
  TestCa ca = TestCa::make("Live Root CA");
  std::string bundle = l.dir.write("bundle.pem", l.factory_ca_pem() + ca.cert.to_pem());
  Live::Open o;
  o.ca_bundle = bundle;
  auto n = l.open_ok(o);

  auto before = n->served_chain();
  REQUIRE(before);
  REQUIRE(before->size() == 1);
  CHECK(before->front().issuer_cn().rfind("TEMPORARY CA ", 0) == 0);

  REQUIRE(n->append_trusted_cas(ca.cert.to_pem()));
  node::CsrRequest req;
  req.common_name = "edge1.example.com";
  req.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  req.key_size = 256;
  auto csr = n->generate_csr(req);
  REQUIRE(csr);
  node::CertificateUpload up;
  up.chain_pem = ca.sign(*csr, "5A") + ca.cert.to_pem();
  auto staged = n->upload_server_certificate(up);
  REQUIRE(staged);

  auto still = n->served_chain();
  REQUIRE(still);
  CHECK(still->front().sha256_fingerprint() == before->front().sha256_fingerprint());

  REQUIRE(n->restart());
  auto during = n->read_state();
  REQUIRE_FALSE(during);
  CHECK(during.error().code == ErrorCode::kUnavailable);
  REQUIRE(n->wait_until_up(std::chrono::seconds(20)));

  auto after = n->served_chain();
  REQUIRE(after);
  CHECK(after->front().sha256_fingerprint() == staged->staged_sha256);
  REQUIRE(after->size() == 2);
  CHECK(after->at(1).sha256_fingerprint() == ca.cert.sha256_fingerprint());
  // A fresh provider (new connection, verification on) sees the same.
  auto again = l.open_ok(o)->served_chain();
  REQUIRE(again);
  CHECK(again->front().sha256_fingerprint() == staged->staged_sha256);
}

TEST_CASE("rest live: GETs retry through injected failures, POSTs never retry", "[rest][live]") {
  Live l;
  Live::Open o;
  o.insecure = true;
  o.env = &l.virtual_env;
  auto n = l.open_ok(o);  // default RestOptions: 3 GET attempts

  SECTION("two dropped connections, then the GET succeeds") {
    sim::FaultConfig fc;
    fc.drop_connections = 2;
    REQUIRE(l.admin().set_faults(fc));
    TimePoint t0 = l.virtual_env.now();
    auto r = n->read_state();
    INFO((r ? std::string("ok") : r.error().message));
    REQUIRE(r);
    CHECK(l.audit_count("read_state") == 3);
    CHECK(l.virtual_env.now() - t0 == std::chrono::milliseconds(250 + 500));
  }
  SECTION("a failure rate of 1 exhausts the attempts") {
    sim::FaultConfig fc;
    fc.failure_rate = 1.0;
    REQUIRE(l.admin().set_faults(fc));
    auto r = n->read_state();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message.find("GET /api/provisioning/edgecert/status: 503: ") !=
          std::string::npos);
    CHECK(r.error().message.find("(after 3 attempts)") != std::string::npos);
    CHECK(l.audit_count("read_state") == 3);
    auto p = n->restart();
    REQUIRE_FALSE(p);
    CHECK(p.error().message.rfind("edge1: restart: POST /api/provisioning/restart: 503: ", 0) == 0);
    CHECK(l.audit_count("restart") == 1);
  }
  SECTION("a dropped POST is reported, not repeated") {
    sim::FaultConfig fc;
    fc.drop_connections = 1;
    REQUIRE(l.admin().set_faults(fc));
    auto p = n->set_tls_verification(spec::TlsVerification::kPermissive);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == ErrorCode::kUnavailable);
    CHECK(p.error().message.rfind(
              "edge1: set TLS verification mode: PUT /api/provisioning/edgecert/clustertls: "
              "connection dropped",
              0) == 0);
    CHECK(l.audit_count("set_tls_verification") == 1);
    auto st = n->read_state();
    REQUIRE(st);
    CHECK(st->tls_verification == spec::TlsVerification::kEnforce);
  }
}

TEST_CASE("rest live: no HTTP response or server log ever contains a private key", "[rest][live]") {
  Live l;
  // Records every response body and error the provider receives.
  struct Recording : http::Transport {
    std::unique_ptr<http::Transport> inner;
    std::string* seen;
    Result<Response> perform(const Request& r) override {
      auto resp = inner->perform(r);
      if (resp) {
        *seen += resp->body + "\n";
        for (const auto& c : resp->peer_chain) *seen += c;
      } else {
        *seen += resp.error().message + "\n";
      }
      return resp;
    }
  };
  std::string seen;
  auto make = [&] {
    http::ClientOptions o;
    o.connect_host = "127.0.0.1";
    o.port = l.sim->port("edge1");
    o.server_name = "edge1.example.com";
    o.insecure = true;
    o.username = "admin";
    o.password = pki::SecretString("live-pw");
    auto t = http::make_curl_transport(std::move(o));
    REQUIRE(t);
    auto rec = std::make_unique<Recording>();
    rec->inner = std::move(*t);
    rec->seen = &seen;
    return rec;
  };
  auto n = rest::make_rest_node_provider("edge1", default_env(), make());
  auto note = [&](const auto& r) {
    if (!r) seen += r.error().message + "\n";
  };

  TestCa ca = TestCa::make("Secret Root CA");
  REQUIRE(n->append_trusted_cas(ca.cert.to_pem()));
  node::CsrRequest req;
  req.common_name = "edge1.example.com";
  req.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  req.key_size = 256;
  REQUIRE(n->generate_csr(req));
  std::string csr_time_file = *default_env().read_file(l.admin().state_path());

  // A key upload while a CSR is pending (rejected), then a good one.
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  pki::CsrOptions co;
  co.common_name = "edge1.example.com";
  co.dns_names = {"edge1.example.com"};
  auto local_csr = pki::CertificateRequest::create(*key, co);
  REQUIRE(local_csr);
  auto key_pem = key->to_pem();
  REQUIRE(key_pem);
  node::CertificateUpload up;
  up.chain_pem = ca.sign(local_csr->to_pem(), "77");
  up.key = pki::SecretString(key_pem->view());
  note(n->upload_server_certificate(up));
  REQUIRE(n->discard_csr());
  node::CertificateUpload good;
  good.chain_pem = up.chain_pem;
  good.key = pki::SecretString(key_pem->view());
  REQUIRE(n->upload_server_certificate(good));
  note(n->read_state());
  REQUIRE(n->restart());
  REQUIRE(n->wait_until_up(std::chrono::seconds(20)));
  note(n->read_state());
  note(n->served_chain());
  note(n->acme_settings());
  // Every GET resource, raw.
  auto raw = make();
  for (const char* path : {rest::kServerCertPath, rest::kRootCertsPath, rest::kGenerateCsrPath,
                           rest::kRevocationPath, rest::kStatusPath, rest::kCrlSettingsPath,
                           rest::kClusterTlsPath, rest::kAcmeSettingsPath, rest::kPingPath}) {
    Request g;
    g.method = "GET";
    g.target = path;
    (void)raw->perform(g);
  }

  // Key material: the pending CSR's key, the uploaded key, the active key.
  std::vector<std::string> bodies;
  auto collect = [&](std::string text) {
    for (size_t p; (p = text.find("\\n")) != std::string::npos;) text.replace(p, 2, "\n");
    const std::string begin = "-----BEGIN PRIVATE KEY-----\n";
    for (size_t pos = 0; (pos = text.find(begin, pos)) != std::string::npos;) {
      size_t l1 = text.find('\n', pos + begin.size());
      size_t l2 = text.find('\n', l1 + 1);
      REQUIRE(l2 != std::string::npos);
      bodies.push_back(text.substr(l1 + 1, l2 - l1 - 1));
      pos = l2;
    }
  };
  collect(csr_time_file);
  collect(std::string(key_pem->view()));
  collect(*default_env().read_file(l.admin().state_path()));
  REQUIRE(bodies.size() >= 3);

  REQUIRE(seen.find("BEGIN CERTIFICATE") != std::string::npos);  // we did see responses
  CHECK(seen.find("PRIVATE KEY") == std::string::npos);
  l.sim->stop();
  auto log = default_env().read_file(l.log);
  REQUIRE(log);
  CHECK(log->find("edge1: POST /api/provisioning/certs/server -> 200") != std::string::npos);
  CHECK(log->find("PRIVATE KEY") == std::string::npos);
  for (const std::string& b : bodies) {
    INFO("key fragment " << b.substr(0, 12) << "...");
    CHECK(seen.find(b) == std::string::npos);
    CHECK(log->find(b) == std::string::npos);
  }
}

TEST_CASE("rest live: edgecert-sim stops cleanly on SIGTERM", "[rest][live]") {
  Live l;
  int status = l.sim->stop();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace
