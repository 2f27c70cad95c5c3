// REMOVED ONCE THE NEW https:// PROVIDER LANDS (issue 11).
//
// edgecert's invented resources under /api/provisioning/edgecert/* (status,
// ping, trusted CA delete/reset, CRL settings, manual CRL, cluster TLS, ACME
// settings and revoke) and the old provider's reading of the paths the
// reference also serves (a CSR body with KeyType and ReuseCurrentPrivateKey,
// upload and append replies with StagedSha256/Added, DELETE generate_csr,
// the old messages and content types), moved here unchanged from sim_server_routes_certs.cpp and
// sim_server_routes_settings.cpp: the old https:// provider on main
// (providers/rest/rest_api.h, docs/rest-mapping.md) still uses them. The old
// provider is told from the new one by its `Accept: application/json,
// application/x-pem-file, */*`; any other client meets the invented
// resources as unrecognised (404, recorded). To remove: delete this file, the
// declaration of install_legacy_routes in sim_server_internal.h and its one
// call in sim_server_http.cpp.
#include <sys/socket.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"
#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver::internal {

namespace {

using nlohmann::json;
using Req = NodeRoutes::Req;
using Res = NodeRoutes::Res;

// --- The old replies --------------------------------------------------------

void legacy_message(httplib::Response& res, int status, std::string_view text) {
  res.status = status;
  res.set_content(rest::message_body(text), "application/json");
}

void legacy_error(const httplib::Request& req, httplib::Response& res, const Error& e) {
  if (drop_connection_for(req, res, e)) return;
  legacy_message(res, rest::status_for(e.code), e.message);
}

bool require_file(const httplib::Request& req, httplib::Response& res, const char* field) {
  if (req.has_file(field)) return true;
  legacy_message(res, 400, fmt::format("multipart form field '{}' is required", field));
  return false;
}

// Certificates as one PEM text, leaf (or first) first.
std::string pems(const std::vector<pki::Certificate>& certs) {
  std::string out;
  for (const auto& c : certs) out += c.to_pem();
  return out;
}

// The old NodeRoutes conveniences.
struct Legacy {
  NodeRoutes r;

  template <class Call>
  void confirm(Req req, Res res, const char* ok_text, Call&& call) const {
    r.run(req, res, call, [&](auto) { legacy_message(res, 200, ok_text); });
  }
  template <class Decode, class Call>
  void confirm_decoded(Req req, Res res, Decode&& decode, const char* ok_text, Call&& call) const {
    auto arg = decode(req.body);
    if (!arg) return legacy_message(res, 400, arg.error().message);
    confirm(req, res, ok_text, [&](sim::SimNode& sim) { return call(sim, *arg); });
  }
};

// --- Paths the reference also serves, the old way ---------------------------------

void legacy_upload(Legacy l, Req req, Res res) {
  if (!require_file(req, res, "file")) return;
  node::CertificateUpload up;
  up.chain_pem = req.get_file_value("file").content;
  if (req.has_file("key")) up.key = pki::SecretString(req.get_file_value("key").content);
  l.r.run(
      req, res, [&](sim::SimNode& sim) { return sim.upload_server_certificate(up); },
      [&](const node::UploadResult& u) {
        res.set_content(rest::encode_upload_result(u).dump(), "application/json");
      });
}

void legacy_append(Legacy l, Req req, Res res) {
  if (!require_file(req, res, "file")) return;
  std::string bundle = req.get_file_value("file").content;
  l.r.run(
      req, res, [&](sim::SimNode& sim) { return sim.append_trusted_cas(bundle); },
      [&](const node::AppendCasResult& a) {
        res.set_content(rest::encode_append_result(a).dump(), "application/json");
      });
}

void legacy_generate_csr(Legacy l, Req req, Res res) {
  auto csr = rest::decode_csr_request(req.body);
  if (!csr) return legacy_message(res, 400, csr.error().message);
  l.r.run(
      req, res, [&](sim::SimNode& sim) { return sim.generate_csr(*csr); },
      [&](const std::string& pem) {
        res.set_content(json{{"Message", "CSR generated"}, {"CSR", pem}}.dump(),
                        "application/json");
      });
}

void legacy_served_chain(Legacy l, Req req, Res res) {
  l.r.run(
      req, res, [](sim::SimNode& sim) { return sim.served_chain(); },
      [&](const std::vector<pki::Certificate>& chain) {
        res.set_content(pems(chain), "application/x-pem-file");
      });
}

// --- The invented resources -------------------------------------------------------

void install_status_routes(RouteTable& s, Legacy l) {
  s.Get(rest::kPingPath, [l](Req req, Res res) {
    l.r.run(
        req, res, [](sim::SimNode& sim) { return sim.ping(); },
        [&](const std::string& v) {
          res.set_content(json{{"Message", "up"}, {"SoftwareVersion", v}}.dump(),
                          "application/json");
        });
  });
  s.Get(rest::kStatusPath, [l](Req req, Res res) {
    l.r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_state(st).dump(), "application/json");
    });
  });
  s.Post(rest::kTrustedCaResetPath, [l](Req req, Res res) {
    l.confirm(req, res, "Trusted CA list reset to default",
              [](sim::SimNode& sim) { return sim.reset_trusted_cas(); });
  });
  s.Delete(std::string(rest::kTrustedCaPath) + "/([0-9A-Fa-f:]+)", [l](Req req, Res res) {
    std::string fp = req.matches[1];
    l.confirm(req, res, "CA certificate deleted",
              [&](sim::SimNode& sim) { return sim.delete_trusted_ca(fp); });
  });
  s.Delete(rest::kGenerateCsrPath, [l](Req req, Res res) {
    l.confirm(req, res, "CSR discarded", [](sim::SimNode& sim) { return sim.discard_csr(); });
  });
}

