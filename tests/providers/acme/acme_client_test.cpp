// AcmeClient against a scripted fake transport: nonce handling, problem
// mapping, Retry-After, ARI (Pebble 2.4 has no renewalInfo).
#include "providers/acme/acme_client.h"
#include "tests/support/test_support.h"

#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/pki/jws.h"
#include "providers/pki/signer.h"

using namespace edgecert;
using namespace edgecert::acme;
using json = nlohmann::json;

namespace {

constexpr const char* kBase = "https://ca.test/acme";

// A fake server: the directory and newNonce built in, every other URL routed
// to `handler`. Every response carries a fresh Replay-Nonce.
class FakeTransport : public http::Transport {
 public:
  bool ari = false;
  std::function<http::Response(const http::Request&, const json& payload)> handler;
  int heads = 0;

  Result<http::Response> perform(const http::Request& req) override {
    http::Response r;
    if (req.target == std::string(kBase) + "/dir") {
      json d = {{"newNonce", std::string(kBase) + "/new-nonce"},
                {"newAccount", std::string(kBase) + "/new-acct"},
                {"newOrder", std::string(kBase) + "/new-order"},
                {"revokeCert", std::string(kBase) + "/revoke"},
                {"keyChange", std::string(kBase) + "/key-change"}};
      if (ari) d["renewalInfo"] = std::string(kBase) + "/renewal-info";
      r.status = 200;
      r.body = d.dump();
      return r;
    }
    r.headers.emplace_back("replay-nonce", "n" + std::to_string(++counter_));
    if (req.method == "HEAD") {
      ++heads;
      r.status = 200;
      return r;
    }
    json payload;
    if (req.method == "POST") {
      auto body = json::parse(req.body);
      auto p = pki::base64url_decode(body["payload"].get<std::string>());
      if (p && !p->empty()) payload = json::parse(*p);
    }
    http::Response h = handler(req, payload);
    h.headers.insert(h.headers.end(), r.headers.begin(), r.headers.end());
    return h;
  }

