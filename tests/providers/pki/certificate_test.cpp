// Certificate parsing cross-checked against the openssl command line.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fmt/core.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "providers/pki/certificate.h"
#include "providers/pki/checks.h"
#include "providers/pki/verify.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

std::vector<std::string> our_sans(const Certificate& c) {
  std::vector<std::string> out;
  auto s = c.subject_alt_names();
  for (const auto& d : s.dns) out.push_back("DNS:" + d);
  for (const auto& d : s.ip) out.push_back("IP Address:" + d);
  return out;
}

// Compares every field openssl can print for `file` (PEM) with our parse of
// both the PEM and a DER conversion of it.
void cross_check(const TempDir& dir, const std::string& file) {
  std::string der_file = file + ".der";
  sh(dir, "openssl x509 -in " + file + " -outform DER -out " + der_file);
  auto pem = Certificate::parse_one(read_text(dir.file(file)), file);
  auto der = Certificate::parse_one(read_text(dir.file(der_file)), der_file);
  REQUIRE(pem);
  REQUIRE(der);
  CHECK(*pem == *der);

  auto q = [&](const std::string& args) {
    return sh(dir, "openssl x509 -in " + file + " -noout " + args);
  };
  for (const Certificate* c : {&*pem, &*der}) {
    CHECK(c->sha256_fingerprint() == after_equals(q("-fingerprint -sha256")));
    CHECK(c->serial_hex() == after_equals(q("-serial")));
    CHECK(c->subject() == after_equals(q("-subject -nameopt RFC2253")));
    CHECK(c->issuer() == after_equals(q("-issuer -nameopt RFC2253")));
    CHECK(our_sans(*c) == openssl_sans(q("-ext subjectAltName")));
    // "notAfter=2027-01-31 00:00:00Z"
    std::string na = after_equals(q("-enddate -dateopt iso_8601"));
    std::string ours = format_time(c->not_after());  // "2027-01-31 00:00:00 UTC"
    CHECK(ours.substr(0, 19) == na.substr(0, 19));
    std::string text = q("-text");
    CHECK(text.find(fmt::format("Public-Key: ({} bit)", c->key_info().bits)) != std::string::npos);
    CHECK(c->to_der() == read_text(dir.file(der_file)));
  }
}

}  // namespace

TEST_CASE("pki: RSA certificate with SANs matches openssl, PEM and DER", "[pki]") {
  TempDir dir;
  sh(dir,
     "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 30 "
     "-set_serial 0x0A1B2C3D4E "
     "-subj '/C=GB/ST=London/L=London/O=Example Ltd/OU=UC/CN=edge1.example.com' "
     "-addext 'subjectAltName=DNS:edge1.example.com,DNS:collab-edge.example.com,IP:192.0.2.10' "
     "-addext 'extendedKeyUsage=serverAuth,clientAuth' "
     "-addext 'crlDistributionPoints=URI:http://crl.example.com/ca.crl' "
     "-addext 'authorityInfoAccess=OCSP;URI:http://ocsp.example.com'");
  cross_check(dir, "c.pem");

  auto c = must(Certificate::parse_one(read_text(dir.file("c.pem")), "c.pem"));
  CHECK(c.serial_hex() == "0A1B2C3D4E");
  CHECK(c.subject_cn() == "edge1.example.com");
  CHECK(c.subject() == "CN=edge1.example.com,OU=UC,O=Example Ltd,L=London,ST=London,C=GB");
  CHECK(c.key_info().algorithm == "RSA");
  CHECK(c.key_info().bits == 2048);
  CHECK(c.signature_digest() == "sha256");
  CHECK(c.signature_algorithm() == "sha256WithRSAEncryption");
  CHECK(c.subject_alt_names().dns ==
        std::vector<std::string>{"edge1.example.com", "collab-edge.example.com"});
  CHECK(c.subject_alt_names().ip == std::vector<std::string>{"192.0.2.10"});
  CHECK(c.extended_key_usage() == std::vector<std::string>{"serverAuth", "clientAuth"});
  CHECK(c.crl_distribution_points() == std::vector<std::string>{"http://crl.example.com/ca.crl"});
  CHECK(c.ocsp_urls() == std::vector<std::string>{"http://ocsp.example.com"});
  CHECK(c.is_self_signed());
  CHECK(c.unknown_name_oids().empty());
  // openssl req -x509 adds SKI and AKI (keyid) by default in 3.0.
  CHECK(c.subject_key_id() == after_equals(sh(dir,
                                              "openssl x509 -in c.pem -noout -ext "
                                              "subjectKeyIdentifier | tail -1 | sed 's/^ */=/'")));
  CHECK(c.not_after() - c.not_before() == std::chrono::hours(24 * 30));
}

