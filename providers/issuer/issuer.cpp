#include "providers/issuer/issuer.h"

#include <fmt/core.h>

#include "providers/base/registry.h"

namespace edgecert::issuer {
namespace {

Registry<IssuerFactory>& registry() {
  static Registry<IssuerFactory> r;
  return r;
}

}  // namespace

void register_issuer(const std::string& type, IssuerFactory factory) {
  registry().add(type, std::move(factory));
}

Result<std::unique_ptr<Issuer>> open_issuer(const spec::Spec& spec, IssuerContext& context) {
  std::string type = spec::issuer_type_name(spec.server_certificate.issuer);
  std::optional<IssuerFactory> factory = registry().find(type);
  if (!factory)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("issuer type '{}' is not available in this build", type));
  return (*factory)(spec, context);
}

}  // namespace edgecert::issuer
