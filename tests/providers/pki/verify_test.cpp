// Chain verification: good chain, hostname, time, trust and CRL failures.
#include <catch2/catch.hpp>

#include "providers/pki/crl.h"
#include "providers/pki/verify.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

VerifyOptions at_now(std::optional<std::string> host = std::nullopt) {
  VerifyOptions o;
  o.at = test_now();
  o.hostname = std::move(host);
  return o;
}

}  // namespace

TEST_CASE("pki: verify accepts a good chain and reports it leaf first", "[pki]") {
  TestPki p;
  VerifyResult r = verify_chain(p.leaf, {p.inter}, {p.root}, at_now("edge1.example.com"));
  CHECK(r.ok);
  CHECK(r.error_code == 0);
  CHECK(r.error_name == "X509_V_OK");
  CHECK(r.chain_fingerprints == std::vector<std::string>{p.leaf.sha256_fingerprint(),
                                                         p.inter.sha256_fingerprint(),
                                                         p.root.sha256_fingerprint()});
  CHECK(r.chain_subjects.front() == p.leaf.subject());
  // The other SAN matches too; the server purpose holds (EKU serverAuth).
  VerifyOptions o = at_now("cluster.example.com");
  o.server_purpose = true;
  CHECK(verify_chain(p.leaf, {p.inter}, {p.root}, o).ok);
  // A trusted intermediate is enough (partial chain).
  CHECK(verify_chain(p.leaf, {}, {p.inter}, at_now()).ok);

  // The openssl command line agrees.
  TempDir dir;
  dir.write("root.pem", p.root.to_pem());
  dir.write("inter.pem", p.inter.to_pem());
  dir.write("leaf.pem", p.leaf.to_pem());
  sh(dir,
     "openssl verify -attime 1798761600 -CAfile root.pem -untrusted inter.pem "
     "-verify_hostname edge1.example.com leaf.pem");
}

TEST_CASE("pki: verify reports a wrong hostname", "[pki]") {
  TestPki p;
  VerifyResult r = verify_chain(p.leaf, {p.inter}, {p.root}, at_now("edge9.example.com"));
  CHECK_FALSE(r.ok);
  CHECK(r.error_name == "X509_V_ERR_HOSTNAME_MISMATCH");
  CHECK(r.depth == 0);
  CHECK(r.message == "hostname mismatch");
}

TEST_CASE("pki: verify reports expiry at the chosen time", "[pki]") {
  TestPki p;
  VerifyOptions o;
  o.at = p.leaf.not_after() + kDay;
  VerifyResult r = verify_chain(p.leaf, {p.inter}, {p.root}, o);
  CHECK_FALSE(r.ok);
  CHECK(r.error_name == "X509_V_ERR_CERT_HAS_EXPIRED");
  CHECK(r.depth == 0);
  o.at = p.leaf.not_before() - kDay;
  CHECK(verify_chain(p.leaf, {p.inter}, {p.root}, o).error_name == "X509_V_ERR_CERT_NOT_YET_VALID");
}

TEST_CASE("pki: verify reports an untrusted chain", "[pki]") {
  TestPki p;
  TestPki other;
  VerifyResult r = verify_chain(p.leaf, {p.inter}, {other.root}, at_now());
  CHECK_FALSE(r.ok);
  CHECK(r.error_name == "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  CHECK(r.depth == 1);
  CHECK(r.chain_fingerprints.size() == 2);  // as far as OpenSSL got
  CHECK_FALSE(verify_chain(p.leaf, {}, {}, at_now()).ok);
}

TEST_CASE("pki: verify consults CRLs and reports revocation", "[pki]") {
  TestPki p;
  CrlOptions co;
  co.last_update = test_now() - kDay;
  co.next_update = test_now() + 7 * kDay;
  Crl empty = must(Crl::create(p.inter, p.inter_key, co));
  co.revoked.push_back({p.leaf.serial_hex(), test_now() - std::chrono::hours(1)});
  co.number = 2;
  Crl revoking = must(Crl::create(p.inter, p.inter_key, co));
  CHECK(revoking.is_signed_by(p.inter));
  CHECK_FALSE(revoking.is_signed_by(p.root));
  REQUIRE(revoking.revoked().size() == 1);
  CHECK(revoking.revoked()[0].serial_hex == "1001");
  CHECK(revoking.number() == std::optional<std::string>("02"));

  VerifyOptions o = at_now();
  o.check_crls = true;
  o.crls = {empty};
  CHECK(verify_chain(p.leaf, {p.inter}, {p.root}, o).ok);
  o.crls = {revoking};
  VerifyResult r = verify_chain(p.leaf, {p.inter}, {p.root}, o);
  CHECK_FALSE(r.ok);
  CHECK(r.error_name == "X509_V_ERR_CERT_REVOKED");
  CHECK(r.depth == 0);
  // Checking CRLs without one for the issuer fails closed.
  o.crls = {};
  CHECK(verify_chain(p.leaf, {p.inter}, {p.root}, o).error_name == "X509_V_ERR_UNABLE_TO_GET_CRL");

  // The CRL round-trips through PEM and DER and openssl agrees on its content.
  auto pem = must(Crl::parse_all(revoking.to_pem() + empty.to_pem(), "crls.pem"));
  REQUIRE(pem.size() == 2);
  CHECK(pem[0].revoked().size() == 1);
  CHECK(pem[1].revoked().empty());
  auto der = must(Crl::parse_all(revoking.to_der(), "crl.der"));
  CHECK(der[0].issuer() == p.inter.subject());
  TempDir dir;
  dir.write("crl.pem", revoking.to_pem());
  dir.write("inter.pem", p.inter.to_pem());
  std::string text = sh(dir, "openssl crl -in crl.pem -noout -text -CAfile inter.pem");
  CHECK(text.find("Serial Number: 1001") != std::string::npos);
  auto bad = Crl::parse_all(p.root.to_pem(), "x.pem");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "x.pem: block 0: not a CRL: PEM block is 'CERTIFICATE'");
}

TEST_CASE("pki: verify_error_name covers unknown codes", "[pki]") {
  CHECK(verify_error_name(0) == "X509_V_OK");
  CHECK(verify_error_name(10) == "X509_V_ERR_CERT_HAS_EXPIRED");
  CHECK(verify_error_name(9999) == "X509_V_ERR_9999");
}
