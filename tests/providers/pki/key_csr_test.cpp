// Keys (generation, parsing, encrypted detection, 0600 writes), CSR creation
// as an Expressway makes it, and signing.
#include <catch2/catch.hpp>

#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

TEST_CASE("pki: key generation for every supported EC size and RSA 2048", "[pki]") {
  struct Case {
    pki::KeyAlgorithm alg;
    int size;
    const char* algorithm;
    int bits;
    const char* curve;
  };
  for (const Case& c : {Case{pki::KeyAlgorithm::kEcdsa, 256, "EC", 256, "P-256"},
                        Case{pki::KeyAlgorithm::kEcdsa, 384, "EC", 384, "P-384"},
                        Case{pki::KeyAlgorithm::kEcdsa, 521, "EC", 521, "P-521"},
                        Case{pki::KeyAlgorithm::kRsa, 2048, "RSA", 2048, ""}}) {
    INFO(c.algorithm << " " << c.size);
    PrivateKey k = must(PrivateKey::generate(c.alg, c.size));
    KeyInfo info = k.info();
    CHECK(info.algorithm == c.algorithm);
    CHECK(info.bits == c.bits);
    CHECK(info.curve == c.curve);
    SecretString pem = must(k.to_pem());
    CHECK(pem.view().rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
    CHECK(pem.view().back() == '\n');
    PrivateKey back = must(PrivateKey::parse(pem.view(), "key.pem"));
    CHECK(back.info().bits == c.bits);
  }
  CHECK_FALSE(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 300));
  CHECK_FALSE(PrivateKey::generate(pki::KeyAlgorithm::kRsa, 1024));
}

TEST_CASE("pki: SecretString is wiped when moved from", "[pki]") {
  SecretString a("-----BEGIN PRIVATE KEY-----\nsecret\n");
  SecretString b(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  CHECK(b.view().find("secret") != std::string_view::npos);
  SecretString c;
  c = std::move(b);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(c.size() == 35);
}

TEST_CASE("pki: CSR as an Expressway generates it, openssl verifies it", "[pki]") {
  PrivateKey key = must(PrivateKey::generate(pki::KeyAlgorithm::kRsa, 2048));
  CsrOptions o;
  o.common_name = "cluster.example.com";
  o.subject = {"GB", "England", "London", "Example Ltd", "Collaboration", ""};
  o.dns_names = {"cluster.example.com", "edge1.example.com", "collab-edge.example.com"};
  o.digest = pki::Digest::kSha384;
  CertificateRequest csr = must(CertificateRequest::create(key, o));
  CHECK(csr.signature_valid());
  CHECK(key.matches(csr));
  CHECK(csr.subject() ==
        "CN=cluster.example.com,OU=Collaboration,O=Example Ltd,L=London,ST=England,C=GB");
  CHECK(csr.subject_alt_names().dns == o.dns_names);
  CHECK(csr.extended_key_usage() == std::vector<std::string>{"serverAuth", "clientAuth"});
  CHECK(csr.key_usage() == std::vector<std::string>{"digitalSignature", "keyEncipherment"});
  CHECK(csr.signature_digest() == "sha384");
  CHECK(csr.key_info().bits == 2048);

  TempDir dir;
  dir.write("csr.pem", csr.to_pem());
  std::string text = sh(dir, "openssl req -in csr.pem -noout -verify -text");
  CHECK(text.find("TLS Web Server Authentication, TLS Web Client Authentication") !=
        std::string::npos);
  CHECK(text.find("DNS:cluster.example.com, DNS:edge1.example.com, "
                  "DNS:collab-edge.example.com") != std::string::npos);
  CHECK(text.find("sha384WithRSAEncryption") != std::string::npos);

  // PEM and DER parse back to the same request.
  auto pem = must(CertificateRequest::parse(csr.to_pem(), "csr.pem"));
  auto der = must(CertificateRequest::parse(csr.to_der(), "csr.der"));
  CHECK(pem.to_der() == csr.to_der());
  CHECK(der.to_der() == csr.to_der());
  auto bad = CertificateRequest::parse("garbage", "bad.csr");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.rfind("bad.csr: block 0: not a certificate request", 0) == 0);
}

