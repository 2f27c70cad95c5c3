// Fuzz target "pki_decode": any file `edgecert show` is given, through
// pki::decode_objects (certificates, requests, CRLs and private keys, PEM or
// DER, detected by content).
#include <cstddef>
#include <cstdint>

#include "providers/pki/decode.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  auto objects = pki::decode_objects(fuzz::as_text(data, size), "fuzz.pem");
  if (!objects) return 0;
  for (const auto& o : *objects) (void)pki::object_kind_name(o.kind);
  return 0;
}
