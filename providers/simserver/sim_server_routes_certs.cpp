// The node's liveness, status and certificate resources (docs/rest-mapping.md):
// ping, status, server certificate, trusted CAs, CSR and restart.
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"
#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver::internal {

namespace {

using nlohmann::json;
using Req = NodeRoutes::Req;
using Res = NodeRoutes::Res;

// Certificates as one PEM text, leaf (or first) first.
std::string pems(const std::vector<pki::Certificate>& certs) {
  std::string out;
  for (const auto& c : certs) out += c.to_pem();
  return out;
}

}  // namespace

void install_certificate_routes(httplib::SSLServer& s, NodeRoutes r) {
  s.Get(rest::kPingPath, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.ping(); },
        [&](const std::string& v) {
          res.set_content(json{{"Message", "up"}, {"SoftwareVersion", v}}.dump(),
                          "application/json");
        });
  });
  s.Get(rest::kStatusPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_state(st).dump(), "application/json");
    });
  });
  s.Post(rest::kRestartPath, [r](Req req, Res res) {
    r.confirm(req, res, "Restarting", [](sim::SimNode& sim) { return sim.restart(); });
  });

  s.Get(rest::kServerCertPath, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.served_chain(); },
        [&](const std::vector<pki::Certificate>& chain) {
          res.set_content(pems(chain), "application/x-pem-file");
        });
  });
  s.Post(rest::kServerCertPath, [r](Req req, Res res) {
    if (!require_file(req, res, "file")) return;
    node::CertificateUpload up;
    up.chain_pem = req.get_file_value("file").content;
    if (req.has_file("key")) up.key = pki::SecretString(req.get_file_value("key").content);
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.upload_server_certificate(up); },
        [&](const node::UploadResult& u) {
          res.set_content(rest::encode_upload_result(u).dump(), "application/json");
        });
  });

  s.Get(rest::kRootCertsPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(pems(st.trusted_cas), "application/x-pem-file");
    });
  });
  s.Post(rest::kRootCertsPath, [r](Req req, Res res) {
    if (!require_file(req, res, "file")) return;
    std::string bundle = req.get_file_value("file").content;
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.append_trusted_cas(bundle); },
        [&](const node::AppendCasResult& a) {
          res.set_content(rest::encode_append_result(a).dump(), "application/json");
        });
  });
  s.Post(rest::kTrustedCaResetPath, [r](Req req, Res res) {
    r.confirm(req, res, "Trusted CA list reset to default",
              [](sim::SimNode& sim) { return sim.reset_trusted_cas(); });
  });
  s.Delete(std::string(rest::kTrustedCaPath) + "/([0-9A-Fa-f:]+)", [r](Req req, Res res) {
    std::string fp = req.matches[1];
    r.confirm(req, res, "CA certificate deleted",
              [&](sim::SimNode& sim) { return sim.delete_trusted_ca(fp); });
  });

  s.Get(rest::kGenerateCsrPath, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      if (!st.pending_csr) return send_message(res, 404, "no CSR is in progress");
      res.set_content(st.pending_csr->pem, "application/x-pem-file");
    });
  });
  s.Post(rest::kGenerateCsrPath, [r](Req req, Res res) {
    auto csr = rest::decode_csr_request(req.body);
    if (!csr) return send_message(res, 400, csr.error().message);
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.generate_csr(*csr); },
        [&](const std::string& pem) {
          res.set_content(json{{"Message", "CSR generated"}, {"CSR", pem}}.dump(),
                          "application/json");
        });
  });
  s.Delete(rest::kGenerateCsrPath, [r](Req req, Res res) {
    r.confirm(req, res, "CSR discarded", [](sim::SimNode& sim) { return sim.discard_csr(); });
  });
}

}  // namespace edgecert::simserver::internal
