#include "reconciler/cli/wiring.h"

#include <mutex>

#include <fmt/core.h>

#include "providers/issuer/issuer.h"
#include "providers/issuers/acme_issuer.h"
#include "providers/issuers/expressway_acme.h"
#include "providers/issuers/external.h"
#include "providers/issuers/openssl_ca.h"
#include "providers/node/node.h"
#include "providers/rest/rest_provider.h"
#include "providers/sim/sim_provider.h"

namespace edgecert::cli {
namespace {

using issuer::Issuer;
using issuer::IssuerContext;

Result<std::unique_ptr<Issuer>> open_openssl_ca(const spec::Spec& s, IssuerContext& ctx) {
  const auto& cfg = std::get<spec::OpensslCaIssuer>(s.server_certificate.issuer);
  if (!issuer::openssl_ca_exists(ctx.env, cfg.directory))
    return make_error(ErrorCode::kNotFound,
                      fmt::format("openssl-ca: no CA in {} (create one with 'edgecert ca init {}')",
                                  cfg.directory, cfg.directory));
  return issuer::make_openssl_ca_issuer(ctx.env, cfg.directory);
}

Result<std::unique_ptr<Issuer>> open_external(const spec::Spec& s, IssuerContext& ctx) {
  const auto& cfg = std::get<spec::ExternalIssuer>(s.server_certificate.issuer);
  return issuer::make_external_issuer(ctx.env, cfg.requests_dir, cfg.certificates_dir);
}

Result<std::unique_ptr<Issuer>> open_acme(const spec::Spec& s, IssuerContext& ctx) {
  const auto& cfg = std::get<spec::AcmeIssuer>(s.server_certificate.issuer);
  // The account key lives in the cluster's state folder; the reconciler owns
  // where that is.
  if (ctx.state_dir.empty())
    return make_error(ErrorCode::kInternal,
                      "acme issuer: opened without the cluster's state folder");
  issuer::AcmeIssuerOptions o;
  o.state_dir = ctx.state_dir;
  return issuer::make_acme_issuer(ctx.env, cfg, std::move(o));
}

Result<std::unique_ptr<Issuer>> open_expressway_acme(const spec::Spec& s, IssuerContext&) {
  return issuer::make_expressway_acme_issuer(s.acme ? s.acme->provider_name : "");
}

}  // namespace

void register_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    node::register_node_provider("sim", sim::make_sim_node_provider);
    node::register_node_provider("https", rest::make_https_node_provider);
    issuer::register_issuer("openssl-ca", open_openssl_ca);
    issuer::register_issuer("external", open_external);
    issuer::register_issuer("acme", open_acme);
    issuer::register_issuer("expressway-acme", open_expressway_acme);
  });
}

}  // namespace edgecert::cli
