// The node's settings resources (docs/rest-mapping.md): revocation checking,
// CRL settings and the manual CRL, TLS verification, and the ACME service.
#include "providers/rest/rest_api.h"
#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver::internal {

namespace {

using Req = NodeRoutes::Req;
using Res = NodeRoutes::Res;

void install_revocation_routes(httplib::SSLServer& s, NodeRoutes r) {
  s.Get(rest::kRevocationPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_revocation(st.revocation).dump(), "application/json");
    });
  });
  s.Put(rest::kRevocationPath, [r](Req req, Res res) {
    r.confirm_decoded(
        req, res, rest::decode_revocation, "Revocation checking updated",
        [](sim::SimNode& sim, const auto& v) { return sim.set_revocation_checking(v); });
  });
  s.Get(rest::kCrlSettingsPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_crl_settings(st.crl).dump(), "application/json");
    });
  });
  s.Put(rest::kCrlSettingsPath, [r](Req req, Res res) {
    r.confirm_decoded(req, res, rest::decode_crl_settings, "CRL settings updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_crl_settings(v); });
  });
  s.Post(rest::kManualCrlPath, [r](Req req, Res res) {
    if (!require_file(req, res, "file")) return;
    std::string data = req.get_file_value("file").content;
    r.confirm(req, res, "CRL file uploaded",
              [&](sim::SimNode& sim) { return sim.upload_manual_crl(data); });
  });
  s.Delete(rest::kManualCrlPath, [r](Req req, Res res) {
    r.confirm(req, res, "CRL file removed",
              [](sim::SimNode& sim) { return sim.remove_manual_crl(); });
  });
  s.Get(rest::kClusterTlsPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_tls_verification(st.tls_verification).dump(),
                      "application/json");
    });
  });
  s.Put(rest::kClusterTlsPath, [r](Req req, Res res) {
    r.confirm_decoded(req, res, rest::decode_tls_verification, "TLS verification mode updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_tls_verification(v); });
  });
}

void install_acme_routes(httplib::SSLServer& s, NodeRoutes r) {
  s.Get(rest::kAcmeSettingsPath, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.acme_settings(); },
        [&](const node::AcmeSettings& a) {
          res.set_content(rest::encode_acme_settings(a).dump(), "application/json");
        });
  });
  s.Put(rest::kAcmeSettingsPath, [r](Req req, Res res) {
    r.confirm_decoded(req, res, rest::decode_acme_settings, "ACME settings updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_acme_settings(v); });
  });
  s.Post(rest::kAcmeDeployPath, [r](Req req, Res res) {
    r.confirm(req, res, "Pending ACME certificate deployed",
              [](sim::SimNode& sim) { return sim.acme_deploy(); });
  });
  s.Post(rest::kAcmePendingCertPath, [r](Req req, Res res) {
    r.confirm(req, res, "Signed; the ACME certificate is pending",
              [](sim::SimNode& sim) { return sim.acme_sign(); });
  });
  s.Get(rest::kAcmePendingCertPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      if (!st.acme_status.pending_certificate_pem)
        return send_message(res, 404, "no ACME certificate is pending");
      res.set_content(*st.acme_status.pending_certificate_pem, "application/x-pem-file");
    });
  });
  s.Delete(rest::kAcmePendingCertPath, [r](Req req, Res res) {
    r.confirm(req, res, "Pending ACME certificate deleted",
              [](sim::SimNode& sim) { return sim.acme_discard_pending(); });
  });
  s.Post(rest::kAcmeRevokePath, [r](Req req, Res res) {
    r.confirm_decoded(req, res, rest::decode_acme_revoke, "Revoked",
                      [](sim::SimNode& sim, const auto& v) {
                        return sim.acme_revoke(v.certificate_pem, v.reason);
                      });
  });
}

}  // namespace

void install_settings_routes(httplib::SSLServer& s, NodeRoutes r) {
  install_revocation_routes(s, r);
  install_acme_routes(s, r);
}

}  // namespace edgecert::simserver::internal
