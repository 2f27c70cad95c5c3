// SimNode's revocation settings: CRL updates (automatic and the manual CRL),
// revocation checking, and the cluster's TLS verification mode.
#include <fmt/core.h>

#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "providers/pki/spki.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim {

using internal::invalid;
using internal::OpContext;
using internal::run_op;

namespace internal {

std::optional<node::UploadWarning> unknown_crl_warning(const State& s,
                                                       const pki::Certificate& leaf) {
  if (!s.revocation.enabled || !s.revocation.crl) return std::nullopt;
  bool known = s.crl.automatic_updates && !s.crl.distribution_points.empty();
  if (!known && s.manual_crl_hex) {
    auto crls = pki::Crl::parse_all(from_hex(*s.manual_crl_hex), "manual CRL");
    if (crls) {
      for (const pki::Crl& crl : *crls) known = known || crl.issuer() == leaf.issuer();
    }
  }
  if (known) return std::nullopt;
  return node::UploadWarning{
      "unknown-crl",
      fmt::format("no CRL is known for the issuer {} of the certificate", leaf.issuer())};
}

}  // namespace internal

namespace {

// The appliance's limit for an uploaded CRL file.
constexpr size_t kMaxManualCrlBytes = 16 * 1024 * 1024;

}  // namespace

Status SimNode::set_crl_settings(const node::CrlSettings& settings) {
  return run_op(files(), "set_crl_settings", [&](OpContext& c) -> Status {
    for (const std::string& url : settings.distribution_points) {
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return std::unexpected(
            invalid(fmt::format("CRL distribution point '{}' must be an HTTP or HTTPS URL", url)));
      }
    }
    if (settings.daily_update_minute < 0 || settings.daily_update_minute >= 24 * 60) {
      return std::unexpected(invalid("daily update time must be between 00:00 and 23:59"));
    }
    c.state.crl = settings;
    c.changed = true;
    c.details["automatic_updates"] = settings.automatic_updates;
    c.details["distribution_points"] = settings.distribution_points;
    return {};
  });
}

Status SimNode::upload_manual_crl(std::string_view data) {
  return run_op(files(), "upload_manual_crl", [&](OpContext& c) -> Status {
    if (data.size() >= kMaxManualCrlBytes) {
      return std::unexpected(invalid("the CRL file must be smaller than 16 MB"));
    }
    auto crls = pki::Crl::parse_all(data, "CRL file");
    if (!crls) return std::unexpected(invalid(crls.error().message));
    c.state.manual_crl_hex = internal::to_hex(data);
    c.changed = true;
    c.details["sha256"] = pki::sha256_fingerprint(data);
    return {};
  });
}

Status SimNode::remove_manual_crl() {
  return run_op(files(), "remove_manual_crl", [](OpContext& c) -> Status {
    if (!c.state.manual_crl_hex)
      return make_error(ErrorCode::kNotFound, "no manual CRL is installed");
    c.state.manual_crl_hex.reset();
    c.changed = true;
    return {};
  });
}

Status SimNode::set_revocation_checking(const spec::RevocationChecking& settings) {
  return run_op(files(), "set_revocation_checking", [&](OpContext& c) -> Status {
    c.state.revocation = settings;
    c.changed = true;
    c.details["enabled"] = settings.enabled;
    return {};
  });
}

Status SimNode::set_tls_verification(spec::TlsVerification mode) {
  return run_op(files(), "set_tls_verification", [&](OpContext& c) -> Status {
    c.state.tls = mode;
    c.changed = true;
    c.details["mode"] = spec::tls_verification_name(mode);
    return {};
  });
}

}  // namespace edgecert::sim
