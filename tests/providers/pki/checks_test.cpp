// Expressway checks on CA sets, server certificates, keys, CSRs and CRLs.
#include <catch2/catch.hpp>

#include <algorithm>

#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

std::vector<std::string> ids(const std::vector<Finding>& f) {
  std::vector<std::string> out;
  for (const Finding& x : f) out.push_back(x.id);
  return out;
}

const Finding* find(const std::vector<Finding>& f, const std::string& id) {
  for (const Finding& x : f)
    if (x.id == id) return &x;
  return nullptr;
}

ServerCheckOptions at_now() {
  ServerCheckOptions o;
  o.now = test_now();
  return o;
}

Certificate self_signed_ca(const std::string& cn, const std::string& serial) {
  PrivateKey k = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  return must(create_self_signed_ca(k, TestPki::ca_options(cn, serial, 365)));
}

}  // namespace

TEST_CASE("pki: check_ca_set accepts a clean set", "[pki]") {
  TestPki p;
  CHECK(check_ca_set({p.root, p.inter}, test_now()).empty());
  CHECK(check_ca_set({}, test_now()).empty());
}

TEST_CASE("pki: check_ca_set: no BasicConstraints CA:TRUE is an error, more than 1000 a warning",
          "[pki]") {
  TestPki p;
  TempDir dir;
  dir.write("plain.cnf", "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = Old CA\n");
  sh(dir,
     "openssl req -x509 -config plain.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
     "-keyout k.pem -out old.pem -days 3650");
  Certificate old = must(Certificate::parse_one(read_text(dir.file("old.pem")), "old.pem"));

  auto f = check_ca_set({p.root, old, p.leaf}, test_now());
  REQUIRE(ids(f) ==
          std::vector<std::string>{"ca-without-basic-constraints", "ca-without-basic-constraints"});
  CHECK(f[0].severity == Severity::kError);
  CHECK(f[0].index == std::optional<size_t>(1));
  CHECK(f[0].message.find("'Old CA'") != std::string::npos);
  CHECK(f[0].message.find("no BasicConstraints extension") != std::string::npos);
  CHECK(f[1].index == std::optional<size_t>(2));
  CHECK(f[1].message.find("CA:FALSE") != std::string::npos);

  std::vector<Certificate> many(kMaxTrustedCas, p.root);
  CHECK(find(check_ca_set(many, test_now()), "too-many-cas") == nullptr);
  many.push_back(p.inter);
  auto big = check_ca_set(many, test_now());
  const Finding* too_many = find(big, "too-many-cas");
  REQUIRE(too_many);
  CHECK(too_many->severity == Severity::kWarning);
  CHECK(too_many->message.find("1001") != std::string::npos);
}

TEST_CASE("pki: check_ca_set: expired and duplicate CN warn, a self-signed CN pair is an error",
          "[pki]") {
  TestPki p;
  auto expired = check_ca_set({p.root, p.inter}, p.inter.not_after() + kDay);
  REQUIRE(ids(expired) == std::vector<std::string>{"ca-expired"});
  CHECK(expired[0].severity == Severity::kWarning);
  CHECK(expired[0].index == std::optional<size_t>(1));

  // Two self-signed roots with one CN: Expressway trusts only one of them.
  Certificate a = self_signed_ca("Example Root", "0A");
  Certificate b = self_signed_ca("example root", "0B");
  auto pair = check_ca_set({a, p.root, b}, test_now());
  REQUIRE(ids(pair) == std::vector<std::string>{"self-signed-cn-pair"});
  CHECK(pair[0].severity == Severity::kError);
  CHECK(pair[0].index == std::optional<size_t>(2));
  CHECK(pair[0].message.find("#1 and #3") != std::string::npos);

  // A root and an intermediate sharing a CN: discouraged, not the pair case.
  PrivateKey k = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  Certificate same_cn_inter = must(create_intermediate_ca(
      k, TestPki::ca_options("Test Root CA", "33", 365), p.root, p.root_key));
  auto dup = check_ca_set({p.root, same_cn_inter}, test_now());
  REQUIRE(ids(dup) == std::vector<std::string>{"duplicate-ca-cn"});
  CHECK(dup[0].severity == Severity::kWarning);
}

