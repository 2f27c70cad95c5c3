// The acme issuer against a real Pebble on loopback (and, for what Pebble
// cannot do — rate limits — against a scripted transport).
#include "providers/issuers/acme_issuer.h"

#include <httplib.h>
#include <stdlib.h>

#include <thread>

#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/pki/csr.h"
#include "providers/pki/jws.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::issuer;
using edgecert::testing::PebbleOptions;
using edgecert::testing::PebbleProcess;
using edgecert::testing::TempDir;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct NodeCsr {
  pki::PrivateKey key;
  std::string pem;
};

// What a node would generate: its own key, CN + SANs.
NodeCsr node_csr(const std::string& cn, const std::vector<std::string>& sans) {
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  pki::CsrOptions o;
  o.common_name = cn;
  o.dns_names = sans;
  o.subject.country = "JP";
  o.subject.organization = "Example KK";
  auto csr = pki::CertificateRequest::create(*key, o);
  REQUIRE(csr);
  return NodeCsr{std::move(*key), csr->to_pem()};
}

spec::AcmeIssuer config_for(const PebbleProcess& p, const std::string& listen = "127.0.0.1:0") {
  spec::AcmeIssuer c;
  c.directory = p.directory_url();
  c.email = "ops@example.test";
  c.ca_bundle = p.ca_bundle();
  c.http01_listen = listen;
  return c;
}

AcmeIssuerOptions options_in(const TempDir& dir) {
  AcmeIssuerOptions o;
  o.state_dir = dir.file("state/cluster");
  o.client.poll_timeout = std::chrono::seconds(20);
  return o;
}

SignOutcome sign_ok(Issuer& issuer, const std::string& csr_pem, const std::string& node = "edge1") {
  auto out = issuer.sign({"cluster", node, csr_pem, spec::Digest::kSha256});
  INFO((out ? std::string() : out.error().message));
  REQUIRE(out);
  REQUIRE(out->state == SignState::kIssued);
  return std::move(*out);
}

// One sign (cluster/edge1) by a fresh issuer, as one run opens it.
Result<SignOutcome> sign_once(Env& env, const spec::AcmeIssuer& cfg, const TempDir& dir,
                              const std::string& csr_pem) {
  return make_acme_issuer(env, cfg, options_in(dir))
      ->sign({"cluster", "edge1", csr_pem, spec::Digest::kSha256});
}

std::vector<std::string> dns_of(const pki::Certificate& c) {
  return c.subject_alt_names().dns;
}

// A scripted ACME server for what Pebble cannot produce.
class ScriptedTransport : public http::Transport {
 public:
  std::function<http::Response(const http::Request&)> handler;
  int requests = 0;

  Result<http::Response> perform(const http::Request& req) override {
    ++requests;
    http::Response r;
    if (req.target == "https://ca.test/dir") {
      r.status = 200;
      r.body = nlohmann::json{{"newNonce", "https://ca.test/nonce"},
                              {"newAccount", "https://ca.test/account"},
                              {"newOrder", "https://ca.test/order"},
                              {"revokeCert", "https://ca.test/revoke"},
                              {"keyChange", "https://ca.test/key"}}
                   .dump();
      return r;
    }
    r = handler(req);
    r.headers.emplace_back("replay-nonce", "nonce" + std::to_string(requests));
    return r;
  }
};

}  // namespace