TEST_CASE("pki: sign_csr issues the Expressway server profile", "[pki]") {
  TestPki p;
  const Certificate& leaf = p.leaf;
  CHECK(leaf.subject_cn() == "edge1.example.com");
  CHECK(leaf.issuer() == p.inter.subject());
  CHECK(leaf.serial_hex() == "1001");
  CHECK(leaf.subject_alt_names().dns ==
        std::vector<std::string>{"edge1.example.com", "cluster.example.com"});
  CHECK(leaf.extended_key_usage() == std::vector<std::string>{"serverAuth", "clientAuth"});
  CHECK(leaf.has_basic_constraints());
  CHECK_FALSE(leaf.is_ca());
  CHECK(leaf.key_usage() == std::vector<std::string>{"digitalSignature"});
  CHECK(leaf.authority_key_id() == p.inter.subject_key_id());
  CHECK_FALSE(leaf.subject_key_id().empty());
  CHECK(p.leaf_key.matches(leaf));
  CHECK(leaf.is_signed_by(p.inter));
  CHECK_FALSE(leaf.is_self_signed());

  CHECK(p.root.is_ca());
  CHECK(p.root.is_self_signed());
  CHECK(p.root.key_usage() == std::vector<std::string>{"keyCertSign", "cRLSign"});
  CHECK(p.root.authority_key_id() == p.root.subject_key_id());
  CHECK(p.inter.authority_key_id() == p.root.subject_key_id());

  // openssl sees the same extensions.
  TempDir dir;
  dir.write("leaf.pem", leaf.to_pem());
  std::string text = sh(dir, "openssl x509 -in leaf.pem -noout -text");
  CHECK(text.find("CA:FALSE") != std::string::npos);
  CHECK(text.find("TLS Web Server Authentication, TLS Web Client Authentication") !=
        std::string::npos);

  // A serverAuth-only certificate (what Let's Encrypt issues since 2026-02-11).
  IssueOptions o = TestPki::default_issue();
  o.extended_key_usage = {"serverAuth"};
  o.crl_distribution_points = {"http://crl.example.com/issuing.crl"};
  o.ocsp_url = "http://ocsp.example.com";
  Certificate le = p.issue(p.leaf_key, {"edge1.example.com"}, "1002", o);
  CHECK(le.extended_key_usage() == std::vector<std::string>{"serverAuth"});
  CHECK(le.crl_distribution_points() ==
        std::vector<std::string>{"http://crl.example.com/issuing.crl"});
  CHECK(le.ocsp_urls() == std::vector<std::string>{"http://ocsp.example.com"});

  IssueOptions backwards = TestPki::default_issue();
  backwards.not_after = backwards.not_before;
  CsrOptions co;
  co.common_name = "x.example.com";
  auto csr = must(CertificateRequest::create(p.leaf_key, co));
  CHECK_FALSE(sign_csr(csr, p.inter, p.inter_key, backwards));
  IssueOptions bad_serial = TestPki::default_issue();
  bad_serial.serial_hex = "xyz";
  CHECK_FALSE(sign_csr(csr, p.inter, p.inter_key, bad_serial));
}

TEST_CASE("pki: key/certificate and key/CSR mismatch", "[pki]") {
  TestPki p;
  CHECK(p.leaf_key.matches(p.leaf));
  CHECK_FALSE(p.root_key.matches(p.leaf));
  CsrOptions o;
  o.common_name = "edge1.example.com";
  auto csr = must(CertificateRequest::create(p.leaf_key, o));
  CHECK(p.leaf_key.matches(csr));
  CHECK_FALSE(p.inter_key.matches(csr));
}