TEST_CASE("pki: server certificate: a good one has no findings", "[pki]") {
  TestPki p;
  auto kf = must(inspect_private_key(must(p.leaf_key.to_pem()).view(), "leaf.key"));
  ServerCheckOptions o = at_now();
  o.key = &kf;
  o.chain = {p.inter, p.root};
  o.roles = RoleContext{{"mra"}, true};
  CHECK(check_server_certificate(p.leaf, o).empty());
}

TEST_CASE("pki: server certificate name errors", "[pki]") {
  TestPki p;
  SECTION("wildcard CN and SAN") {
    Certificate c = p.issue(p.leaf_key, {"*.example.com", "edge1.example.com"}, "2001");
    auto f = check_server_certificate(c, at_now());
    CHECK(ids(f) == std::vector<std::string>{"wildcard-name", "wildcard-name"});
    CHECK(f[0].severity == Severity::kError);
    CHECK(f[0].message.find("wildcard certificates are not supported") != std::string::npos);
  }
  SECTION("CN and SAN that are not FQDNs") {
    Certificate c = p.issue(p.leaf_key, {"edge1", "bad_name.example.com"}, "2002");
    auto f = check_server_certificate(c, at_now());
    REQUIRE(ids(f) ==
            std::vector<std::string>{"invalid-common-name", "invalid-san", "invalid-san"});
    CHECK(f[0].message.rfind("Common name must be a valid FQDN: ", 0) == 0);
    CHECK(f[0].message.find("'edge1'") != std::string::npos);
    CHECK(f[1].message.rfind("Subject alternative name must be a valid FQDN: ", 0) == 0);
    CHECK(f[2].message.find("bad_name.example.com") != std::string::npos);
  }
  SECTION("IP address SAN") {
    TempDir dir;
    sh(dir,
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem "
       "-out c.pem -days 365 -subj /CN=edge1.example.com "
       "-addext 'subjectAltName=DNS:edge1.example.com,IP:192.0.2.1' "
       "-addext 'extendedKeyUsage=serverAuth,clientAuth'");
    auto c = must(Certificate::parse_one(read_text(dir.file("c.pem")), "c.pem"));
    ServerCheckOptions o = at_now();
    o.now = c.not_before() + kDay;
    auto f = check_server_certificate(c, o);
    REQUIRE(ids(f) == std::vector<std::string>{"invalid-san"});
    CHECK(f[0].message.find("192.0.2.1") != std::string::npos);
  }
  SECTION("missing CN is a warning") {
    Certificate c = p.issue(p.leaf_key, {}, "2003");
    auto f = check_server_certificate(c, at_now());
    REQUIRE(ids(f) == std::vector<std::string>{"missing-common-name"});
    CHECK(f[0].severity == Severity::kWarning);
  }
}

TEST_CASE("pki: server certificate key errors and warnings", "[pki]") {
  TestPki p;
  ServerCheckOptions o = at_now();

  auto other = must(inspect_private_key(must(p.root_key.to_pem()).view(), "other.key"));
  o.key = &other;
  auto mismatch = check_server_certificate(p.leaf, o);
  REQUIRE(ids(mismatch) == std::vector<std::string>{"key-mismatch"});
  CHECK(mismatch[0].severity == Severity::kError);
  CHECK(mismatch[0].message.rfind("other.key: ", 0) == 0);

  KeyFile encrypted;
  encrypted.source = "enc.key";
  encrypted.encrypted = true;
  encrypted.pem = true;
  encrypted.trailing_newline = true;
  o.key = &encrypted;
  CHECK(ids(check_server_certificate(p.leaf, o)) ==
        std::vector<std::string>{"encrypted-private-key"});

  std::string pem = must(p.leaf_key.to_pem()).str();
  pem.pop_back();
  auto no_newline = must(inspect_private_key(pem, "leaf.key"));
  o.key = &no_newline;
  auto nl = check_server_certificate(p.leaf, o);
  REQUIRE(ids(nl) == std::vector<std::string>{"key-missing-trailing-newline"});
  CHECK(nl[0].severity == Severity::kWarning);
}

