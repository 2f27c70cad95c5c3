// verify_crl: who signed a CRL (valid / no issuer / forged), freshness,
// cRLNumber regression and delta CRLs; CRLs from Crl::create and from the
// real `openssl ca -gencrl`, forgeries made with a second key of the same name.
#include <catch2/catch.hpp>

#include "providers/revocation/crl_verify.h"
#include "tests/providers/pki/openssl_ca_dir.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;
using revocation::Freshness;
using revocation::SignatureVerdict;
using revocation::verify_crl;

namespace {

CrlOptions fresh_options(long number = 12) {
  CrlOptions o;
  o.last_update = test_now() - kDay;
  o.next_update = test_now() + 7 * kDay;
  o.number = number;
  return o;
}

}  // namespace

TEST_CASE("verify_crl: a fresh CRL signed by a candidate is ok", "[revocation][verify]") {
  TestPki p;
  CrlOptions o = fresh_options();
  o.revoked = {{"1001", test_now() - kDay, "keyCompromise"}};
  Crl crl = must(Crl::create(p.inter, p.inter_key, o));
  auto v = verify_crl(crl, {p.root, p.inter}, test_now());
  CHECK(v.ok());
  CHECK(v.verdict() == "ok");
  CHECK(v.signature == SignatureVerdict::kValid);
  REQUIRE(v.signer);
  CHECK(*v.signer == p.inter);
  CHECK(v.issuer == p.inter.subject());
  CHECK(v.freshness == Freshness::kFresh);
  CHECK(v.this_update == test_now() - kDay);
  CHECK(v.next_update == test_now() + 7 * kDay);
  CHECK(v.number == std::optional<std::string>("0C"));
  CHECK(v.entries == 1);
  CHECK_FALSE(v.delta);
  CHECK_FALSE(v.number_regressed);
}

TEST_CASE("verify_crl: no issuer, or a key that does not verify (forged)", "[revocation][verify]") {
  TestPki p;
  Crl crl = must(Crl::create(p.inter, p.inter_key, fresh_options()));
  auto none = verify_crl(crl, {p.root}, test_now());
  CHECK(none.signature == SignatureVerdict::kNoIssuer);
  CHECK_FALSE(none.signer);
  CHECK(none.verdict() ==
        "no trusted CA named " + p.inter.subject() +
            " (the CRL's issuer): its signature cannot be checked; add that CA to the trusted "
            "CAs");
  CHECK_FALSE(verify_crl(crl, {}, test_now()).ok());

  // An impostor CA: same name, other key, signs a CRL; the genuine CA is the
  // only candidate with that name.
  PrivateKey other = must(PrivateKey::generate(KeyAlgorithm::kEcdsa, 256));
  Certificate impostor = must(create_intermediate_ca(
      other, TestPki::ca_options("Test Issuing CA", "99", 1825), p.root, p.root_key));
  REQUIRE(impostor.subject() == p.inter.subject());
  Crl forged = must(Crl::create(impostor, other, fresh_options()));
  auto v = verify_crl(forged, {p.root, p.inter}, test_now());
  CHECK(v.signature == SignatureVerdict::kForged);
  CHECK_FALSE(v.ok());
  CHECK(v.verdict() == "signature does not verify with the key of " + p.inter.subject());
  // With both candidates known, the impostor's key verifies its own CRL, the
  // genuine CRL still verifies with the genuine key.
  CHECK(verify_crl(forged, {p.inter, impostor}, test_now()).signer == impostor);
  CHECK(verify_crl(crl, {impostor, p.inter}, test_now()).signer == p.inter);
  auto two = verify_crl(forged, {p.inter, p.inter}, test_now());
  CHECK(two.verdict() ==
        "signature does not verify with the key of any of the 2 CAs named " + p.inter.subject());
}

TEST_CASE("verify_crl: stale, not yet valid, no nextUpdate", "[revocation][verify]") {
  TestPki p;
  CrlOptions o = fresh_options();
  o.last_update = test_now() - 10 * kDay;
  o.next_update = test_now() - 3 * kDay;
  auto stale = verify_crl(must(Crl::create(p.inter, p.inter_key, o)), {p.inter}, test_now());
  CHECK(stale.freshness == Freshness::kStale);
  CHECK(stale.signature == SignatureVerdict::kValid);
  CHECK(stale.verdict() ==
        "stale: nextUpdate 2026-12-29 00:00:00 UTC has passed; the appliance "
        "treats every certificate of " +
            p.inter.subject() + " as invalid");

  o.last_update = test_now() + std::chrono::hours(1);
  o.next_update = test_now() + 8 * kDay;
  auto early = verify_crl(must(Crl::create(p.inter, p.inter_key, o)), {p.inter}, test_now());
  CHECK(early.freshness == Freshness::kNotYetValid);
  CHECK(early.verdict() == "not yet valid: thisUpdate 2027-01-01 01:00:00 UTC is in the future");
  // Within the five minutes of clock skew the appliance tolerates: fine.
  o.last_update = test_now() + std::chrono::minutes(4);
  CHECK(verify_crl(must(Crl::create(p.inter, p.inter_key, o)), {p.inter}, test_now()).ok());

  o = fresh_options();
  o.omit_next_update = true;
  auto open = verify_crl(must(Crl::create(p.inter, p.inter_key, o)), {p.inter}, test_now());
  CHECK(open.ok());
  CHECK(open.freshness == Freshness::kNoNextUpdate);
  CHECK(open.verdict() == "ok (no nextUpdate)");

  // Problems add up; the verdict is the first.
  o = fresh_options();
  o.next_update = test_now() - kDay;
  o.last_update = test_now() - 2 * kDay;
  auto both = verify_crl(must(Crl::create(p.inter, p.inter_key, o)), {p.root}, test_now());
  CHECK(both.problems.size() == 2);
  CHECK(both.freshness == Freshness::kStale);
  CHECK(both.signature == SignatureVerdict::kNoIssuer);
}

