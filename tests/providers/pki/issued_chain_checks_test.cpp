// The checks on a chain an issuer returned (pki::check_issued_chain): the leaf
// as a server certificate, every other certificate as a CA, each finding
// indexed at its certificate — what `edgecert show` lists for the same chain.
#include <catch2/catch.hpp>

#include "providers/pki/checks.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

ServerCheckOptions at_now() {
  ServerCheckOptions o;
  o.now = test_now();
  return o;
}

}  // namespace

TEST_CASE("pki: check_issued_chain passes a clean chain", "[pki][checks]") {
  TestPki p;
  CHECK(check_issued_chain({p.leaf, p.inter}, at_now()).empty());
}

TEST_CASE("pki: check_issued_chain finds leaf errors at index 0 and CA findings at theirs",
          "[pki][checks]") {
  TestPki p;
  Certificate wild = p.issue(p.leaf_key, {"edge1.example.com", "*.example.com"}, "3001");
  // The leaf where a CA should be: no BasicConstraints CA:TRUE.
  auto f = check_issued_chain({wild, p.leaf}, at_now());
  REQUIRE(f.size() == 2);
  CHECK(f[0].id == "wildcard-name");
  CHECK(f[0].severity == Severity::kError);
  CHECK(f[0].index == std::optional<size_t>(0));
  CHECK(f[1].id == "ca-without-basic-constraints");
  CHECK(f[1].index == std::optional<size_t>(1));
  // The same as show: a certificate is checked as what it is in the chain.
  CHECK(check_certificate(p.inter, /*as_ca=*/true, at_now()).empty());
  CHECK(looks_like_ca(p.inter, {p.leaf, p.inter}));
  CHECK_FALSE(looks_like_ca(p.leaf, {p.leaf, p.inter}));
}

TEST_CASE("pki: key sizes outside the guide's choices are a warning", "[pki][checks]") {
  TestPki p;
  PrivateKey small = must(PrivateKey::generate(pki::KeyAlgorithm::kRsa, 3072));
  Certificate c = p.issue(small, {"edge1.example.com"}, "3002");
  auto f = check_server_certificate(c, at_now());
  REQUIRE(f.size() == 1);
  CHECK(f[0].id == "unsupported-key-size");
  CHECK(f[0].severity == Severity::kWarning);
  CHECK(f[0].message.find("RSA 3072") != std::string::npos);
}