TEST_CASE("pki: server certificate chain and signature errors", "[pki]") {
  TestPki p;
  ServerCheckOptions o = at_now();
  o.chain = {p.inter, p.leaf};  // a non-CA in the chain
  auto f = check_server_certificate(p.leaf, o);
  REQUIRE(ids(f) == std::vector<std::string>{"ca-without-basic-constraints"});
  CHECK(f[0].index == std::optional<size_t>(1));

  TempDir dir;
  sh(dir,
     "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out sha1.pem -days 365 -sha1 "
     "-subj /CN=edge1.example.com -addext 'basicConstraints=CA:FALSE' "
     "-addext 'subjectAltName=DNS:edge1.example.com'");
  auto c = must(Certificate::parse_one(read_text(dir.file("sha1.pem")), "sha1.pem"));
  CHECK(c.signature_digest() == "sha1");
  ServerCheckOptions o2;
  o2.now = c.not_before() + kDay;
  auto s = check_server_certificate(c, o2);
  REQUIRE(ids(s) == std::vector<std::string>{"sha1-signature"});
  CHECK(s[0].severity == Severity::kError);
}

TEST_CASE("pki: server certificate warnings: RSA 8192, 2050, OIDs", "[pki]") {
  auto big = must(Certificate::parse_one(
      read_text(edgecert::testing::test_data("providers/pki/data/rsa8192-selfsigned.pem")),
      "rsa8192"));
  ServerCheckOptions o = at_now();
  auto f = check_server_certificate(big, o);
  CHECK(ids(f) == std::vector<std::string>{"rsa-8192", "expires-2050-or-later"});
  CHECK(big.key_info().bits == 8192);

  TestPki p;
  IssueOptions long_lived = TestPki::default_issue();
  long_lived.not_after = TimePoint(std::chrono::seconds(2524608000));  // 2050-01-01
  Certificate c2050 = p.issue(p.leaf_key, {"edge1.example.com"}, "3001", long_lived);
  auto f2050 = check_server_certificate(c2050, at_now());
  REQUIRE(ids(f2050) == std::vector<std::string>{"expires-2050-or-later"});
  long_lived.not_after -= std::chrono::seconds(1);  // 2049-12-31T23:59:59Z
  CHECK(check_server_certificate(p.issue(p.leaf_key, {"edge1.example.com"}, "3002", long_lived),
                                 at_now())
            .empty());

  TempDir dir;
  dir.write("oid.cnf",
            "oid_section = new_oids\n[new_oids]\ntestAttr = 1.2.3.4.5.6\n"
            "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n"
            "[dn]\nCN = odd.example.com\ntestAttr = hello\n"
            "[ext]\nbasicConstraints = CA:FALSE\nsubjectAltName = DNS:odd.example.com\n");
  sh(dir,
     "openssl req -x509 -config oid.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
     "-keyout k.pem -out odd.pem -days 365");
  auto odd = must(Certificate::parse_one(read_text(dir.file("odd.pem")), "odd.pem"));
  ServerCheckOptions oo;
  oo.now = odd.not_before() + kDay;
  auto fo = check_server_certificate(odd, oo);
  REQUIRE(ids(fo) == std::vector<std::string>{"unsupported-name-oid"});
  CHECK(fo[0].message.find("1.2.3.4.5.6") != std::string::npos);
  CHECK(fo[0].severity == Severity::kWarning);
}

