// Fuzz target "xacli": what the Expressway's CLI answers over SSH, through
// providers/wire/xacli.h (replies with status trees, configuration lines,
// result blocks, escapes; command lines as edgecert-sim reads them) and the
// https:// provider's readers of those replies (providers/rest/
// cli_settings.h). The first byte picks reply or command line.
#include <cstddef>
#include <cstdint>

#include "providers/rest/cli_settings.h"
#include "providers/wire/xacli.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  namespace xacli = wire::xacli;
  const auto [choice, text] = fuzz::select(fuzz::as_text(data, size), 3);
  if (choice == 2) {
    if (auto command = xacli::parse_command(text)) {
      (void)xacli::format_command(*command);
      (void)command->arg("Mode");
    }
    return 0;
  }
  auto reply =
      choice == 0 ? xacli::parse_reply(text) : xacli::parse_reply(text, "xStatus SystemUnit");
  if (!reply) return 0;
  (void)xacli::format_reply(*reply);
  (void)rest::detail::revocation_from_reply(*reply);
  (void)rest::detail::acme_provider_uuid(*reply);
  (void)rest::detail::acme_settings_from(*reply, *reply);
  (void)rest::detail::acme_pending_certificate(*reply);
  (void)rest::detail::alternates_from_reply(*reply);
  (void)rest::detail::system_unit_from_reply(*reply);
  for (const auto& block : reply->status) (void)xacli::field(block.children, "Version", "version");
  return 0;
}