TEST_CASE("pki: key files: PKCS#8, traditional, DER and encrypted forms", "[pki]") {
  TempDir dir;
  sh(dir, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem");
  sh(dir, "openssl pkey -in k.pem -traditional -out trad.pem");
  sh(dir, "openssl pkey -in k.pem -outform DER -out k.der");
  sh(dir, "openssl pkey -in k.pem -aes256 -passout pass:secret -out enc8.pem");
  sh(dir, "openssl pkey -in k.pem -traditional -aes128 -passout pass:secret -out enclegacy.pem");
  sh(dir, "openssl pkcs8 -topk8 -in k.pem -outform DER -passout pass:secret -out enc.der");

  PrivateKey k = must(PrivateKey::parse(read_text(dir.file("k.pem")), "k.pem"));
  for (const char* name : {"trad.pem", "k.der"}) {
    INFO(name);
    auto kf = must(inspect_private_key(read_text(dir.file(name)), name));
    CHECK_FALSE(kf.encrypted);
    REQUIRE(kf.key);
    CHECK(kf.key->info().curve == "P-256");
    CHECK(must(kf.key->to_pem()).str() == must(k.to_pem()).str());
  }
  for (const char* name : {"enc8.pem", "enclegacy.pem", "enc.der"}) {
    INFO(name);
    std::string data = read_text(dir.file(name));
    auto kf = must(inspect_private_key(data, name));
    CHECK(kf.encrypted);
    CHECK_FALSE(kf.key);
    auto parsed = PrivateKey::parse(data, name);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kPermission);
    CHECK(parsed.error().message.find("password protected") != std::string::npos);
    auto findings = check_key_file(kf);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].id == "encrypted-private-key");
    CHECK(findings[0].severity == Severity::kError);
  }
  CHECK(is_encrypted_key_pem(read_text(dir.file("enclegacy.pem"))));

  // A key file may carry other blocks (a certificate first); the key is found.
  sh(dir, "openssl req -x509 -key k.pem -subj /CN=a.example.com -days 1 -out c.pem");
  auto combo = must(inspect_private_key(read_text(dir.file("c.pem")) + read_text(dir.file("k.pem")),
                                        "combo.pem"));
  REQUIRE(combo.key);
  auto none = inspect_private_key(read_text(dir.file("c.pem")), "c.pem");
  REQUIRE_FALSE(none);
  CHECK(none.error().message == "c.pem: block 0: no private key among 1 PEM block(s)");
  auto junk = inspect_private_key("junk", "junk.key");
  REQUIRE_FALSE(junk);
  CHECK(junk.error().message.rfind("junk.key: block 0: not a private key", 0) == 0);

  // Trailing newline is reported, not "fixed", by inspection.
  std::string pem = read_text(dir.file("k.pem"));
  pem.pop_back();
  auto no_nl = must(inspect_private_key(pem, "nonl.pem"));
  CHECK_FALSE(no_nl.trailing_newline);
  auto f = check_key_file(no_nl);
  REQUIRE(f.size() == 1);
  CHECK(f[0].id == "key-missing-trailing-newline");
  CHECK(f[0].message.find("edgecert adds it when uploading") != std::string::npos);
}

TEST_CASE("pki: private keys are written 0600, atomically, through Env", "[pki]") {
  TempDir dir;
  auto env = make_posix_env();
  PrivateKey key = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  std::string path = dir.file("server.key");
  REQUIRE(write_private_key(*env, path, key));
  CHECK(must(env->file_mode(path)) == 0600u);
  std::string data = must(env->read_file(path, kTestRead));
  CHECK(data.back() == '\n');
  CHECK(must(PrivateKey::parse(data, path)).info().bits == 256);
  // Overwriting keeps 0600 and leaves no temporary files behind.
  REQUIRE(write_private_key(*env, path, key));
  CHECK(must(env->file_mode(path)) == 0600u);
  CHECK(must(env->list_dir(dir.path())) == std::vector<std::string>{"server.key"});

  MemoryEnv mem;
  REQUIRE(mem.create_dirs("/keys", 0700));
  REQUIRE(write_private_key(mem, "/keys/a.key", key));
  CHECK(must(mem.file_mode("/keys/a.key")) == 0600u);
}
