#include "providers/pki/jws.h"

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/pki/ossl.h"

using namespace edgecert;
using namespace edgecert::pki;

namespace {

// Verifies a raw r||s ES256 signature with the key's public half.
bool verify_es256(const PrivateKey& key, const std::string& input, const std::string& sig) {
  if (sig.size() != 64) return false;
  auto* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
  auto* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, raw(key));
  int ok = EVP_DigestVerify(ctx, der, static_cast<size_t>(len),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok == 1;
}

}  // namespace

TEST_CASE("base64url round trip and RFC 4648 vectors", "[acme][jws]") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
  CHECK(*base64url_decode("-_8") == std::string("\xfb\xff", 2));
  CHECK(*base64url_decode("Zm9vYg==") == "foob");
  CHECK(!base64url_decode("Zm9v+g"));
  CHECK(!base64url_decode("Z"));
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(*base64url_decode(base64url_encode(all)) == all);
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[acme][jws]") {
  SecretString key("Jefe");
  auto mac = hmac_sha256(key, "what do ya want for nothing?");
  REQUIRE(mac);
  CHECK(base64url_encode(*mac) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
  CHECK(mac->size() == 32);
}

TEST_CASE("ES256 JWK, thumbprint and raw signature", "[acme][jws]") {
  auto key = PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  CHECK(*jws_algorithm(*key) == "ES256");
  auto jwk = jwk_json(*key);
  REQUIRE(jwk);
  auto j = nlohmann::json::parse(*jwk);
  CHECK(j["kty"] == "EC");
  CHECK(j["crv"] == "P-256");
  CHECK(base64url_decode(j["x"].get<std::string>())->size() == 32);
  CHECK(base64url_decode(j["y"].get<std::string>())->size() == 32);
  // Canonical: lexicographic members, no whitespace.
  CHECK(jwk->rfind("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 0) == 0);
  CHECK(jwk->find(' ') == std::string::npos);
  auto tp = jwk_thumbprint(*key);
  REQUIRE(tp);
  CHECK(tp->size() == 43);
  CHECK(*tp == base64url_encode(sha256_raw(*jwk)));

  for (int i = 0; i < 20; ++i) {  // fixed width even when r or s is short
    std::string input = "eyJhbGciOiJFUzI1NiJ9.cGF5bG9hZA" + std::to_string(i);
    auto sig = jws_sign(*key, input);
    REQUIRE(sig);
    CHECK(sig->size() == 64);
    CHECK(verify_es256(*key, input, *sig));
  }
  auto flat = jws_flattened(*key, R"({"alg":"ES256"})", "");
  REQUIRE(flat);
  auto fj = nlohmann::json::parse(*flat);
  CHECK(fj["payload"] == "");
  CHECK(fj["protected"] == base64url_encode(R"({"alg":"ES256"})"));
}

TEST_CASE("RS256 JWK and P-384", "[acme][jws]") {
  auto rsa = PrivateKey::generate(pki::KeyAlgorithm::kRsa, 2048);
  REQUIRE(rsa);
  CHECK(*jws_algorithm(*rsa) == "RS256");
  auto jwk = jwk_json(*rsa);
  REQUIRE(jwk);
  CHECK(jwk->rfind("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"", 0) == 0);
  auto sig = jws_sign(*rsa, "a.b");
  REQUIRE(sig);
  CHECK(sig->size() == 256);
  auto p384 = PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 384);
  REQUIRE(p384);
  CHECK(*jws_algorithm(*p384) == "ES384");
  CHECK(jws_sign(*p384, "a.b")->size() == 96);
  auto p521 = PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 521);
  REQUIRE(p521);
  auto bad = jws_algorithm(*p521);
  REQUIRE(!bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
}
