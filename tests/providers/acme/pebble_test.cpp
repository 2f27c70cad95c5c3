// AcmeClient against a real Pebble on loopback.
#include <httplib.h>

#include <chrono>
#include <thread>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/acme/acme_client.h"
#include "providers/pki/csr.h"
#include "providers/pki/jws.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::acme;
using namespace edgecert::testing;

namespace {

pki::PrivateKey ec_key() {
  auto k = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(k);
  return std::move(*k);
}

std::unique_ptr<http::Transport> transport_for(const PebbleProcess& p) {
  http::ClientOptions o = acme_client_options();
  o.ca_bundle = p.ca_bundle();
  auto t = http::make_curl_transport(std::move(o), default_env());
  REQUIRE(t);
  return std::move(*t);
}

AcmeClientOptions options_for(const PebbleProcess& p) {
  AcmeClientOptions o;
  o.directory_url = p.directory_url();
  o.poll_timeout = std::chrono::seconds(20);
  return o;
}

struct Issued {
  CertificateChain chain;
  pki::Certificate leaf;
  pki::PrivateKey key;
};

Issued issue(AcmeClient& c, const std::vector<std::string>& names, Http01Responder& responder) {
  auto key = ec_key();
  pki::CsrOptions so;
  so.common_name = names.front();
  so.dns_names = names;
  auto csr = pki::CertificateRequest::create(key, so);
  REQUIRE(csr);
  auto chain = c.issue(names, *csr, responder);
  INFO((chain ? std::string() : chain.error().message));
  REQUIRE(chain);
  auto certs = pki::Certificate::parse_all(chain->pem, "chain");
  REQUIRE(certs);
  REQUIRE(certs->size() >= 2);
  CHECK(key.matches(certs->front()));
  return Issued{*chain, certs->front(), std::move(key)};
}

std::string names_of(const pki::Certificate& c) {
  std::string out;
  for (const auto& n : c.subject_alt_names().dns) out += n + " ";
  return out;
}

}  // namespace

TEST_CASE("Pebble: account, issuance, alternate chains, account key stored 0600",
          "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleOptions po;
  po.alternate_roots = 1;
  PebbleProcess pebble(po);
  auto t = transport_for(pebble);
  Env& env = default_env();
  TempDir dir;

  auto account_key = load_or_create_account_key(env, dir.file("acme/account.key"));
  REQUIRE(account_key);
  CHECK(*env.file_mode(dir.file("acme/account.key")) == 0600);

  AcmeClient c(env, *t, options_for(pebble), std::move(*account_key));
  auto dirv = c.directory();
  REQUIRE(dirv);
  CHECK(dirv->renewal_info.empty());
  auto acct = c.new_account({{"ops@example.test"}, true, nullptr});
  INFO((acct ? std::string() : acct.error().message));
  REQUIRE(acct);
  CHECK(acct->status == "valid");

  // A second client with the stored key finds the same account.
  auto reloaded = load_or_create_account_key(env, dir.file("acme/account.key"));
  REQUIRE(reloaded);
  AcmeClient c2(env, *t, options_for(pebble), std::move(*reloaded));
  auto found = c2.find_account();
  REQUIRE(found);
  CHECK(found->url == acct->url);
  // An unknown key has none.
  AcmeClient c3(env, *t, options_for(pebble), ec_key());
  auto none = c3.find_account();
  REQUIRE(!none);
  CHECK(none.error().code == ErrorCode::kNotFound);

  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);
  auto t0 = std::chrono::steady_clock::now();
  Issued got = issue(c, {"a.example.test", "b.example.test"}, **responder);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  WARN("Pebble issuance (2 names, ALWAYS_VALID) took " << ms.count() << " ms");
  CHECK(names_of(got.leaf) == "a.example.test b.example.test ");
  CHECK(got.leaf.not_after() - got.leaf.not_before() >= std::chrono::hours(24 * 89));
  // Without ARI: two thirds of the lifetime.
  auto when = c.renewal_time(got.leaf);
  REQUIRE(when);
  CHECK(*when == got.leaf.not_before() + (got.leaf.not_after() - got.leaf.not_before()) * 2 / 3);

  // Alternate chains through Link rel="alternate".
  auto order = c.new_order({"c.example.test"});
  REQUIRE(order);
  auto k = ec_key();
  pki::CsrOptions so;
  so.common_name = "c.example.test";
  so.dns_names = {"c.example.test"};
  auto csr = pki::CertificateRequest::create(k, so);
  REQUIRE(csr);
  REQUIRE(c.authorize_http01(*order, **responder));
  auto done = c.finalize(*order, csr->to_der());
  REQUIRE(done);
  auto chain = c.download_certificate(done->certificate, true);
  REQUIRE(chain);
  CHECK(chain->alternates.size() == 1);
  CHECK(chain->alternates[0] != chain->pem);
}