void install_settings_routes(RouteTable& s, Legacy l) {
  s.Get(rest::kCrlSettingsPath, [l](Req req, Res res) {
    l.r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_crl_settings(st.crl).dump(), "application/json");
    });
  });
  s.Put(rest::kCrlSettingsPath, [l](Req req, Res res) {
    l.confirm_decoded(req, res, rest::decode_crl_settings, "CRL settings updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_crl_settings(v); });
  });
  s.Post(rest::kManualCrlPath, [l](Req req, Res res) {
    if (!require_file(req, res, "file")) return;
    std::string data = req.get_file_value("file").content;
    l.confirm(req, res, "CRL file uploaded",
              [&](sim::SimNode& sim) { return sim.upload_manual_crl(data); });
  });
  s.Delete(rest::kManualCrlPath, [l](Req req, Res res) {
    l.confirm(req, res, "CRL file removed",
              [](sim::SimNode& sim) { return sim.remove_manual_crl(); });
  });
  s.Get(rest::kClusterTlsPath, [l](Req req, Res res) {
    l.r.state(req, res, [&](const node::NodeState& st) {
      res.set_content(rest::encode_tls_verification(st.tls_verification).dump(),
                      "application/json");
    });
  });
  s.Put(rest::kClusterTlsPath, [l](Req req, Res res) {
    l.confirm_decoded(req, res, rest::decode_tls_verification, "TLS verification mode updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_tls_verification(v); });
  });
  s.Get(rest::kAcmeSettingsPath, [l](Req req, Res res) {
    l.r.run(
        req, res, [](sim::SimNode& sim) { return sim.acme_settings(); },
        [&](const node::AcmeSettings& a) {
          res.set_content(rest::encode_acme_settings(a).dump(), "application/json");
        });
  });
  s.Put(rest::kAcmeSettingsPath, [l](Req req, Res res) {
    l.confirm_decoded(req, res, rest::decode_acme_settings, "ACME settings updated",
                      [](sim::SimNode& sim, const auto& v) { return sim.set_acme_settings(v); });
  });
  s.Post(rest::kAcmeRevokePath, [l](Req req, Res res) {
    l.confirm_decoded(req, res, rest::decode_acme_revoke, "Revoked",
                      [](sim::SimNode& sim, const auto& v) {
                        return sim.acme_revoke(v.certificate_pem, v.reason);
                      });
  });
}

bool legacy_client(const httplib::Request& req) {
  return req.get_header_value("Accept").find("application/x-pem-file") != std::string::npos;
}

// The old provider's handler for a path the reference also serves, or none.
httplib::Server::Handler legacy_shared(Legacy l, NodeServer& n, const std::string& m,
                                       const std::string& p) {
  using H = httplib::Server::Handler;
  if (m == "POST" && p == rest::kServerCertPath)
    return H([l](Req req, Res res) { legacy_upload(l, req, res); });
  if (m == "GET" && p == rest::kServerCertPath)
    return H([l](Req req, Res res) { legacy_served_chain(l, req, res); });
  if (m == "POST" && p == rest::kRootCertsPath)
    return H([l](Req req, Res res) { legacy_append(l, req, res); });
  if (m == "GET" && p == rest::kRootCertsPath) {
    return H([l](Req req, Res res) {
      l.r.state(req, res, [&](const node::NodeState& st) {
        res.set_content(pems(st.trusted_cas), "application/x-pem-file");
      });
    });
  }
  if (m == "POST" && p == rest::kGenerateCsrPath)
    return H([l](Req req, Res res) { legacy_generate_csr(l, req, res); });
  if (m == "GET" && p == rest::kGenerateCsrPath) {
    return H([l](Req req, Res res) {
      l.r.state(req, res, [&](const node::NodeState& st) {
        if (!st.pending_csr) return legacy_message(res, 404, "no CSR is in progress");
        res.set_content(st.pending_csr->pem, "application/x-pem-file");
      });
    });
  }
  if (m == "POST" && p == rest::kRestartPath) {
    return H([l, &n](Req req, Res res) {
      l.confirm(req, res, "Restarting", [](sim::SimNode& sim) { return sim.restart(); });
      if (res.status == 200 && n.shared.wake_supervisor) n.shared.wake_supervisor();
    });
  }
  if (m == "GET" && p == rest::kRevocationPath) {
    return H([l](Req req, Res res) {
      l.r.state(req, res, [&](const node::NodeState& st) {
        res.set_content(rest::encode_revocation(st.revocation).dump(), "application/json");
      });
    });
  }
  if (m == "PUT" && p == rest::kRevocationPath) {
    return H([l](Req req, Res res) {
      l.confirm_decoded(
          req, res, rest::decode_revocation, "Revocation checking updated",
          [](sim::SimNode& sim, const auto& v) { return sim.set_revocation_checking(v); });
    });
  }
  if (m == "POST" && p == rest::kAcmeDeployPath) {
    return H([l](Req req, Res res) {
      l.confirm(req, res, "Pending ACME certificate deployed",
                [](sim::SimNode& sim) { return sim.acme_deploy(); });
    });
  }
  if (m == "POST" && p == rest::kAcmePendingCertPath) {
    return H([l](Req req, Res res) {
      l.confirm(req, res, "Signed; the ACME certificate is pending",
                [](sim::SimNode& sim) { return sim.acme_sign(); });
    });
  }
  if (m == "GET" && p == rest::kAcmePendingCertPath) {
    return H([l](Req req, Res res) {
      l.r.state(req, res, [&](const node::NodeState& st) {
        if (!st.acme_status.pending_certificate_pem)
          return legacy_message(res, 404, "no ACME certificate is pending");
        res.set_content(*st.acme_status.pending_certificate_pem, "application/x-pem-file");
      });
    });
  }
  if (m == "DELETE" && p == rest::kAcmePendingCertPath) {
    return H([l](Req req, Res res) {
      l.confirm(req, res, "Pending ACME certificate deleted",
                [](sim::SimNode& sim) { return sim.acme_discard_pending(); });
    });
  }
  return nullptr;
}

}  // namespace

void install_legacy_routes(httplib::SSLServer& s, NodeServer& n) {
  Legacy l{NodeRoutes(n, &legacy_error)};
  // The paths both use: the old provider the old way, anyone else the new.
  for (Route& route : rest_routes(NodeRoutes(n))) {
    httplib::Server::Handler old = legacy_shared(l, n, route.method, route.path);
    if (!old) continue;
    route.handler = [old, fresh = route.handler](Req req, Res res) {
      legacy_client(req) ? old(req, res) : fresh(req, res);
    };
    add_route(s, route);
  }
  // The invented resources: the old provider only.
  RouteTable invented;
  install_status_routes(invented, l);
  install_settings_routes(invented, l);
  for (Route& route : invented.routes) {
    route.handler = [&n, old = route.handler](Req req, Res res) {
      legacy_client(req) ? old(req, res) : reply_unrecognised(n, req, res);
    };
    add_route(s, route);
  }
}

}  // namespace edgecert::simserver::internal