TEST_CASE("pki: missing clientAuth warns when roles need mutual TLS", "[pki]") {
  TestPki p;
  IssueOptions o = TestPki::default_issue();
  o.extended_key_usage = {"serverAuth"};
  Certificate le = p.issue(p.leaf_key, {"edge1.example.com"}, "4001", o);
  ServerCheckOptions so = at_now();
  so.roles = RoleContext{{"mra", "b2b"}, false};
  auto f = check_server_certificate(le, so);
  REQUIRE(ids(f) == std::vector<std::string>{"missing-client-auth"});
  CHECK(f[0].severity == Severity::kWarning);
  CHECK(f[0].message.find("mra, b2b") != std::string::npos);
  CHECK(f[0].message.find("2026-02-11") != std::string::npos);
  CHECK(f[0].message.find("FN74362") != std::string::npos);
  // Nothing needs mutual TLS: a standalone node without roles.
  so.roles = RoleContext{{}, false};
  CHECK(check_server_certificate(le, so).empty());
  CHECK(needs_mutual_tls(RoleContext{{}, true}));
}

TEST_CASE("pki: expiry warnings use the renewal window", "[pki]") {
  TestPki p;  // leaf valid until test_now() + 90 days
  ServerCheckOptions o = at_now();
  CHECK(check_server_certificate(p.leaf, o).empty());
  o.now = p.leaf.not_after() - 10 * kDay;
  auto soon = check_server_certificate(p.leaf, o);
  REQUIRE(ids(soon) == std::vector<std::string>{"expiring-soon"});
  CHECK(soon[0].message.find("in 10 days") != std::string::npos);
  o.now = test_now();
  o.renew_at = renewal_time(p.leaf, std::nullopt, 0.01);
  CHECK(ids(check_server_certificate(p.leaf, o)) == std::vector<std::string>{"expiring-soon"});
  o.renew_at = renewal_time(p.leaf, std::chrono::hours(24 * 30), 2.0 / 3.0);
  CHECK(*o.renew_at == p.leaf.not_after() - 30 * kDay);
  CHECK(check_server_certificate(p.leaf, o).empty());
  o.now = p.leaf.not_after() + std::chrono::seconds(1);
  auto gone = check_server_certificate(p.leaf, o);
  REQUIRE(ids(gone) == std::vector<std::string>{"expired"});
  CHECK(gone[0].severity == Severity::kWarning);

  // 2/3 of a 91-day lifetime.
  TimePoint due = renewal_time(p.leaf, std::nullopt, 2.0 / 3.0);
  auto lifetime = p.leaf.not_after() - p.leaf.not_before();
  CHECK(std::chrono::abs(due - (p.leaf.not_before() + lifetime * 2 / 3)) < std::chrono::seconds(1));
}

TEST_CASE("pki: CSR, CRL and CA-certificate checks", "[pki]") {
  TestPki p;
  CsrOptions co;
  co.common_name = "*.example.com";
  co.dns_names = {"*.example.com", "edge1"};
  co.extended_key_usage = {"serverAuth"};
  auto csr = must(CertificateRequest::create(p.leaf_key, co));
  CHECK(ids(check_request(csr)) == std::vector<std::string>{"wildcard-name", "wildcard-name",
                                                            "invalid-san", "missing-client-auth"});

  CrlOptions cro;
  cro.last_update = test_now() - 2 * kDay;
  cro.next_update = test_now() - kDay;
  Crl stale = must(Crl::create(p.inter, p.inter_key, cro));
  CHECK(ids(check_crl(stale, test_now())) == std::vector<std::string>{"crl-stale"});
  CHECK(check_crl(stale, test_now() - 2 * kDay).empty());

  CHECK(check_ca_certificate(p.root, test_now()).empty());
  CHECK(ids(check_ca_certificate(p.leaf, p.leaf.not_after() + kDay)) ==
        std::vector<std::string>{"ca-without-basic-constraints", "ca-expired"});
}
