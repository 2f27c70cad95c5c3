// Dates at the edges of what X.509 carries (issue 16): certificates and CRLs
// made by the real `openssl ca` with notBefore/thisUpdate in 1950 and
// notAfter/nextUpdate at 2050-01-01 and 9999-12-31T23:59:59Z are read back
// as those instants, compare in order, and are not expired.
#include <catch2/catch.hpp>

#include <limits>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "tests/providers/pki/openssl_ca_dir.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

bool has_finding(const std::vector<Finding>& findings, const std::string& id) {
  for (const Finding& f : findings)
    if (f.id == id) return true;
  return false;
}

// An OpenSSL CA whose own certificate openssl re-signs for 1950..9999, and
// two leaves it signs: one to 2050-01-01, one to 9999-12-31.
struct FarCa {
  OpensslCaDir ca{"Far Dates CA"};
  FarCa() {
    const TempDir& d = ca.dir();
    sh(d, "openssl req -new -config ca.cnf -key ca.key -out ca.csr");
    sh(d,
       "openssl ca -batch -config ca.cnf -selfsign -keyfile ca.key -in ca.csr -notext "
       "-extensions v3_ca -startdate 19500101000000Z -enddate 99991231235959Z -out ca.pem");
    leaf("leaf2050", "20500101000000Z");
    leaf("leaf9999", "99991231235959Z");
  }
  void leaf(const std::string& name, const std::string& not_after) const {
    const TempDir& d = ca.dir();
    sh(d, "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
              ".key -subj '/CN=" + name + ".example.com' -out " + name + ".csr");
    sh(d, "openssl ca -batch -config ca.cnf -notext -in " + name +
              ".csr -startdate 19500101000000Z -enddate " + not_after + " -out " + name + ".pem");
  }
  Certificate cert(const std::string& name) const {
    return must(Certificate::parse_one(read_text(ca.dir().file(name + ".pem")), name));
  }
};

}  // namespace

TEST_CASE("far dates: certificates valid 1950..2050 and 1950..9999 read back exactly",
          "[pki][time]") {
  FarCa far;
  const Certificate ca = far.cert("ca");
  const Certificate l2050 = far.cert("leaf2050");
  const Certificate l9999 = far.cert("leaf9999");

  CHECK(format_time(ca.not_before()) == "1950-01-01 00:00:00 UTC");
  CHECK(format_time(ca.not_after()) == "9999-12-31 23:59:59 UTC");
  CHECK(ca.not_after() == kLatestTime);
  CHECK(format_time(l2050.not_before()) == "1950-01-01 00:00:00 UTC");
  CHECK(format_time_iso(l2050.not_after()) == "2050-01-01T00:00:00Z");
  CHECK(format_time(l9999.not_after()) == "9999-12-31 23:59:59 UTC");
  // The same dates `openssl x509` prints.
  CHECK(after_equals(sh(far.ca.dir(), "openssl x509 -noout -enddate -in leaf9999.pem")) ==
        "Dec 31 23:59:59 9999 GMT");

  // In order, and none expired now or at 2100.
  CHECK(l2050.not_before() < test_now());
  CHECK(l2050.not_after() < l9999.not_after());
  CHECK(l9999.not_after() == ca.not_after());
  for (const Certificate* c : {&ca, &l2050, &l9999}) {
    CHECK_FALSE(c->is_expired_at(test_now()));
    CHECK_FALSE(c->is_expired_at(Clock::now()));
  }
  CHECK(l2050.is_expired_at(*time_from_civil(2100, 1, 1)));
  CHECK_FALSE(l9999.is_expired_at(*time_from_civil(2100, 1, 1)));

  // The checks call the CA good (only the 2050 warning), not expired.
  auto ca_findings = check_ca_certificate(ca, test_now());
  CHECK_FALSE(has_finding(ca_findings, "ca-expired"));
  CHECK(has_finding(ca_findings, "expires-2050-or-later"));
  ServerCheckOptions opts;
  opts.now = test_now();
  auto leaf_findings = check_server_certificate(l9999, opts);
  CHECK_FALSE(has_finding(leaf_findings, "expired"));
  CHECK_FALSE(has_finding(leaf_findings, "expiring-soon"));

  // Renewal windows stay before notAfter instead of wrapping.
  CHECK(renewal_time(l9999, std::chrono::hours(24 * 30), 0) ==
        kLatestTime - std::chrono::hours(24 * 30));
  CHECK(renewal_time(l9999, std::chrono::seconds(std::numeric_limits<int>::max()), 0) <
        l9999.not_after());
  auto at_two_thirds = renewal_time(l9999, std::nullopt, 2.0 / 3.0);
  CHECK(at_two_thirds > l9999.not_before());
  CHECK(at_two_thirds < l9999.not_after());
  // Through double: within a millisecond of notAfter, never past it or wrapped.
  auto at_end = renewal_time(l9999, std::nullopt, 1.0);
  CHECK(at_end <= l9999.not_after());
  CHECK(l9999.not_after() - at_end < std::chrono::milliseconds(1));
}