TEST_CASE("Pebble: real http-01 validation through the standalone listener", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleOptions po;
  po.always_valid = false;
  PebbleProcess pebble(po);
  auto t = transport_for(pebble);
  auto responder = StandaloneHttp01::start("127.0.0.1:" + std::to_string(pebble.http_port()));
  REQUIRE(responder);
  AcmeClient c(default_env(), *t, options_for(pebble), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  Issued got = issue(c, {"localhost"}, **responder);
  CHECK(names_of(got.leaf) == "localhost ");
  CHECK((*responder)->served() >= 1);  // Pebble's VA really fetched the token

  // A name that does not resolve here fails validation with a named error.
  auto key = ec_key();
  pki::CsrOptions so;
  so.common_name = "nowhere.invalid";
  so.dns_names = {"nowhere.invalid"};
  auto csr = pki::CertificateRequest::create(key, so);
  REQUIRE(csr);
  auto bad = c.issue({"nowhere.invalid"}, *csr, **responder);
  REQUIRE(!bad);
  INFO(bad.error().message);
  CHECK(bad.error().message.find("nowhere.invalid") != std::string::npos);
}

TEST_CASE("Pebble: real http-01 through a webroot served by another web server", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleOptions po;
  po.always_valid = false;
  PebbleProcess pebble(po);
  auto t = transport_for(pebble);
  TempDir www;
  // Stands in for the site's web server: serves the folder, nothing else.
  httplib::Server server;
  REQUIRE(server.set_mount_point("/", www.path()));
  REQUIRE(server.bind_to_port("127.0.0.1", pebble.http_port()));
  std::thread th([&] { server.listen_after_bind(); });
  WebrootHttp01 webroot(default_env(), www.path());
  AcmeClient c(default_env(), *t, options_for(pebble), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  issue(c, {"localhost"}, webroot);
  server.stop();
  th.join();
  // Files removed afterwards.
  auto left = default_env().list_dir(www.file(".well-known/acme-challenge"));
  REQUIRE(left);
  CHECK(left->empty());
}

TEST_CASE("Pebble: external account binding required", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  const std::string hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  PebbleOptions po;
  po.eab_keys["kid-1"] = hmac;
  PebbleProcess pebble(po);
  auto t = transport_for(pebble);
  Env& env = default_env();

  AcmeClient plain(env, *t, options_for(pebble), ec_key());
  REQUIRE(plain.directory()->external_account_required);
  CHECK(!plain.new_account({{}, true, nullptr}));

  auto raw_key = pki::base64url_decode(hmac);
  REQUIRE(raw_key);
  ExternalAccountBinding wrong{"kid-1", pki::SecretString("not-the-key")};
  AcmeClient bad(env, *t, options_for(pebble), ec_key());
  auto b = bad.new_account({{}, true, &wrong});
  REQUIRE(!b);
  INFO(b.error().message);
  CHECK(b.error().message.find("not-the-key") == std::string::npos);
  CHECK(b.error().message.find(hmac) == std::string::npos);

  ExternalAccountBinding eab{"kid-1", pki::SecretString(*raw_key)};
  AcmeClient c(env, *t, options_for(pebble), ec_key());
  auto a = c.new_account({{"ops@example.test"}, true, &eab});
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);
  issue(c, {"eab.example.test"}, **responder);
}

TEST_CASE("Pebble: revoke with the account key and with the certificate key", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  auto t = transport_for(pebble);
  AcmeClient c(default_env(), *t, options_for(pebble), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);

  Issued one = issue(c, {"r1.example.test"}, **responder);
  CHECK(pebble.cert_status(one.leaf).find("Valid") != std::string::npos);
  auto s = c.revoke(one.leaf, RevocationReason::kSuperseded);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  std::string st = pebble.cert_status(one.leaf);
  CHECK(st.find("Revoked") != std::string::npos);
  CHECK(st.find("\"Reason\": 4") != std::string::npos);
  auto again = c.revoke(one.leaf, RevocationReason::kSuperseded);
  REQUIRE(!again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);

  Issued two = issue(c, {"r2.example.test"}, **responder);
  AcmeClient anon(default_env(), *t, options_for(pebble), ec_key());  // no account at all
  auto s2 = anon.revoke(two.leaf, RevocationReason::kKeyCompromise, &two.key);
  INFO((s2 ? std::string() : s2.error().message));
  REQUIRE(s2);
  std::string st2 = pebble.cert_status(two.leaf);
  CHECK(st2.find("Revoked") != std::string::npos);
  CHECK(st2.find("\"Reason\": 1") != std::string::npos);
}

TEST_CASE("Pebble: key rollover, then the new key works and the old one does not",
          "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  auto t = transport_for(pebble);
  Env& env = default_env();
  TempDir dir;
  auto old_key = ec_key();
  REQUIRE(pki::write_private_key(env, dir.file("old.key"), old_key));
  AcmeClient c(env, *t, options_for(pebble), std::move(old_key));
  auto acct = c.new_account({{}, true, nullptr});
  REQUIRE(acct);

  auto new_key = ec_key();
  REQUIRE(pki::write_private_key(env, dir.file("new.key"), new_key));
  auto s = c.change_key(std::move(new_key));
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);
  issue(c, {"rollover.example.test"}, **responder);

  auto nk = pki::PrivateKey::parse(*env.read_file(dir.file("new.key"), kTestRead), "new.key");
  AcmeClient with_new(env, *t, options_for(pebble), std::move(*nk));
  auto f = with_new.find_account();
  REQUIRE(f);
  CHECK(f->url == acct->url);
  auto ok = pki::PrivateKey::parse(*env.read_file(dir.file("old.key"), kTestRead), "old.key");
  AcmeClient with_old(env, *t, options_for(pebble), std::move(*ok));
  auto g = with_old.find_account();
  REQUIRE(!g);
  CHECK(g.error().code == ErrorCode::kNotFound);
}

