#include <catch2/catch.hpp>

#include "providers/pki/spki.h"
#include "tests/support/test_support.h"

using namespace edgecert;

TEST_CASE("sha256 of data matches sha256sum", "[pki][spki]") {
  CHECK(pki::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(pki::sha256_fingerprint("abc").substr(0, 8) == "BA:78:16");
  testing::TempDir dir;
  std::string p = dir.write("x.txt", "edgecert\n");
  auto r = testing::run_command("sha256sum " + p);
  CHECK(r.out.substr(0, 64) == pki::sha256_hex("edgecert\n"));
}

TEST_CASE("spki digest ties a key, its CSR and its certificate together", "[pki][spki]") {
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  auto other = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  REQUIRE(other);
  pki::CsrOptions o;
  o.common_name = "a.example.com";
  auto csr = pki::CertificateRequest::create(*key, o);
  REQUIRE(csr);
  CHECK(pki::spki_sha256(*csr) == pki::spki_sha256(*key));
  CHECK(pki::spki_sha256(*other) != pki::spki_sha256(*key));
  CHECK(pki::spki_sha256(*key).size() == 95);
}
