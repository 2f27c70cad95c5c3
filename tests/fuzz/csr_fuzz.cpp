// Fuzz target "csr": a certificate request (PEM or DER, what a node returns
// from "generate CSR") through pki::CertificateRequest::parse, its accessors
// and the checks run before signing.
#include <cstddef>
#include <cstdint>

#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  auto csr = pki::CertificateRequest::parse(fuzz::as_text(data, size), "fuzz.csr");
  if (!csr) return 0;
  (void)csr->subject();
  (void)csr->subject_cn();
  (void)csr->subject_attributes();
  (void)csr->key_info();
  (void)csr->signature_algorithm();
  (void)csr->signature_digest();
  (void)csr->subject_alt_names();
  (void)csr->extended_key_usage();
  (void)csr->key_usage();
  (void)csr->signature_valid();
  (void)csr->to_pem();
  (void)csr->to_der();
  (void)pki::check_request(*csr);
  return 0;
}
