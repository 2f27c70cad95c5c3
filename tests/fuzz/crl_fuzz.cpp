// Fuzz target "crl": PEM and DER CRLs through pki::Crl::parse_all (strict
// DER, trailing bytes, truncation) and every accessor, including the sorted
// serial index built on the first lookup.
#include <cstddef>
#include <cstdint>

#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  auto crls = pki::Crl::parse_all(fuzz::as_text(data, size), "fuzz.crl");
  if (!crls) return 0;
  for (const auto& crl : *crls) {
    (void)crl.issuer();
    (void)crl.last_update();
    (void)crl.next_update();
    (void)crl.number();
    (void)crl.signature_algorithm();
    const auto entries = crl.revoked();
    (void)crl.entry_count();
    (void)crl.find_revoked("01");
    (void)crl.find_revoked("00");
    for (const auto& e : entries) (void)crl.find_revoked(e.serial_hex);
    (void)crl.is_delta();
    (void)crl.delta_base_number();
    (void)crl.to_pem();
    (void)crl.to_der();
    (void)pki::check_crl(crl, crl.last_update());
  }
  return 0;
}