TEST_CASE("pki: ECDSA certificate without SANs matches openssl", "[pki]") {
  TempDir dir;
  sh(dir,
     "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout k.pem "
     "-out c.pem -days 10 -subj '/CN=edge2.example.com' -sha384");
  cross_check(dir, "c.pem");
  auto c = must(Certificate::parse_one(read_text(dir.file("c.pem")), "c.pem"));
  CHECK(c.key_info().algorithm == "EC");
  CHECK(c.key_info().bits == 384);
  CHECK(c.key_info().curve == "P-384");
  CHECK(c.signature_digest() == "sha384");
  CHECK(c.subject_alt_names().empty());
  CHECK_FALSE(c.has_extended_key_usage());
}

TEST_CASE("pki: EV jurisdiction OIDs are supported, other OIDs are listed", "[pki]") {
  TempDir dir;
  sh(dir,
     "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem "
     "-out ev.pem -days 10 -subj '/jurisdictionC=GB/jurisdictionST=England/jurisdictionL=London"
     "/businessCategory=Private Organization/serialNumber=01234567/O=Example Ltd"
     "/CN=ev.example.com'");
  cross_check(dir, "ev.pem");
  auto ev = must(Certificate::parse_one(read_text(dir.file("ev.pem")), "ev.pem"));
  CHECK(ev.unknown_name_oids().empty());
  auto attrs = ev.subject_attributes();
  REQUIRE(attrs.size() == 7);
  CHECK(attrs[0].oid == "1.3.6.1.4.1.311.60.2.1.3");
  CHECK(attrs[0].value == "GB");
  CHECK(is_supported_ev_oid(attrs[1].oid));

  dir.write("oid.cnf",
            "oid_section = new_oids\n[new_oids]\ntestAttr = 1.2.3.4.5.6\n"
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = odd.example.com\n"
            "testAttr = hello\n");
  sh(dir,
     "openssl req -x509 -config oid.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
     "-keyout k2.pem -out odd.pem -days 10");
  cross_check(dir, "odd.pem");
  auto odd = must(Certificate::parse_one(read_text(dir.file("odd.pem")), "odd.pem"));
  // Self-signed: the OID is in subject and issuer but listed once.
  CHECK(odd.unknown_name_oids() == std::vector<std::string>{"1.2.3.4.5.6"});
  CHECK_FALSE(odd.has_basic_constraints());  // the config adds no extensions
  CHECK_FALSE(odd.is_ca());
}

TEST_CASE("pki: 2050 expiry (GeneralizedTime) and missing BasicConstraints", "[pki]") {
  TempDir dir;
  dir.write("plain.cnf", "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = Old Root CA\n");
  sh(dir,
     "openssl req -x509 -config plain.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
     "-keyout k.pem -out long.pem -days 9500");
  cross_check(dir, "long.pem");
  auto c = must(Certificate::parse_one(read_text(dir.file("long.pem")), "long.pem"));
  CHECK(format_time(c.not_after()) >= "2050");
  CHECK_FALSE(c.has_basic_constraints());
  CHECK(c.key_usage().empty());
  CHECK(c.subject_key_id().empty());
}

TEST_CASE("pki: bundles keep order, errors name the source and block", "[pki]") {
  TestPki p;
  std::string bundle =
      p.leaf.to_pem() + "# comment between blocks\n" + p.inter.to_pem() + p.root.to_pem();
  auto all = must(Certificate::parse_all(bundle, "chain.pem"));
  REQUIRE(all.size() == 3);
  CHECK(all[0] == p.leaf);
  CHECK(all[1] == p.inter);
  CHECK(all[2] == p.root);
  CHECK(all[0].path_length() == std::nullopt);
  CHECK(all[2].is_ca());

  auto one = Certificate::parse_one(bundle, "chain.pem");
  REQUIRE_FALSE(one);
  CHECK(one.error().message == "chain.pem: expected one certificate, found 3");

  std::string bad = p.leaf.to_pem() +
                    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
  auto r = Certificate::parse_all(bad, "trust/root.pem");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.rfind("trust/root.pem: block 1: not a certificate", 0) == 0);

  CsrOptions csr_opts;
  csr_opts.common_name = "a.example.com";
  CertificateRequest csr = must(CertificateRequest::create(p.leaf_key, csr_opts));
  auto mixed = Certificate::parse_all(p.root.to_pem() + csr.to_pem(), "mixed.pem");
  REQUIRE_FALSE(mixed);
  CHECK(mixed.error().message ==
        "mixed.pem: block 1: not a certificate: PEM block is 'CERTIFICATE REQUEST'");

  auto unterminated = Certificate::parse_all("-----BEGIN CERTIFICATE-----\nAAAA\n", "x.pem");
  REQUIRE_FALSE(unterminated);
  CHECK(unterminated.error().message.rfind("x.pem: block 0:", 0) == 0);

  auto empty = Certificate::parse_all("", "empty.pem");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message == "empty.pem: empty input");

  auto der = Certificate::parse_all(p.root.to_der() + "junk", "root.der");
  REQUIRE_FALSE(der);
  CHECK(der.error().message.find("trailing data") != std::string::npos);

  auto garbage = Certificate::parse_all(std::string("\x01\x02\x03", 3), "g.bin");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().message.rfind("g.bin: block 0: not a certificate", 0) == 0);
}

