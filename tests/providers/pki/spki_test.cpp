#include <catch2/catch.hpp>

#include "providers/pki/spki.h"
#include "tests/support/test_support.h"

using namespace edgecert;

TEST_CASE("sha256 of data matches sha256sum", "[pki][spki]") {
  CHECK(pki::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(pki::sha256_fingerprint("abc").substr(0, 8) == "BA:78:16");
  testing::TempDir dir;
  std::string p = dir.write("x.txt", "edgecert\n");
  auto r = testing::run_command("sha256sum " + p);
  CHECK(r.out.substr(0, 64) == pki::sha256_hex("edgecert\n"));
}

TEST_CASE("spki digest ties a key, its CSR and its certificate together", "[pki][spki]") {
  auto key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  auto other = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
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

TEST_CASE("sha256_fingerprint matches FIPS 180-4 test vectors", "[pki][spki]") {
  CHECK(pki::sha256_fingerprint("") ==
        "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:"
        "B8:55");
  CHECK(pki::sha256_fingerprint("abc") ==
        "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:"
        "15:AD");
  CHECK(pki::sha256_fingerprint("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "24:8D:6A:61:D2:06:38:B8:E5:C0:26:93:0C:3E:60:39:A3:3C:E4:59:64:FF:21:67:F6:EC:ED:D4:19:DB:"
        "06:C1");
}
