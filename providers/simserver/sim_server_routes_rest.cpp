// The REST API under /api/provisioning as the interface reference (§3.2)
// describes it, and GET /api/raml describing what is served here.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"
#include "providers/simserver/sim_server_internal.h"
#include "providers/wire/rest_json.h"

namespace edgecert::simserver::internal {

namespace {

using nlohmann::json;
using Req = NodeRoutes::Req;
using Res = NodeRoutes::Res;

constexpr const char* kServerCert = "/api/provisioning/certs/server";
constexpr const char* kRootCerts = "/api/provisioning/certs/root";
constexpr const char* kGenerateCsr = "/api/provisioning/certs/generate_csr";
constexpr const char* kRestart = "/api/provisioning/restart";
constexpr const char* kRevocation = "/api/provisioning/common/protocol/sip/certrevokecheck";
constexpr const char* kAcmePending = "/api/provisioning/certs/acme/pendingcert";
constexpr const char* kAcmeDeploy = "/api/provisioning/certs/acme/pendingcert/deploy";

// The RAML a node serves at /api/raml: exactly the resources above [assumed
// shape: RAML 0.8, resources nested by path segment, methods without bodies].
constexpr const char* kRaml = R"(#%RAML 0.8
title: Cisco Expressway REST API (edgecert-sim)
version: v1
baseUri: https://{host}/api
/provisioning:
  /certs:
    /server:
      get:
      post:
    /root:
      get:
      post:
    /generate_csr:
      get:
      post:
    /acme:
      /pendingcert:
        get:
        post:
        delete:
        /deploy:
          post:
  /common:
    /protocol:
      /sip:
        /certrevokecheck:
          get:
          put:
  /restart:
    post:
)";

std::string pems(const std::vector<pki::Certificate>& certs) {
  std::string out;
  for (const auto& c : certs) out += c.to_pem();
  return out;
}

void ok(Res res, std::string_view message) {
  send_message(res, 200, message);
}

// A multipart field, or a 400 naming it.
std::optional<std::string> file_field(Req req, Res res, const char* field) {
  if (req.has_file(field)) return req.get_file_value(field).content;
  send_message(res, 400, fmt::format("Bad Request: multipart form field '{}' is required", field));
  return std::nullopt;
}

node::CsrRequest csr_request(const wire::rest::GenerateCsrRequest& g, const std::string& fqdn) {
  node::CsrRequest r;
  r.common_name = g.common_name.value_or(fqdn);
  r.dns_names = g.additional_fqdns;
  r.subject.country = g.country;
  r.subject.state = g.province;
  r.subject.locality = g.locality;
  r.subject.organization = g.organization;
  r.subject.organizational_unit = g.organizational_unit;
  r.subject.email = g.email;
  r.key_algorithm = g.public_key_algorithm;
  r.key_size = g.key_length;
  r.digest = g.digest;
  return r;
}

void certificate_routes(RouteTable& s, NodeRoutes r) {
  // The stored certificate: the staged one after an upload, while TLS still
  // serves the active one until the restart [assumed].
  s.Get(kServerCert, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      send_pem(res, pems(st.staged_chain.empty() ? st.server_chain : st.staged_chain));
    });
  });
  s.Post(kServerCert, [r](Req req, Res res) {
    auto file = file_field(req, res, "file");
    if (!file) return;
    node::CertificateUpload up;
    up.chain_pem = *file;
    if (req.has_file("key")) up.key = pki::SecretString(req.get_file_value("key").content);
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.upload_server_certificate(up); },
        [&](const node::UploadResult&) { ok(res, "OK"); });
  });

  s.Get(kRootCerts, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) { send_pem(res, pems(st.trusted_cas)); });
  });
  s.Post(kRootCerts, [r](Req req, Res res) {
    auto file = file_field(req, res, "file");
    if (!file) return;
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.append_trusted_cas(*file); },
        [&](const node::AppendCasResult&) { ok(res, "Root Certificate updated."); });
  });

  s.Get(kGenerateCsr, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      if (!st.pending_csr) return send_message(res, 404, "Not Found");
      send_pem(res, st.pending_csr->pem);
    });
  });
  s.Post(kGenerateCsr, [r](Req req, Res res) {
    auto g = wire::rest::decode_generate_csr(req.body);
    if (!g) return send_message(res, 400, "Bad Request: " + g.error().message);
    const node::CsrRequest csr = csr_request(*g, r.node().listener.fqdn);
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.generate_csr(csr); },
        [&](const std::string&) { ok(res, "OK"); });
  });
}

void node_routes(RouteTable& s, NodeRoutes r) {
  s.Post(kRestart, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.restart(); },
        [&](bool) { ok(res, "The operation was successful"); });
    if (res.status == 200 && r.node().shared.wake_supervisor) r.node().shared.wake_supervisor();
  });
  s.Get(kRevocation, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      // The body the https:// provider reads and writes (rest_api.h): the
      // CLI's five leaves as JSON [assumed].
      res.set_content(rest::encode_revocation(st.revocation).dump(), "application/json");
    });
  });
  s.Put(kRevocation, [r](Req req, Res res) {
    auto v = rest::decode_revocation(req.body);
    if (!v) return send_message(res, 400, "Bad Request: " + v.error().message);
    r.run(
        req, res, [&](sim::SimNode& sim) { return sim.set_revocation_checking(*v); },
        [&](bool) { ok(res, "OK"); });
  });
  s.Get("/api/raml", [](Req, Res res) {
    res.status = 200;
    res.set_content(kRaml, "application/raml+yaml");
  });
}

// The REST alternative to the CLI's ACME Sign / Get / Delete Pending Cert /
// Deploy (reference §2).
void acme_routes(RouteTable& s, NodeRoutes r) {
  s.Post(kAcmeDeploy, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.acme_deploy(); },
        [&](bool) { ok(res, "OK"); });
  });
  s.Post(kAcmePending, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.acme_sign(); }, [&](bool) { ok(res, "OK"); });
  });
  s.Get(kAcmePending, [r](Req req, Res res) {
    r.state(req, res, [&](const node::NodeState& st) {
      if (!st.acme_status.pending_certificate_pem) return send_message(res, 404, "Not Found");
      send_pem(res, *st.acme_status.pending_certificate_pem);
    });
  });
  s.Delete(kAcmePending, [r](Req req, Res res) {
    r.run(
        req, res, [](sim::SimNode& sim) { return sim.acme_discard_pending(); },
        [&](bool) { ok(res, "OK"); });
  });
}

}  // namespace

std::vector<Route> rest_routes(NodeRoutes r) {
  RouteTable t;
  certificate_routes(t, r);
  node_routes(t, r);
  acme_routes(t, r);
  return std::move(t.routes);
}

void install_rest_routes(httplib::SSLServer& s, NodeRoutes r) {
  for (const Route& route : rest_routes(r)) add_route(s, route);
}

}  // namespace edgecert::simserver::internal
