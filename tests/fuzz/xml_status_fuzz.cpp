// Fuzz target "xml_status": XML a node answers status requests with
// (status.xml, getxml SystemUnit and Warnings, alternatesconfiguration.xml),
// through providers/wire/xml_status.h (libxml2 without network or
// entities). The first byte picks the document; what parses is formatted
// again as edgecert-sim would.
#include <cstddef>
#include <cstdint>

#include "providers/wire/xml_status.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert::wire;
  const auto [choice, body] = edgecert::fuzz::select(edgecert::fuzz::as_text(data, size), 2);
  if (choice == 0) {
    auto doc = xml::parse_status(body);
    if (!doc) return 0;
    for (const auto& w : doc->warnings.value_or(std::vector<xml::Warning>{}))
      (void)xml::alarm_for_reason(w.reason);
    (void)xml::format_status(*doc);
  } else {
    auto alternates = xml::parse_alternates(body);
    if (!alternates) return 0;
    (void)xml::format_alternates(*alternates);
  }
  return 0;
}
