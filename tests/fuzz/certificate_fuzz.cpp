// Fuzz target "certificate": PEM bundles and single DER certificates through
// pki::Certificate::parse_all, then every accessor and the Expressway checks
// `edgecert show` runs on what parsed (extensions, names and times of a
// hostile certificate are read by our code, not only by OpenSSL's parser).
#include <cstddef>
#include <cstdint>
#include <string>

#include "providers/pki/certificate.h"
#include "providers/pki/checks.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  auto certs = pki::Certificate::parse_all(fuzz::as_text(data, size), "fuzz.pem");
  if (!certs) {
    (void)certs.error().message.size();
    return 0;
  }
  for (const auto& c : *certs) {
    (void)c.subject();
    (void)c.issuer();
    (void)c.subject_cn();
    (void)c.issuer_cn();
    (void)c.not_before();
    (void)c.not_after();
    (void)c.is_ca();
    (void)c.is_self_signed();
    (void)c.sha256_fingerprint();
    (void)c.to_pem();
    (void)c.version();
    (void)c.serial_hex();
    (void)c.subject_attributes();
    (void)c.issuer_attributes();
    (void)c.unknown_name_oids();
    (void)c.key_info();
    (void)c.signature_algorithm();
    (void)c.signature_digest();
    (void)c.subject_alt_names();
    (void)c.extended_key_usage();
    (void)c.key_usage();
    (void)c.path_length();
    (void)c.subject_key_id();
    (void)c.authority_key_id();
    (void)c.crl_distribution_points();
    (void)c.ocsp_urls();
    (void)c.is_signed_by(certs->front());
    pki::ServerCheckOptions options;
    options.now = c.not_before();
    (void)pki::check_certificate(c, /*as_ca=*/false, options);
    (void)pki::check_certificate(c, /*as_ca=*/true, options);
  }
  // The same bytes as the one certificate a node serves.
  auto one = pki::Certificate::parse_one(fuzz::as_text(data, size), "fuzz.der");
  if (one) (void)one->to_der();
  return 0;
}
