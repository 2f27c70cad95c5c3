// Hostile numbers and bytes in a spec (issue 16, defects 7 and 2): integers
// read by the YAML 1.2 core schema, no NaN or infinity, renewBefore bounded by
// the certificate's lifetime, and non-UTF-8 bytes refused with a position.
#include <string>

#include <catch2/catch.hpp>

#include "schema/loader.h"
#include "tests/schema/spec_text.h"
#include "tests/support/test_support.h"

using edgecert::MemoryEnv;
using edgecert::schema::load_spec_text;
using edgecert::test::contains;
namespace spec = edgecert::spec;

namespace {

// Line 12 is the issuer; extra lines (line 13 on) follow it under
// serverCertificate.
std::string spec_with(const std::string& issuer, const std::string& extra) {
  std::string text = edgecert::test::kMinimalSpec;
  const std::string minimal_issuer = "{type: openssl-ca, directory: ca}";
  text.replace(text.find(minimal_issuer), minimal_issuer.size(), issuer);
  return text + extra;
}

const std::string kOpenssl = "{type: openssl-ca, directory: ca}";
const std::string kExternal = "{type: external, requestsDir: req, certificatesDir: crt}";

std::string messages(const edgecert::schema::LoadResult& r) {
  return edgecert::test::diagnostics_text(r);
}

}  // namespace

TEST_CASE("loader: integers follow the YAML 1.2 core schema", "[schema][loader][values]") {
  MemoryEnv env;
  auto size_of = [&](const std::string& v) {
    return load_spec_text(spec_with(kOpenssl, "    key: {algorithm: rsa, size: " + v + "}\n"),
                          "/s/c.yaml", env);
  };
  SECTION("a leading zero is decimal, never octal: 04000 is 4000, not RSA 2048") {
    auto r = size_of("04000");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(messages(r),
                   "/s/c.yaml:13:33: error: spec.serverCertificate.key.size: 4000 is not a "
                   "supported RSA key size"));
    auto four = size_of("04096");
    REQUIRE(four.ok());
    CHECK(four.spec->server_certificate.key.size == 4096);
  }
  SECTION("0o is octal (YAML 1.2): 0o4000 is 2048, not 0") {
    auto r = size_of("0o4000");
    INFO(messages(r));
    REQUIRE(r.ok());
    CHECK(r.spec->server_certificate.key.size == 2048);
    auto bad = size_of("0o1750");  // 1000
    CHECK(contains(messages(bad), "RSA 1000-bit keys are too weak"));
  }
  SECTION("0x is hexadecimal") {
    auto r = size_of("0x800");
    REQUIRE(r.ok());
    CHECK(r.spec->server_certificate.key.size == 2048);
  }
  SECTION("a signed decimal") {
    CHECK(size_of("+2048").ok());
    CHECK(contains(messages(size_of("-2048")), "RSA -2048-bit keys are too weak"));
  }
  SECTION("too large for any integer: out of range, positioned") {
    auto r = size_of("99999999999999999999999");
    CHECK(contains(messages(r),
                   "/s/c.yaml:13:33: error: spec.serverCertificate.key.size: "
                   "99999999999999999999999 is out of range"));
  }
  SECTION(".nan and .inf are named, not 'a number'") {
    auto r = size_of(".nan");
    CHECK(contains(messages(r), "expected an integer, got a number (.nan)"));
  }
}

TEST_CASE("loader: a number field refuses .nan and .inf by name", "[schema][loader][values]") {
  MemoryEnv env;
  auto fraction = [&](const std::string& v) {
    return load_spec_text(spec_with(kOpenssl, "    renewAtLifetimeFraction: " + v + "\n"),
                          "/s/c.yaml", env);
  };
  for (std::string v : {".nan", ".NaN", ".inf", "-.inf", "+.Inf"}) {
    INFO(v);
    auto r = fraction(v);
    REQUIRE_FALSE(r.ok());
    CHECK(contains(messages(r),
                   "/s/c.yaml:13:30: error: spec.serverCertificate.renewAtLifetimeFraction: "
                   "expected a finite number, got " +
                       v));
    CHECK_FALSE(contains(messages(r), "got a number"));
  }
  SECTION("ordinary numbers still work, and an octal zero is no longer a silent 0") {
    auto r = fraction("0.75");
    REQUIRE(r.ok());
    CHECK(r.spec->server_certificate.renew_at_lifetime_fraction == Approx(0.75));
    CHECK(fraction(".5").ok());
    CHECK(contains(messages(fraction("0o7")), "7 must be greater than 0 and less than 1"));
    CHECK(contains(messages(fraction("1e999")), "1e999 is out of range"));
  }
}

TEST_CASE("loader: renewBefore is shorter than the certificate's lifetime",
          "[schema][loader][values]") {
  MemoryEnv env;
  auto before = [&](const std::string& issuer, const std::string& v) {
    return load_spec_text(spec_with(issuer, "    renewBefore: " + v + "\n"), "/s/c.yaml", env);
  };
  SECTION("openssl-ca signs for 365 days") {
    CHECK(before(kOpenssl, "364d").ok());
    for (std::string v : {"365d", "24855d", "8760h"}) {
      INFO(v);
      auto r = before(kOpenssl, v);
      REQUIRE_FALSE(r.ok());
      CHECK(contains(messages(r), "/s/c.yaml:13:18: error: spec.serverCertificate.renewBefore: "));
      CHECK(contains(messages(r),
                     "is not shorter than the 365 days the openssl-ca issuer signs for"));
    }
  }
  SECTION("other issuers: below the longest lifetime a public certificate may have") {
    CHECK(before(kExternal, "397d").ok());
    auto r = before(kExternal, "24855d");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(messages(r),
                   "/s/c.yaml:13:18: error: spec.serverCertificate.renewBefore: 24855d is "
                   "not shorter than the longest certificate lifetime (398 days"));
  }
}

TEST_CASE("loader: bytes that are not UTF-8 are refused with their position",
          "[schema][loader][values][utf8]") {
  MemoryEnv env;
  const std::string good = spec_with(kOpenssl, "");
  REQUIRE(load_spec_text(good, "/s/c.yaml", env).ok());
  auto refused_at = [&](const std::string& text, const std::string& where) {
    auto r = load_spec_text(text, "/s/c.yaml", env);
    INFO(messages(r));
    CHECK_FALSE(r.ok());
    CHECK(r.diagnostics.sorted().size() == 1);
    CHECK(contains(messages(r), "/s/c.yaml:" + where + ": error: the spec is not valid UTF-8"));
  };
  SECTION("in a string value") {
    std::string t = good;
    t.replace(t.find("minimal"), 7, "min\xFFimal");
    refused_at(t, "4:12");
  }
  SECTION("in a key, in a comment, at the very start, at the very end") {
    std::string key = good;
    key.replace(key.find("product"), 7,
                "pro\xC3\x28"
                "duct");
    refused_at(key, "6:6");
    refused_at("# caf\xE9\n" + good, "1:6");
    refused_at("\xFE\xFF" + good, "1:1");
    refused_at(good + "# \xE2\x82", "13:3");  // a truncated euro sign
  }
  SECTION("overlong forms and UTF-16 surrogates are malformed too") {
    refused_at(good + "# \xC0\xAF\n", "13:3");
    refused_at(good + "# \xED\xA0\x80\n", "13:3");
    refused_at(good + "# \xF4\x90\x80\x80\n", "13:3");
  }
  SECTION("well-formed UTF-8, a BOM included, is fine") {
    CHECK(load_spec_text("\xEF\xBB\xBF" + good + "# caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92\n",
                         "/s/c.yaml", env)
              .ok());
  }
}
