// Fuzz target "crl_unpack": what a CRL distribution point or a CRL file
// holds, through revocation::unpack_crls: PEM, DER, several CRLs, ZIP and
// GZIP archives (libarchive) with their bomb bounds, HTML and text replies.
#include <cstddef>
#include <cstdint>

#include "providers/revocation/crl_unpack.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  auto crls = revocation::unpack_crls(fuzz::as_text(data, size), "http://crl.example/ca.crl");
  if (!crls) return 0;
  for (const auto& u : *crls) {
    (void)u.crl.entry_count();
    (void)u.format.size();
    (void)u.member.size();
  }
  return 0;
}
