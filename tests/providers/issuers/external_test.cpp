#include <catch2/catch.hpp>

#include "providers/issuers/external.h"
#include "providers/issuers/openssl_ca.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::issuer;

namespace {

std::string csr_pem(const pki::PrivateKey& key) {
  pki::CsrOptions o;
  o.common_name = "core.example.com";
  o.dns_names = {"core.example.com", "core1.example.com"};
  auto csr = pki::CertificateRequest::create(key, o);
  REQUIRE(csr);
  return csr->to_pem();
}

}  // namespace

TEST_CASE("external: writes the CSR, waits, then picks up the matching certificate", "[issuer]") {
  MemoryEnv env;
  auto ext = make_external_issuer(env, "/pki/requests", "/pki/certificates");
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  std::string pem = csr_pem(*key);

  auto first = ext->sign({"tokyo-core", "core1", pem, spec::Digest::kSha256});
  REQUIRE(first);
  CHECK(first->state == SignState::kWaiting);
  CHECK(first->message.find("waiting for signed certificate") != std::string::npos);
  CHECK(first->message.find("/pki/certificates/tokyo-core/core1.pem") != std::string::npos);
  CHECK(*env.read_file("/pki/requests/tokyo-core/core1.csr", kTestRead) == pem);

  // The CA signs it (here: a local CA in memory) and drops it as DER.
  CaInitOptions co;
  co.algorithm = spec::KeyAlgorithm::kEcdsa;
  co.key_size = 256;
  REQUIRE(init_openssl_ca(env, "/ca", co));
  auto signed_out =
      make_openssl_ca_issuer(env, "/ca")->sign({"x", "core1", pem, spec::Digest::kSha256});
  REQUIRE(signed_out);
  env.put("/pki/certificates/tokyo-core/core1.pem", signed_out->chain.front().to_der());

  auto second = ext->sign({"tokyo-core", "core1", pem, spec::Digest::kSha256});
  REQUIRE(second);
  REQUIRE(second->state == SignState::kIssued);
  CHECK(second->chain.front() == signed_out->chain.front());
}

TEST_CASE("external: a certificate for an older key is never picked up", "[issuer]") {
  MemoryEnv env;
  auto ext = make_external_issuer(env, "/req", "/crt");
  auto old_key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  auto new_key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(old_key);
  REQUIRE(new_key);
  CaInitOptions co;
  co.algorithm = spec::KeyAlgorithm::kEcdsa;
  co.key_size = 256;
  REQUIRE(init_openssl_ca(env, "/ca", co));
  auto old_cert = make_openssl_ca_issuer(env, "/ca")
                      ->sign({"c", "n", csr_pem(*old_key), spec::Digest::kSha256});
  REQUIRE(old_cert);
  env.put("/crt/c/n.pem", old_cert->chain.front().to_pem());

  auto out = ext->sign({"c", "n", csr_pem(*new_key), spec::Digest::kSha256});
  REQUIRE(out);
  CHECK(out->state == SignState::kWaiting);
  CHECK(out->message.find("no certificate for the current request") != std::string::npos);
}

TEST_CASE("external: revoke explains that the CA must do it", "[issuer]") {
  MemoryEnv env;
  CaInitOptions co;
  co.algorithm = spec::KeyAlgorithm::kEcdsa;
  co.key_size = 256;
  REQUIRE(init_openssl_ca(env, "/ca", co));
  auto cas = make_openssl_ca_issuer(env, "/ca")->ca_certificates();
  REQUIRE(cas);
  auto st =
      make_external_issuer(env, "/r", "/c")->revoke(cas->front(), RevocationReason::kSuperseded);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("serial") != std::string::npos);
}

TEST_CASE("revocation reasons parse in several spellings", "[issuer]") {
  CHECK(pki::parse_revocation_reason("superseded") == RevocationReason::kSuperseded);
  CHECK(pki::parse_revocation_reason("key-compromise") == RevocationReason::kKeyCompromise);
  CHECK(pki::parse_revocation_reason("keyCompromise") == RevocationReason::kKeyCompromise);
  CHECK_FALSE(pki::parse_revocation_reason("bogus"));
}