TEST_CASE("Pebble: 50% nonce rejection, 10 of 10 issuances succeed", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleOptions po;
  po.nonce_reject_percent = 50;
  PebbleProcess pebble(po);
  auto t = transport_for(pebble);
  // At 50% every attempt fails with p = 1/2: the default bound (20 retries)
  // makes exhausting it on one of this test's ~150 POSTs a ~1e-4 event.
  AcmeClientOptions o = options_for(pebble);
  AcmeClient c(default_env(), *t, o, ec_key());
  auto a = c.new_account({{}, true, nullptr});
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);
  auto t0 = std::chrono::steady_clock::now();
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    issue(c, {fmt::format("n{}.example.test", i), fmt::format("m{}.example.test", i)}, **responder);
    ++ok;
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  CHECK(ok == 10);
  CHECK(c.bad_nonce_retries() > 0);
  WARN("10 issuances at 50% nonce rejection: " << ms.count() << " ms, " << c.bad_nonce_retries()
                                               << " badNonce retries, " << c.new_nonce_requests()
                                               << " newNonce requests");
}

TEST_CASE("Pebble: one order with 20 names", "[acme][pebble]") {
  if (!can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  auto t = transport_for(pebble);
  AcmeClient c(default_env(), *t, options_for(pebble), ec_key());
  REQUIRE(c.new_account({{}, true, nullptr}));
  auto responder = StandaloneHttp01::start("127.0.0.1:0");
  REQUIRE(responder);
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back(fmt::format("host{:02}.example.test", i));
  Issued got = issue(c, names, **responder);
  CHECK(got.leaf.subject_alt_names().dns.size() == 20);
}
