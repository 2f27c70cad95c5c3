// The probe's table of operations: per operation edgecert may plan, the
// interfaces that carry it (the interface reference §2, primary first) or the
// web UI step that replaces it (§4), and what it needs from the node.
#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "providers/rest/probe.h"

namespace edgecert::rest {
namespace {

namespace paths = probe_paths;
using I = ProbeInterface;

struct Way {
  ProbeInterface interface {};
  std::string how{};
  const char* raml_path = nullptr;  // the REST path it uses, to check against /api/raml
};

struct Row {
  const char* id = "";
  const char* title = "";
  std::vector<Way> ways{};      // empty: a manual step
  const char* manual_how = "";  // the web UI page and what to do there
  const char* verify = "";      // how edgecert checks the manual step
  std::optional<ProbeInterface> verify_interface{};
  bool expressway_e_only = false;  // ACME
  const char* needs_release = "";  // the release the operation needs ("X12.5")
  const char* release_note = "";   // what needs it, when only part of the operation does
};

std::string get(const char* path) {
  return fmt::format("GET {}", path);
}
std::string post(const char* path) {
  return fmt::format("POST {}", path);
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table{
      {"read-health",
       "read product, version and uptime; wait for a restarted node",
       {{I::kXml, get("/getxml?location=/Status/SystemUnit")}, {I::kCli, "xStatus SystemUnit"}}},
      {"read-alarms",
       "read alarms (40049 cluster TLS permissive, certificate expiry, CRL)",
       {{I::kXml, get("/getxml?location=/Status/Warnings")}}},
      {"read-cluster-peers",
       "read the node's own list of cluster peers",
       {{I::kCli, "xConfiguration Alternates"}, {I::kXml, get("/alternatesconfiguration.xml")}}},
      {"read-server-certificate",
       "read the server certificate (stored, and served in a TLS "
       "handshake)",
       {{I::kRest, get(paths::kServerCert), paths::kServerCert},
        {I::kXml, "TLS handshake of GET /getxml?location=/Status/SystemUnit (served only)"}}},
      {"read-trusted-cas",
       "read the trusted CA list",
       {{I::kRest, get(paths::kRootCerts), paths::kRootCerts}}},
      {"read-pending-csr",
       "read the pending CSR",
       {{I::kRest, get(paths::kGenerateCsr), paths::kGenerateCsr}}},
      {"generate-csr",
       "generate a CSR on the node (the key stays there; not with keyRotation: retain, "
       "which has no REST field: the web UI's Generate CSR re-uses the key)",
       {{I::kRest, post(paths::kGenerateCsr), paths::kGenerateCsr}},
       "",
       "",
       std::nullopt,
       false,
       "X14.3",
       "ECDSA keys"},
      {"upload-server-certificate",
       "upload the signed server certificate (active after restart)",
       {{I::kRest, post(paths::kServerCert) + " (multipart)", paths::kServerCert}}},
      {"append-trusted-cas",
       "add CA certificates to the trusted CA list",
       {{I::kRest, post(paths::kRootCerts) + " (multipart)", paths::kRootCerts}}},
      {"restart",
       "restart the node",
       {{I::kRest, post(paths::kRestart) + " with X-CSRF-Header", paths::kRestart},
        {I::kCli, "xCommand Restart"}},
       "",
       "",
       std::nullopt,
       false,
       "X14.2",
       "the X-CSRF-Header edgecert sends"},
      {"set-revocation-checking",
       "read and set SIP TLS certificate revocation checking",
       {{I::kCli, "xConfiguration SIP TLS Certificate Revocation Checking ..."},
        {I::kRest, "GET/PUT " + std::string(paths::kRevocation), paths::kRevocation}}},
      {"acme-settings",
       "read and write the ACME provider and settings",
       {{I::kCli, "xCommand ACME Providers Read/Write, xCommand ACME Settings Read/Write"}},
       "",
       "",
       std::nullopt,
       true,
       "X12.5"},
      {"acme-sign",
       "sign the pending CSR with the node's ACME service",
       {{I::kCli, "xCommand ACME Sign, xCommand ACME Get Pending Cert"},
        {I::kRest, post(paths::kAcmePending) + " with X-CSRF-Header", paths::kAcmePending}},
       "",
       "",
       std::nullopt,
       true,
       "X12.5"},
      {"acme-deploy",
       "deploy the pending ACME certificate",
       {{I::kCli, "xCommand ACME Deploy"},
        {I::kRest, post(paths::kAcmeDeploy) + " with X-CSRF-Header", paths::kAcmeDeploy}},
       "",
       "",
       std::nullopt,
       true,
       "X12.5"},
      {"acme-discard-pending",
       "discard the pending ACME certificate",
       {{I::kCli, "xCommand ACME Delete Pending Cert"},
        {I::kRest, "DELETE " + std::string(paths::kAcmePending), paths::kAcmePending}},
       "",
       "",
       std::nullopt,
       true,
       "X12.5"},
      {"discard-csr",
       "discard the pending CSR",
       {},
       "web UI: Maintenance > Security > Server certificate: Discard CSR",
       "GET /api/provisioning/certs/generate_csr answers 404",
       I::kRest},
      {"delete-trusted-ca",
       "delete one trusted CA",
       {},
       "web UI: Maintenance > Security > Trusted CA certificate: tick the CA, Delete",
       "GET /api/provisioning/certs/root no longer lists its SHA-256",
       I::kRest},
      {"reset-trusted-cas",
       "reset the trusted CA list to the factory list",
       {},
       "web UI: Maintenance > Security > Trusted CA certificate: Reset to default CA "
       "certificate",
       "GET /api/provisioning/certs/root holds the factory list",
       I::kRest},
      {"set-tls-verification",
       "set the cluster TLS verification mode",
       {},
       "web UI: System > Clustering: TLS verification mode Permissive/Enforce, Save (on every "
       "peer)",
       "alarm 40049 is raised exactly while the mode is Permissive",
       I::kXml},
      {"set-crl-settings",
       "set automatic CRL updates",
       {},
       "web UI: Maintenance > Security > CRL management: Automatic CRL updates, CRL "
       "distribution points (one URL per line), Daily update time (UTC), Save",
       "no read-back: the operator confirms; alarm 40001 (enabled without points) or "
       "40002/40006 (downloads failing) shows problems",
       I::kXml},
      {"upload-manual-crl",
       "upload a manual CRL",
       {},
       "web UI: Maintenance > Security > CRL management: Browse, Upload CRL file",
       "no read-back: the operator confirms"},
      {"remove-manual-crl",
       "remove the manual CRL",
       {},
       "web UI: Maintenance > Security > CRL management: Remove revocation list",
       "no read-back: the operator confirms"},
      {"acme-revoke",
       "revoke a superseded certificate through the node's ACME account",
       {},
       "as root, copy the superseded certificate (PEM) onto the node; edgecert then runs "
       "xCommand ACME Revoke CertPath: <file> Provider: <name>",
       "xCommand ACME Revoke answers OK (or ERROR with the reason)",
       I::kCli,
       true,
       "X12.5"},
  };
  return table;
}

// "X15.0.2" -> {15, 0, 2}; nullopt for anything else.
std::optional<std::array<int, 3>> parse_release(std::string_view v) {
  if (v.empty() || (v.front() != 'X' && v.front() != 'x')) return std::nullopt;
  v.remove_prefix(1);
  std::array<int, 3> out{0, 0, 0};
  for (size_t i = 0; i < out.size() && !v.empty(); ++i) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out[i]);
    if (ec != std::errc()) return i == 0 ? std::nullopt : std::optional(out);
    v.remove_prefix(static_cast<size_t>(end - v.data()));
    if (!v.starts_with('.')) break;
    v.remove_prefix(1);
  }
  return out;
}