TEST_CASE("acme issuer: a CSR with 2 names is issued, the account key is stored 0600 and reused",
          "[issuer][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  TempDir dir;
  Env& env = default_env();
  auto issuer = make_acme_issuer(env, config_for(pebble), options_in(dir));
  CHECK(issuer->type() == "acme");
  auto cas = issuer->ca_certificates();
  REQUIRE(cas);
  CHECK(cas->empty());  // an ACME CA's root is listed in spec.trustedCAs

  // Upper case in the CSR and the CN repeated in the SANs: one identifier each.
  NodeCsr csr = node_csr("Edge.Example.test", {"edge.example.test", "edge1.example.test"});
  SignOutcome out = sign_ok(*issuer, csr.pem);
  REQUIRE(out.chain.size() == 2);  // leaf + Pebble's intermediate, no root
  const pki::Certificate& leaf = out.chain.front();
  CHECK(csr.key.matches(leaf));
  auto dns = dns_of(leaf);
  std::sort(dns.begin(), dns.end());
  CHECK(dns == std::vector<std::string>{"edge.example.test", "edge1.example.test"});
  CHECK(leaf.is_signed_by(out.chain[1]));
  CHECK_FALSE(out.chain[1].is_self_signed());

  std::string key_path = acme_account_key_path(dir.file("state/cluster"), pebble.directory_url());
  CHECK(contains(key_path, dir.file("state/cluster/acme/")));
  REQUIRE(env.exists(key_path));
  CHECK(*env.file_mode(key_path) == 0600);
  std::string key_before = *env.read_file(key_path, kTestRead);

  // Another run (a new issuer object, as the next apply opens) reuses the key
  // and its account.
  auto again = make_acme_issuer(env, config_for(pebble), options_in(dir));
  NodeCsr csr2 = node_csr("edge2.example.test", {"edge2.example.test"});
  SignOutcome out2 = sign_ok(*again, csr2.pem, "edge2");
  CHECK(csr2.key.matches(out2.chain.front()));
  CHECK(*env.read_file(key_path, kTestRead) == key_before);
  auto left = env.list_dir(path_dirname(key_path));
  REQUIRE(left);
  CHECK(*left == std::vector<std::string>{"account.key"});

  // A different directory URL gets a different account key.
  CHECK(acme_account_key_path("s", "https://other.test/dir") !=
        acme_account_key_path("s", pebble.directory_url()));
}

TEST_CASE("acme issuer: real http-01 validation, standalone listener and webroot",
          "[issuer][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleOptions po;
  po.always_valid = false;  // Pebble's VA really fetches the token
  PebbleProcess pebble(po);
  TempDir dir;
  Env& env = default_env();
  std::string listen = "127.0.0.1:" + std::to_string(pebble.http_port());

  // Only `localhost` resolves to this machine here.
  auto standalone = make_acme_issuer(env, config_for(pebble, listen), options_in(dir));
  NodeCsr csr = node_csr("localhost", {"localhost"});
  SignOutcome out = sign_ok(*standalone, csr.pem);
  CHECK(dns_of(out.chain.front()) == std::vector<std::string>{"localhost"});

  // The listener is gone once sign returns: nothing answers on the port.
  CHECK_FALSE(testing::loopback_port_listens(pebble.http_port()));

  // Webroot: another web server owns the port and serves the folder.
  TempDir www;
  httplib::Server server;
  REQUIRE(server.set_mount_point("/", www.path()));
  REQUIRE(server.bind_to_port("127.0.0.1", pebble.http_port()));
  std::thread th([&] { server.listen_after_bind(); });
  spec::AcmeIssuer cfg = config_for(pebble);
  cfg.http01_listen.reset();
  cfg.webroot = www.path();
  auto webroot = make_acme_issuer(env, cfg, options_in(dir));
  NodeCsr csr2 = node_csr("localhost", {"localhost"});
  auto out2 = webroot->sign({"cluster", "edge2", csr2.pem, spec::Digest::kSha256});
  server.stop();
  th.join();
  INFO((out2 ? std::string() : out2.error().message));
  REQUIRE(out2);
  CHECK(csr2.key.matches(out2->chain.front()));
  auto files = env.list_dir(www.file(".well-known/acme-challenge"));
  REQUIRE(files);
  CHECK(files->empty());  // challenge files removed

  // A name that does not resolve fails with the issuer, node and name in the message.
  NodeCsr bad = node_csr("nowhere.invalid", {"nowhere.invalid"});
  auto failed = standalone->sign({"cluster", "edge3", bad.pem, spec::Digest::kSha256});
  REQUIRE(!failed);
  INFO(failed.error().message);
  CHECK(contains(failed.error().message, "acme issuer " + pebble.directory_url()));
  CHECK(contains(failed.error().message, "cluster/edge3"));
  CHECK(contains(failed.error().message, "nowhere.invalid"));
}