TEST_CASE("far dates: a CRL with thisUpdate 1950 and nextUpdate 9999 reads back exactly",
          "[pki][time]") {
  FarCa far;
  const TimePoint before = Clock::now() - std::chrono::seconds(2);
  sh(far.ca.dir(), "openssl ca -config ca.cnf -revoke leaf2050.pem -crl_reason keyCompromise");
  const std::string pem = far.ca.gencrl("19500101000000Z", "99991231235959Z");
  auto crls = must(Crl::parse_all(pem, "crl.pem"));
  REQUIRE(crls.size() == 1);
  const Crl& crl = crls.front();
  CHECK(format_time(crl.last_update()) == "1950-01-01 00:00:00 UTC");
  REQUIRE(crl.next_update());
  CHECK(*crl.next_update() == kLatestTime);
  CHECK_FALSE(has_finding(check_crl(crl, test_now()), "crl-stale"));
  CHECK_FALSE(has_finding(check_crl(crl, *time_from_civil(9000, 1, 1)), "crl-stale"));
  auto revoked = crl.find_revoked(far.cert("leaf2050").serial_hex());
  REQUIRE(revoked);
  CHECK(revoked->revoked_at >= before);
  CHECK(revoked->revoked_at <= Clock::now());

  // And one to 2050, stale only after it.
  auto crl2050 = must(Crl::parse_all(far.ca.gencrl("19500101000000Z", "20500101000000Z"), "c"));
  REQUIRE(crl2050.front().next_update());
  CHECK(format_time_iso(*crl2050.front().next_update()) == "2050-01-01T00:00:00Z");
  CHECK_FALSE(has_finding(check_crl(crl2050.front(), test_now()), "crl-stale"));
  CHECK(has_finding(check_crl(crl2050.front(), *time_from_civil(2051, 1, 1)), "crl-stale"));
}

TEST_CASE("far dates: CRLs edgecert creates carry 9999 dates as GeneralizedTime", "[pki][time]") {
  FarCa far;
  const Certificate ca = far.cert("ca");
  auto key = must(PrivateKey::parse(read_text(far.ca.dir().file("ca.key")), "ca.key"));
  CrlOptions o;
  o.last_update = *time_from_civil(1950, 1, 1);
  o.next_update = kLatestTime;
  auto crl = must(Crl::create(ca, key, o));
  CHECK(crl.last_update() == *time_from_civil(1950, 1, 1));
  REQUIRE(crl.next_update());
  CHECK(*crl.next_update() == kLatestTime);
  // Past the end of time saturates at 9999-12-31T23:59:59Z rather than wrapping.
  o.next_update = kLatestTime + std::chrono::hours(24 * 365);
  auto crl2 = must(Crl::create(ca, key, o));
  CHECK(*crl2.next_update() == kLatestTime);
}