TEST_CASE("verify_crl: cRLNumber regression and delta CRLs", "[revocation][verify]") {
  TestPki p;
  Crl ten = must(Crl::create(p.inter, p.inter_key, fresh_options(10)));
  auto back = verify_crl(ten, {p.inter}, test_now(), std::string("0C"));
  CHECK(back.number_regressed);
  CHECK(back.verdict() ==
        "cRLNumber 0A is lower than 0C seen before (a replayed or rolled-back "
        "CRL)");
  // Same number again (the same CRL fetched twice) and a higher one are fine;
  // numbers compare by value, not as text.
  CHECK(verify_crl(ten, {p.inter}, test_now(), std::string("0a")).ok());
  CHECK(verify_crl(ten, {p.inter}, test_now(), std::string("9")).ok());
  CHECK_FALSE(verify_crl(ten, {p.inter}, test_now(), std::string("0100")).ok());
  CHECK(verify_crl(ten, {p.inter}, test_now(), std::nullopt).ok());

  CrlOptions d = fresh_options(13);
  d.delta_base = 12;
  auto delta = verify_crl(must(Crl::create(p.inter, p.inter_key, d)), {p.inter}, test_now());
  CHECK(delta.delta);
  CHECK(delta.base_number == std::optional<std::string>("0C"));
  CHECK(delta.verdict() == "delta of 0C, ok");
  d.delta_base = 13;
  auto self = verify_crl(must(Crl::create(p.inter, p.inter_key, d)), {p.inter}, test_now());
  CHECK(self.verdict() == "delta CRL 0D names base CRL 0D, which is not older");
}

TEST_CASE("verify_crl: CRLs from the real openssl ca, genuine and forged", "[revocation][verify]") {
  OpensslCaDir ca;
  std::string serial = ca.issue("edge1.example.com");
  ca.revoke(1, "keyCompromise");
  Crl crl = must(Crl::parse_all(ca.gencrl("20261231000000Z", "20270107000000Z"), "crl.pem"))[0];
  Certificate ca_cert = must(Certificate::parse_one(ca.ca_pem(), "ca.pem"));
  auto v = verify_crl(crl, {ca_cert}, test_now());
  CHECK(v.verdict() == "ok");
  CHECK(v.number == std::optional<std::string>("0A"));
  CHECK(v.entries == 1);
  CHECK(v.next_update == test_now() + 6 * kDay);
  CHECK(verify_crl(crl, {ca_cert}, test_now() + 7 * kDay).freshness == Freshness::kStale);

  // A second openssl CA with the very same name forges a CRL.
  OpensslCaDir impostor;
  Crl forged =
      must(Crl::parse_all(impostor.gencrl("20261231000000Z", "20270107000000Z"), "f.pem"))[0];
  REQUIRE(forged.issuer() == crl.issuer());
  auto f = verify_crl(forged, {ca_cert}, test_now());
  CHECK(f.signature == SignatureVerdict::kForged);
  CHECK(f.verdict() == "signature does not verify with the key of " + ca_cert.subject());
  // The next CRL of the genuine CA has number 0B: after it, 0A is a replay.
  Crl next = must(Crl::parse_all(ca.gencrl("20270101000000Z", "20270108000000Z"), "crl.pem"))[0];
  CHECK(next.number() == std::optional<std::string>("0B"));
  CHECK(verify_crl(crl, {ca_cert}, test_now(), next.number()).number_regressed);
}

TEST_CASE("verify_crl: a signer whose key usage leaves out cRLSign is refused",
          "[revocation][verify]") {
  OpensslCaDir ca("No CRL Sign CA", "critical,keyCertSign,digitalSignature");
  Crl crl = must(Crl::parse_all(ca.gencrl("20261231000000Z", "20270107000000Z"), "crl.pem"))[0];
  Certificate ca_cert = must(Certificate::parse_one(ca.ca_pem(), "ca.pem"));
  auto v = verify_crl(crl, {ca_cert}, test_now());
  CHECK(v.signature == SignatureVerdict::kValid);
  CHECK(v.verdict() ==
        "signed by " + ca_cert.subject() + ", whose key usage does not include cRLSign");
}

TEST_CASE("verify_crl: names for JSON", "[revocation][verify]") {
  CHECK(std::string(revocation::to_string(SignatureVerdict::kValid)) == "valid");
  CHECK(std::string(revocation::to_string(SignatureVerdict::kNoIssuer)) == "no-issuer");
  CHECK(std::string(revocation::to_string(SignatureVerdict::kForged)) == "forged");
  CHECK(std::string(revocation::to_string(Freshness::kFresh)) == "fresh");
  CHECK(std::string(revocation::to_string(Freshness::kStale)) == "stale");
  CHECK(std::string(revocation::to_string(Freshness::kNotYetValid)) == "not-yet-valid");
  CHECK(std::string(revocation::to_string(Freshness::kNoNextUpdate)) == "no-next-update");
}