TEST_CASE("acme issuer: external account binding from env:, the key never in messages",
          "[issuer][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  const std::string hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  PebbleOptions po;
  po.eab_keys["kid-7"] = hmac;
  PebbleProcess pebble(po);
  Env& env = default_env();
  spec::AcmeIssuer cfg = config_for(pebble);

  SECTION("no EAB configured: the error says what to set") {
    TempDir dir;
    auto r = sign_once(env, cfg, dir, node_csr("a.example.test", {}).pem);
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK(contains(r.error().message, "external account binding"));
    CHECK(contains(r.error().message, "issuer.eab"));
  }
  SECTION("variable not set") {
    TempDir dir;
    ::unsetenv("EDGECERT_TEST_EAB_UNSET");
    cfg.eab = spec::AcmeIssuer::Eab{"kid-7", "env:EDGECERT_TEST_EAB_UNSET"};
    auto r = sign_once(env, cfg, dir, node_csr("a.example.test", {}).pem);
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK(contains(r.error().message, "EDGECERT_TEST_EAB_UNSET is not set"));
  }
  SECTION("wrong key: refused, and neither key shows up") {
    TempDir dir;
    const std::string wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    ::setenv("EDGECERT_TEST_EAB_WRONG", wrong.c_str(), 1);
    cfg.eab = spec::AcmeIssuer::Eab{"kid-7", "env:EDGECERT_TEST_EAB_WRONG"};
    auto r = sign_once(env, cfg, dir, node_csr("a.example.test", {}).pem);
    ::unsetenv("EDGECERT_TEST_EAB_WRONG");
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK_FALSE(contains(r.error().message, wrong));
    CHECK_FALSE(contains(r.error().message, hmac));
  }
  SECTION("right key from env: the account is created and signs") {
    TempDir dir;
    ::setenv("EDGECERT_TEST_EAB_HMAC", hmac.c_str(), 1);
    cfg.eab = spec::AcmeIssuer::Eab{"kid-7", "env:EDGECERT_TEST_EAB_HMAC"};
    auto issuer = make_acme_issuer(env, cfg, options_in(dir));
    NodeCsr csr = node_csr("eab.example.test", {"eab.example.test", "eab2.example.test"});
    SignOutcome out = sign_ok(*issuer, csr.pem);
    ::unsetenv("EDGECERT_TEST_EAB_HMAC");
    CHECK(csr.key.matches(out.chain.front()));
    // Once the account exists the HMAC key is not needed any more.
    auto later = make_acme_issuer(env, cfg, options_in(dir));
    sign_ok(*later, node_csr("eab3.example.test", {"eab3.example.test"}).pem);
  }
}

TEST_CASE("acme issuer: EAB HMAC references", "[issuer][acme]") {
  MemoryEnv env;
  env.set_env("EAB", "c2VjcmV0LWtleQ\n");  // "secret-key", base64url, newline as pasted
  auto k = resolve_eab_hmac(env, "env:EAB");
  REQUIRE(k);
  CHECK(k->str() == "secret-key");
  env.put("/run/eab.txt", "c2VjcmV0LWtleQ==\r\n");
  auto f = resolve_eab_hmac(env, "file:/run/eab.txt");
  REQUIRE(f);
  CHECK(f->str() == "secret-key");
  env.set_env("BAD", "not base64 at all!");
  auto bad = resolve_eab_hmac(env, "env:BAD");
  REQUIRE(!bad);
  CHECK(contains(bad.error().message, "env:BAD"));
  CHECK_FALSE(contains(bad.error().message, "not base64"));
  CHECK(!resolve_eab_hmac(env, "file:/run/missing"));
  CHECK(!resolve_eab_hmac(env, "c2VjcmV0LWtleQ"));
}

TEST_CASE("acme issuer: revoke with the account key, then Pebble reports it revoked",
          "[issuer][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  TempDir dir;
  Env& env = default_env();
  NodeCsr csr = node_csr("old.example.test", {"old.example.test", "old1.example.test"});
  SignOutcome out = sign_ok(*make_acme_issuer(env, config_for(pebble), options_in(dir)), csr.pem);
  const pki::Certificate& leaf = out.chain.front();
  CHECK(contains(pebble.cert_status(leaf), "Valid"));

  // A later run (a new issuer object) revokes with the stored account key.
  auto later = make_acme_issuer(env, config_for(pebble), options_in(dir));
  auto s = later->revoke(leaf, RevocationReason::kSuperseded);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  std::string status = pebble.cert_status(leaf);
  CHECK(contains(status, "Revoked"));
  CHECK(contains(status, "\"Reason\": 4"));
  // Revoking again is not an error: the certificate is in the state asked for.
  CHECK(later->revoke(leaf, RevocationReason::kSuperseded));

  // Without the account (another state folder, no key yet): a clear refusal.
  TempDir other;
  auto stranger = make_acme_issuer(env, config_for(pebble), options_in(other));
  auto r = stranger->revoke(leaf, RevocationReason::kSuperseded);
  REQUIRE(!r);
  INFO(r.error().message);
  CHECK(contains(r.error().message, "acme issuer " + pebble.directory_url()));
  CHECK(contains(r.error().message, "revoke serial " + leaf.serial_hex()));
}