// Why interface `i` cannot be used on this node, or "" when it can.
std::string unusable(const NodeProbe& p, ProbeInterface i) {
  const InterfaceProbe& ip = p.interface(i);
  if (!ip.allowed) return fmt::format("{} is not allowed here", probe_interface_label(i));
  if (!ip.tried || !ip.errors.empty())
    return fmt::format("{} did not answer", probe_interface_label(i));
  return "";
}

}  // namespace

std::vector<OperationSupport> plan_operations(const NodeProbe& p) {
  const auto release = parse_release(p.version);
  std::vector<OperationSupport> out;
  for (const Row& row : rows()) {
    OperationSupport op;
    op.id = row.id;
    op.title = row.title;
    std::vector<std::string> notes;
    if (row.expressway_e_only && p.product == node::Product::kExpresswayC) {
      op.mode = OperationMode::kNotApplicable;
      op.note = "ACME is an Expressway-E service; this node is an Expressway-C";
      out.push_back(std::move(op));
      continue;
    }
    if (row.ways.empty()) {
      op.mode = OperationMode::kManual;
      op.how = row.manual_how;
      op.verify = row.verify;
      if (row.verify_interface)
        if (std::string why = unusable(p, *row.verify_interface); !why.empty())
          notes.push_back(fmt::format("edgecert cannot check it here: {}", why));
    } else {
      std::vector<std::string> why_not;
      for (const Way& way : row.ways) {
        std::string why = unusable(p, way.interface);
        if (!why.empty()) {
          why_not.push_back(std::move(why));
          continue;
        }
        op.mode = OperationMode::kAutomated;
        op.interface = way.interface;
        op.how = way.how;
        if (way.raml_path && p.raml_served.value_or(false)) {
          auto listed = std::find_if(p.raml_paths.begin(), p.raml_paths.end(),
                                     [&](const auto& e) { return e.first == way.raml_path; });
          if (listed != p.raml_paths.end() && !listed->second)
            notes.push_back(fmt::format("{} is not listed in /api/raml", way.raml_path));
        }
        break;
      }
      if (!op.interface) {
        op.mode = OperationMode::kUnavailable;
        op.how = row.ways.front().how;
        std::string needs;
        for (const Way& way : row.ways)
          needs += fmt::format("{}{}", needs.empty() ? "" : " or ",
                               probe_interface_label(way.interface));
        std::string reasons;
        for (const std::string& w : why_not) reasons += (reasons.empty() ? "" : "; ") + w;
        notes.push_back(fmt::format("needs {}: {}", needs, reasons));
      }
    }
    if (*row.needs_release && release) {
      auto needed = parse_release(row.needs_release);
      if (needed && *release < *needed)
        notes.push_back(fmt::format("{} need{} {} or later; the node runs {}",
                                    *row.release_note ? row.release_note : "this",
                                    *row.release_note ? "" : "s", row.needs_release, p.version));
    }
    for (const std::string& n : notes) op.note += (op.note.empty() ? "" : "; ") + n;
    out.push_back(std::move(op));
  }
  return out;
}

}  // namespace edgecert::rest
