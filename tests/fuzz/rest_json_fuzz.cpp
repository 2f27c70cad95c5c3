// Fuzz target "rest_json": JSON a node's REST API answers with, through the
// parsers the https:// provider and edgecert-sim use: wire::rest's
// `{"Message"}` body and generate_csr body (providers/wire/rest_json.h), the
// revocation settings body and error message (providers/rest/rest_api.h) and
// the ACME renewal schedule (providers/rest/cli_settings.h). The first byte
// picks the parser.
#include <cstddef>
#include <cstdint>

#include "providers/rest/cli_settings.h"
#include "providers/rest/rest_api.h"
#include "providers/wire/rest_json.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  const auto [choice, body] = fuzz::select(fuzz::as_text(data, size), 5);
  switch (choice) {
    case 0:
      (void)wire::rest::parse_message(body);
      break;
    case 1:
      if (auto request = wire::rest::decode_generate_csr(body))
        (void)wire::rest::encode_generate_csr(*request);
      break;
    case 2:
      (void)rest::message_of(body);
      break;
    case 3:
      if (auto settings = rest::decode_revocation(body))
        (void)rest::encode_revocation(*settings).dump();
      break;
    default:
      if (auto schedule = rest::detail::schedule_from_json(body))
        (void)rest::detail::schedule_json(*schedule);
      break;
  }
  return 0;
}