 private:
  int counter_ = 0;
};

http::Response problem(long status, const std::string& type, const std::string& detail,
                       json extra = json::object()) {
  http::Response r;
  r.status = status;
  json j = {{"type", "urn:ietf:params:acme:error:" + type}, {"detail", detail}, {"status", status}};
  j.update(extra);
  r.body = j.dump();
  r.headers.emplace_back("content-type", "application/problem+json");
  return r;
}

http::Response created(const std::string& location, json body) {
  http::Response r;
  r.status = 201;
  r.body = body.dump();
  r.headers.emplace_back("location", location);
  return r;
}

pki::PrivateKey ec_key() {
  auto k = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(k);
  return std::move(*k);
}

AcmeClientOptions options() {
  AcmeClientOptions o;
  o.directory_url = std::string(kBase) + "/dir";
  return o;
}

// A 90-day leaf with AKI signed by a throw-away CA.
pki::Certificate leaf(TimePoint nb) {
  auto ca_key = ec_key();
  pki::CaOptions co;
  co.common_name = "Fake CA";
  co.not_before = nb - std::chrono::hours(24);
  co.not_after = nb + std::chrono::hours(24 * 400);
  auto ca = pki::create_self_signed_ca(ca_key, co);
  REQUIRE(ca);
  auto k = ec_key();
  pki::CsrOptions so;
  so.common_name = "a.example";
  so.dns_names = {"a.example"};
  auto csr = pki::CertificateRequest::create(k, so);
  REQUIRE(csr);
  pki::IssueOptions io;
  io.not_before = nb;
  io.not_after = nb + std::chrono::hours(24 * 90);
  io.serial_hex = "87654321";
  auto c = pki::sign_csr(*csr, *ca, ca_key, io);
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("badNonce is retried with the nonce the rejection carried", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  int rejections = 0;
  t.handler = [&](const http::Request&, const json&) {
    if (rejections < 3) {
      ++rejections;
      return problem(400, "badNonce", "JWS has an invalid anti-replay nonce");
    }
    return created(std::string(kBase) + "/acct/1", {{"status", "valid"}});
  };
  AcmeClient c(env, t, options(), ec_key());
  auto a = c.new_account({{"ops@example.test"}, true, nullptr});
  REQUIRE(a);
  CHECK(a->url == std::string(kBase) + "/acct/1");
  CHECK(c.account_url() == a->url);
  CHECK(c.bad_nonce_retries() == 3);
  CHECK(t.heads == 1);  // the pool was refilled by each rejection
}

TEST_CASE("badNonce retries are bounded", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  int posts = 0;
  t.handler = [&](const http::Request&, const json&) {
    ++posts;
    return problem(400, "badNonce", "no");
  };
  AcmeClient c(env, t, options(), ec_key());
  auto a = c.new_account({{}, true, nullptr});
  REQUIRE(!a);
  CHECK(posts == AcmeClientOptions{}.max_bad_nonce_retries + 1);
  CHECK(a.error().code == ErrorCode::kUnavailable);
  CHECK(a.error().message.find("/acme/new-acct") != std::string::npos);
  CHECK(a.error().message.find("badNonce") != std::string::npos);
}

TEST_CASE("rateLimited is not retried and reports Retry-After", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  int posts = 0;
  t.handler = [&](const http::Request& req, const json&) {
    ++posts;
    if (req.target.ends_with("/new-acct"))
      return created(std::string(kBase) + "/acct/1", json::object());
    auto r = problem(429, "rateLimited", "too many new orders");
    r.headers.emplace_back("retry-after", "120");
    return r;
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  auto o = c.new_order({"a.example", "b.example"});
  REQUIRE(!o);
  CHECK(posts == 2);
  CHECK(o.error().code == ErrorCode::kUnavailable);
  CHECK(o.error().message.find("a.example, b.example") != std::string::npos);
  REQUIRE(c.last_problem());
  CHECK(c.last_problem()->kind == ProblemKind::kRateLimited);
  CHECK(c.last_problem()->retry_after == std::chrono::seconds(120));
}

TEST_CASE("problem subproblems name their identifiers", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  t.handler = [&](const http::Request& req, const json&) {
    if (req.target.ends_with("/new-acct"))
      return created(std::string(kBase) + "/acct/1", json::object());
    json sub = json::array({{{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                             {"detail", "policy forbids"},
                             {"identifier", {{"type", "dns"}, {"value", "bad.example"}}}}});
    return problem(400, "rejectedIdentifier", "some names rejected", {{"subproblems", sub}});
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  auto o = c.new_order({"ok.example", "bad.example"});
  REQUIRE(!o);
  CHECK(o.error().code == ErrorCode::kInvalidArgument);
  CHECK(o.error().message.find("[dns:bad.example] rejectedIdentifier: policy forbids") !=
        std::string::npos);
  REQUIRE(c.last_problem()->subproblems.size() == 1);
  CHECK(c.last_problem()->subproblems[0].identifier == "dns:bad.example");
}

TEST_CASE("problem kinds map to error codes", "[acme]") {
  CHECK(problem_kind("urn:ietf:params:acme:error:badNonce") == ProblemKind::kBadNonce);
  CHECK(problem_kind("urn:ietf:params:acme:error:unauthorized") == ProblemKind::kUnauthorized);
  CHECK(problem_kind("urn:ietf:params:acme:error:serverInternal") == ProblemKind::kServerInternal);
  CHECK(problem_kind("urn:ietf:params:acme:error:malformed") == ProblemKind::kMalformed);
  CHECK(problem_kind("about:blank") == ProblemKind::kOther);
}

TEST_CASE("EAB key never appears in requests' errors, EAB JWS is HS256 over the JWK", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  json seen;
  t.handler = [&](const http::Request&, const json& payload) {
    seen = payload;
    return problem(401, "unauthorized", "bad EAB");
  };
  auto key = ec_key();
  std::string jwk = *pki::jwk_json(key);
  AcmeClient c(env, t, options(), std::move(key));
  ExternalAccountBinding eab{"kid-1", pki::SecretString("super-secret-hmac-key")};
  auto a = c.new_account({{}, true, &eab});
  REQUIRE(!a);
  CHECK(a.error().code == ErrorCode::kPermission);
  CHECK(a.error().message.find("super-secret") == std::string::npos);
  auto b = seen["externalAccountBinding"];
  auto prot = json::parse(*pki::base64url_decode(b["protected"].get<std::string>()));
  CHECK(prot["alg"] == "HS256");
  CHECK(prot["kid"] == "kid-1");
  CHECK(prot["url"] == std::string(kBase) + "/new-acct");
  CHECK(*pki::base64url_decode(b["payload"].get<std::string>()) == jwk);
  auto mac = pki::hmac_sha256(
      eab.hmac_key, b["protected"].get<std::string>() + "." + b["payload"].get<std::string>());
  CHECK(b["signature"] == pki::base64url_encode(*mac));
}

TEST_CASE("finalize polls processing honouring Retry-After through Env", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  int polls = 0;
  const std::string order_url = std::string(kBase) + "/order/1";
  t.handler = [&](const http::Request& req, const json&) {
    if (req.target.ends_with("/new-acct"))
      return created(std::string(kBase) + "/acct/1", json::object());
    json o = {{"status", "processing"},
              {"identifiers", {{{"type", "dns"}, {"value", "a.example"}}}},
              {"finalize", std::string(kBase) + "/finalize/1"}};
    http::Response r;
    r.status = 200;
    if (req.target == order_url && ++polls >= 3) {
      o["status"] = "valid";
      o["certificate"] = std::string(kBase) + "/cert/1";
    }
    r.body = o.dump();
    r.headers.emplace_back("retry-after", "2");
    return r;
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  Order o;
  o.url = order_url;
  o.status = "ready";
  o.finalize = std::string(kBase) + "/finalize/1";
  o.identifiers = {"a.example"};
  TimePoint t0 = env.now();
  auto done = c.finalize(o, "DER");
  REQUIRE(done);
  CHECK(done->certificate == std::string(kBase) + "/cert/1");
  CHECK(polls == 3);
  CHECK(env.now() - t0 == std::chrono::seconds(6));  // three Retry-After: 2 waits
}

TEST_CASE("authorization and challenge already valid are not re-posted", "[acme]") {
  MemoryEnv env;
  FakeTransport t;
  std::vector<std::string> posted;
  t.handler = [&](const http::Request& req, const json& payload) {
    posted.push_back(req.target);
    if (req.target.ends_with("/new-acct"))
      return created(std::string(kBase) + "/acct/1", json::object());
    http::Response r;
    r.status = 200;
    if (req.target.ends_with("/authz/1")) {  // valid, challenges list empty
      r.body = json({{"status", "valid"},
                     {"identifier", {{"type", "dns"}, {"value", "a.example"}}},
                     {"challenges", json::array()}})
                   .dump();
    } else if (req.target.ends_with("/authz/2")) {  // pending, but the challenge is valid
      r.body = json({{"status", posted.size() > 3 ? "valid" : "pending"},
                     {"identifier", {{"type", "dns"}, {"value", "b.example"}}},
                     {"challenges",
                      {{{"type", "http-01"},
                        {"url", std::string(kBase) + "/chall/2"},
                        {"status", "valid"},
                        {"token", "tok2"}}}}})
                   .dump();
    } else {
      r = problem(404, "malformed", "unexpected " + req.target);
    }
    (void)payload;
    return r;
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  WebrootHttp01 webroot(env, "/srv/www");
  Order o;
  o.authorizations = {std::string(kBase) + "/authz/1", std::string(kBase) + "/authz/2"};
  auto s = c.authorize_http01(o, webroot);
  REQUIRE(s);
  for (const auto& u : posted) CHECK(u.find("/chall/") == std::string::npos);
}

TEST_CASE("webroot responder writes and removes the key authorization", "[acme]") {
  MemoryEnv env;
  WebrootHttp01 w(env, "/srv/www");
  REQUIRE(w.present("a.example", "tok_-1", "tok_-1.thumb"));
  CHECK(*env.read_file("/srv/www/.well-known/acme-challenge/tok_-1", kTestRead) == "tok_-1.thumb");
  REQUIRE(w.cleanup("a.example", "tok_-1"));
  CHECK(!env.exists("/srv/www/.well-known/acme-challenge/tok_-1"));
  CHECK(!w.present("a.example", "../etc/passwd", "x"));
}

TEST_CASE("ARI: random time inside suggestedWindow, replaces only with renewalInfo", "[acme]") {
  MemoryEnv env;
  TimePoint nb = env.now();
  auto cert = leaf(nb);
  auto id = ari_cert_id(cert);
  REQUIRE(id);
  CHECK(id->ends_with(".AIdlQyE"));  // serial 0x87654321 needs a leading zero byte

  for (bool ari : {true, false}) {
    FakeTransport t;
    t.ari = ari;
    json order_payload;
    t.handler = [&](const http::Request& req, const json& payload) {
      if (req.target.ends_with("/new-acct"))
        return created(std::string(kBase) + "/acct/1", json::object());
      if (req.method == "GET") {
        CHECK(req.target == std::string(kBase) + "/renewal-info/" + *id);
        http::Response r;
        r.status = 200;
        r.body =
            R"({"suggestedWindow":{"start":"2027-01-10T00:00:00Z","end":"2027-01-12T00:00:00.5Z"}})";
        return r;
      }
      order_payload = payload;
      return created(std::string(kBase) + "/order/9",
                     {{"status", "pending"}, {"identifiers", json::array()}});
    };
    AcmeClient c(env, t, options(), ec_key());
    c.seed(42);
    REQUIRE(c.new_account({{}, true, nullptr}));
    auto when = c.renewal_time(cert);
    REQUIRE(when);
    REQUIRE(c.new_order({"a.example"}, *id));
    if (ari) {
      auto start = Clock::from_time_t(1799539200);  // 2027-01-10T00:00:00Z
      CHECK(*when >= start);
      CHECK(*when <= start + std::chrono::hours(48));
      CHECK(order_payload["replaces"] == *id);
    } else {
      auto two_thirds = nb + (cert.not_after() - cert.not_before()) * 2 / 3;
      CHECK(*when == two_thirds);
      CHECK(!order_payload.contains("replaces"));
    }
  }
}

TEST_CASE("a Location header that is not UTF-8 is refused, naming the header", "[acme][utf8]") {
  MemoryEnv env;
  FakeTransport t;
  t.handler = [&](const http::Request&, const json&) {
    return created(std::string(kBase) + "/acct/\xFF\xFE", {{"status", "valid"}});
  };
  AcmeClient c(env, t, options(), ec_key());
  auto a = c.new_account({{"ops@example.test"}, true, nullptr});
  REQUIRE_FALSE(a);
  CHECK(a.error().code == ErrorCode::kCorrupt);
  CHECK(a.error().message.find("ACME POST /acme/new-acct (newAccount): the server's Location "
                               "header is not valid UTF-8 (byte 0xFF at offset 26)") !=
        std::string::npos);
  CHECK(c.account_url().empty());  // nothing of it was kept
}

TEST_CASE("a Replay-Nonce that is not base64url is ignored (RFC 8555 6.5.1)", "[acme][utf8]") {
  MemoryEnv env;
  FakeTransport t;
  std::vector<std::string> nonces_sent;
  t.handler = [&](const http::Request& req, const json&) {
    auto body = json::parse(req.body);
    auto prot = pki::base64url_decode(body["protected"].get<std::string>());
    REQUIRE(prot);
    nonces_sent.push_back(json::parse(*prot)["nonce"].get<std::string>());
    auto r = created(std::string(kBase) + "/acct/1", {{"status", "valid"}});
    r.headers.emplace_back("replay-nonce", "bad\xFFnonce");  // first: what header() sees
    return r;
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  REQUIRE(c.find_account());
  CHECK(t.heads == 2);  // the bad nonce never entered the pool: newNonce again
  for (const auto& n : nonces_sent) CHECK(n.find('\xFF') == std::string::npos);
}

TEST_CASE("a Link to an alternate chain that is not UTF-8 is refused", "[acme][utf8]") {
  MemoryEnv env;
  FakeTransport t;
  auto cert = leaf(env.now());
  t.handler = [&](const http::Request& req, const json&) {
    if (req.target == std::string(kBase) + "/new-acct")
      return created(std::string(kBase) + "/acct/1", {{"status", "valid"}});
    http::Response r;
    r.status = 200;
    r.body = cert.to_pem();
    r.headers.emplace_back("link", "<https://ca.test/acme/cert/1/\xC0\xAF>;rel=\"alternate\"");
    return r;
  };
  AcmeClient c(env, t, options(), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  auto chain = c.download_certificate(std::string(kBase) + "/cert/1", true);
  REQUIRE_FALSE(chain);
  CHECK(chain.error().message.find("the server's Link header is not valid UTF-8") !=
        std::string::npos);
}