TEST_CASE("acme issuer: a bad directory or CA bundle gives a clear error", "[issuer][acme]") {
  TempDir dir;
  Env& env = default_env();
  NodeCsr csr = node_csr("a.example.test", {"a.example.test"});
  spec::AcmeIssuer cfg;
  cfg.email = "ops@example.test";
  cfg.http01_listen = "127.0.0.1:0";

  SECTION("nothing listens there") {
    cfg.directory = "https://127.0.0.1:1/directory";
    auto r = sign_once(env, cfg, dir, csr.pem);
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(contains(r.error().message, "acme issuer https://127.0.0.1:1/directory: cluster/edge1"));
    CHECK(contains(r.error().message, "GET /directory"));
  }
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  SECTION("not a directory") {
    cfg.directory = pebble.management_url() + "/no-such-path";
    cfg.ca_bundle = pebble.ca_bundle();
    auto r = sign_once(env, cfg, dir, csr.pem);
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK(contains(r.error().message, "not an ACME directory"));
  }
  SECTION("without caBundle the private server's TLS certificate does not verify") {
    cfg.directory = pebble.directory_url();
    cfg.ca_bundle.reset();  // the system store does not know Pebble's test CA
    auto r = sign_once(env, cfg, dir, csr.pem);
    REQUIRE(!r);
    INFO(r.error().message);
    CHECK(contains(r.error().message, "acme issuer " + pebble.directory_url()));
    CHECK(r.error().code == ErrorCode::kPermission);
  }
}

TEST_CASE("acme issuer: rateLimited carries its Retry-After, unprovable names are refused early",
          "[issuer][acme]") {
  MemoryEnv env;
  spec::AcmeIssuer cfg;
  cfg.directory = "https://ca.test/dir";
  cfg.email = "ops@example.test";
  cfg.http01_listen = "127.0.0.1:0";
  AcmeIssuerOptions o;
  o.state_dir = "/state/cluster";
  ScriptedTransport* last = nullptr;
  o.make_transport = [&last]() -> Result<std::unique_ptr<http::Transport>> {
    auto t = std::make_unique<ScriptedTransport>();
    t->handler = [](const http::Request& req) {
      http::Response r;
      if (req.method == "HEAD") {
        r.status = 200;
      } else if (req.target == "https://ca.test/account") {
        r.status = 200;
        r.body = R"({"status":"valid"})";
        r.headers.emplace_back("location", "https://ca.test/acct/1");
      } else {
        r.status = 429;
        r.body = R"({"type":"urn:ietf:params:acme:error:rateLimited",)"
                 R"("detail":"too many certificates for example.test","status":429})";
        r.headers.emplace_back("retry-after", "3600");
      }
      return r;
    };
    last = t.get();
    return std::unique_ptr<http::Transport>(std::move(t));
  };
  auto issuer = make_acme_issuer(env, cfg, o);

  auto wildcard =
      issuer->sign({"cluster", "edge1", node_csr("*.example.test", {"*.example.test"}).pem,
                    spec::Digest::kSha256});
  REQUIRE(!wildcard);
  CHECK(contains(wildcard.error().message, "wildcard"));
  CHECK(last == nullptr);  // nothing was sent

  auto r = issuer->sign({"cluster", "edge1", node_csr("a.example.test", {"a.example.test"}).pem,
                         spec::Digest::kSha256});
  REQUIRE(!r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(contains(r.error().message, "acme issuer https://ca.test/dir: cluster/edge1"));
  CHECK(contains(r.error().message, "rateLimited"));
  CHECK(contains(r.error().message, "retry after 3600 s"));
  CHECK(env.exists(acme_account_key_path("/state/cluster", "https://ca.test/dir")));
}
