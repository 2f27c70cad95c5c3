#include "providers/issuer/issuer.h"

#include <map>
#include <mutex>

#include <fmt/core.h>

#include "providers/issuer/acme_issuer.h"
#include "providers/issuer/expressway_acme.h"
#include "providers/issuer/external.h"
#include "providers/issuer/openssl_ca.h"

namespace edgecert::issuer {
namespace {

constexpr std::pair<RevocationReason, const char*> kReasons[] = {
    {RevocationReason::kUnspecified, "unspecified"},
    {RevocationReason::kKeyCompromise, "keyCompromise"},
    {RevocationReason::kAffiliationChanged, "affiliationChanged"},
    {RevocationReason::kSuperseded, "superseded"},
    {RevocationReason::kCessationOfOperation, "cessationOfOperation"},
};

std::map<std::string, IssuerFactory>& registry() {
  static std::map<std::string, IssuerFactory> r;
  return r;
}

void register_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_issuer(
        "openssl-ca",
        [](const spec::Spec& s, IssuerContext& ctx) -> Result<std::unique_ptr<Issuer>> {
          const auto& cfg = std::get<spec::OpensslCaIssuer>(s.server_certificate.issuer);
          if (!openssl_ca_exists(ctx.env, cfg.directory))
            return make_error(ErrorCode::kNotFound,
                              fmt::format("openssl-ca: no CA in {} (create one with 'edgecert ca "
                                          "init {}')",
                                          cfg.directory, cfg.directory));
          return make_openssl_ca_issuer(ctx.env, cfg.directory);
        });
    register_issuer("external",
                    [](const spec::Spec& s, IssuerContext& ctx) -> Result<std::unique_ptr<Issuer>> {
                      const auto& cfg = std::get<spec::ExternalIssuer>(s.server_certificate.issuer);
                      return make_external_issuer(ctx.env, cfg.requests_dir, cfg.certificates_dir);
                    });
    register_issuer("acme",
                    [](const spec::Spec& s, IssuerContext& ctx) -> Result<std::unique_ptr<Issuer>> {
                      const auto& cfg = std::get<spec::AcmeIssuer>(s.server_certificate.issuer);
                      // The account key lives in the cluster's state folder; the
                      // reconciler owns where that is.
                      if (ctx.state_dir.empty())
                        return make_error(ErrorCode::kInternal,
                                          "acme issuer: opened without the cluster's state folder");
                      AcmeIssuerOptions o;
                      o.state_dir = ctx.state_dir;
                      return make_acme_issuer(ctx.env, cfg, std::move(o));
                    });
    register_issuer("expressway-acme",
                    [](const spec::Spec& s, IssuerContext&) -> Result<std::unique_ptr<Issuer>> {
                      return make_expressway_acme_issuer(s.acme ? s.acme->provider_name : "");
                    });
  });
}

std::string normalize_reason(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* revocation_reason_name(RevocationReason r) {
  for (auto& [reason, name] : kReasons)
    if (reason == r) return name;
  return "unspecified";
}

std::optional<RevocationReason> parse_revocation_reason(const std::string& s) {
  for (auto& [reason, name] : kReasons)
    if (normalize_reason(name) == normalize_reason(s)) return reason;
  return std::nullopt;
}

void register_issuer(const std::string& type, IssuerFactory factory) {
  registry()[type] = std::move(factory);
}

Result<std::unique_ptr<Issuer>> open_issuer(const spec::Spec& spec, IssuerContext& context) {
  register_builtins();
  std::string type = spec::issuer_type_name(spec.server_certificate.issuer);
  auto it = registry().find(type);
  if (it == registry().end())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("issuer type '{}' is not available in this build", type));
  return it->second(spec, context);
}

}  // namespace edgecert::issuer