namespace {
// `der` in PEM armour under `label`, whatever the bytes are.
std::string pem_of(const std::string& label, const std::string& der) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio(bio, label.c_str(), "", reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}
}  // namespace

TEST_CASE("pki: BER (indefinite or non-minimal lengths) is refused, in DER and in PEM",
          "[pki][ber]") {
  TestPki p;
  std::string der = p.root.to_der();
  REQUIRE(static_cast<unsigned char>(der[0]) == 0x30);
  REQUIRE(static_cast<unsigned char>(der[1]) == 0x82);
  // The outer SEQUENCE with an indefinite length, then with a 3-byte length.
  std::string indefinite = std::string("\x30\x80", 2) + der.substr(4) + std::string(2, '\0');
  std::string long_length = std::string("\x30\x83\x00", 3) + der.substr(2);
  for (const auto& [name, bytes] :
       {std::pair{std::string("indefinite"), indefinite}, {"long-length", long_length}}) {
    INFO(name);
    auto from_der = Certificate::parse_all(bytes, "ber.der");
    REQUIRE_FALSE(from_der);
    CHECK(from_der.error().message.rfind("ber.der: block 0: not DER: the certificate is BER", 0) ==
          0);
    auto from_pem = Certificate::parse_all(p.leaf.to_pem() + pem_of("CERTIFICATE", bytes), "b.pem");
    REQUIRE_FALSE(from_pem);
    CHECK(from_pem.error().message.rfind("b.pem: block 1: not DER", 0) == 0);
  }
  // A PEM block with bytes after its certificate is refused too.
  auto trailing = Certificate::parse_all(pem_of("CERTIFICATE", der + "xx"), "t.pem");
  REQUIRE_FALSE(trailing);
  CHECK(trailing.error().message ==
        "t.pem: block 0: 2 bytes of trailing data after the DER certificate");
  // The DER itself, and its PEM, still parse.
  CHECK(must(Certificate::parse_all(der, "root.der")).front() == p.root);
  CHECK(must(Certificate::parse_all(pem_of("CERTIFICATE", der), "root.pem")).front() == p.root);
}

TEST_CASE("pki: copies share the certificate, load_certificates reads through Env", "[pki]") {
  TestPki p;
  Certificate copy = p.leaf;
  CHECK(copy == p.leaf);
  copy = p.root;
  CHECK(copy.subject() == p.root.subject());
  Certificate moved = std::move(copy);
  CHECK(moved == p.root);

  MemoryEnv env;
  env.put("/ca/bundle.pem", p.inter.to_pem() + p.root.to_pem());
  auto certs = must(load_certificates(env, "/ca/bundle.pem", kTestRead));
  CHECK(certs.size() == 2);
  auto missing = load_certificates(env, "/ca/none.pem", kTestRead);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
}

TEST_CASE("pki: Debian's ISRG Root X1 parses and self-verifies as an anchor", "[pki]") {
  const std::string path = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt";
  std::string data = read_text(path);
  if (data.empty()) {
    WARN("ca-certificates not installed; skipped");
    return;
  }
  auto root = must(Certificate::parse_one(data, path));
  CHECK(root.subject() == "CN=ISRG Root X1,O=Internet Security Research Group,C=US");
  CHECK(root.is_self_signed());
  CHECK(root.is_ca());
  CHECK(root.key_info().algorithm == "RSA");
  CHECK(root.key_info().bits == 4096);
  CHECK(root.unknown_name_oids().empty());
  TempDir dir;
  CHECK(root.sha256_fingerprint() ==
        after_equals(sh(dir, "openssl x509 -in " + path + " -noout -fingerprint -sha256")));
  VerifyOptions vo;
  vo.at = root.not_before() + kDay;
  auto r = verify_chain(root, {}, {root}, vo);
  CHECK(r.ok);
  CHECK(r.error_name == "X509_V_OK");
  CHECK(r.chain_fingerprints == std::vector<std::string>{root.sha256_fingerprint()});
}
