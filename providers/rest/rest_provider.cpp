// The https:// provider's operations: each one picks the interface the
// reference names first and falls back to the alternative when
// access.interfaces does not allow it (rest_provider.h). Opening (transports,
// credentials) is rest_provider_open.cpp; the three channels are
// node_channels.h; the CLI's commands and replies cli_settings.h.
#include "providers/rest/rest_provider.h"

#include <algorithm>
#include <optional>
#include <random>
#include <set>

#include <fmt/format.h>

#include "providers/rest/cli_settings.h"
#include "providers/rest/node_channels.h"
#include "providers/rest/rest_api.h"
#include "providers/wire/rest_json.h"

namespace edgecert::rest {
namespace {

using detail::NodeChannels;
using spec::Interface;

constexpr const char* kServerCertPath = "/api/provisioning/certs/server";
constexpr const char* kRootCertsPath = "/api/provisioning/certs/root";
constexpr const char* kGenerateCsrPath = "/api/provisioning/certs/generate_csr";
constexpr const char* kRevocationPath = "/api/provisioning/common/protocol/sip/certrevokecheck";
constexpr const char* kAcmePendingCertPath = "/api/provisioning/certs/acme/pendingcert";
constexpr const char* kAcmeDeployPath = "/api/provisioning/certs/acme/pendingcert/deploy";
constexpr const char* kRestartPath = "/api/provisioning/restart";

// A multipart/form-data body. It may hold a private key, so it lives in a
// SecretString (wiped on destruction) once built.
class Multipart {
 public:
  Multipart() {
    std::random_device rd;
    boundary_ = fmt::format("edgecert-{:08x}{:08x}{:08x}", rd(), rd(), rd());
  }
  void add(const std::string& field, const std::string& filename, std::string_view content) {
    body_ += "--" + boundary_ + "\r\n";
    body_ += fmt::format("Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n", field,
                         filename);
    body_ += "Content-Type: application/octet-stream\r\n\r\n";
    body_.append(content.data(), content.size());
    body_ += "\r\n";
  }
  pki::SecretString finish() {
    body_ += "--" + boundary_ + "--\r\n";
    pki::SecretString s(body_);
    std::fill(body_.begin(), body_.end(), '\0');
    body_.clear();
    return s;
  }
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary_; }

 private:
  std::string boundary_;
  std::string body_;
};

// A manual operation: what the operator does in the web UI (reference §4).
struct ManualStep {
  node::ManualOperation op;
  const char* action;
  const char* page;
};
constexpr ManualStep kDiscardCsr{node::ManualOperation::kDiscardCsr, "discard CSR",
                                 "Maintenance > Security > Server certificate: Discard CSR"};
constexpr ManualStep kDeleteCa{node::ManualOperation::kDeleteTrustedCa,
                               "delete trusted CA certificate",
                               "Maintenance > Security > Trusted CA certificate: tick the "
                               "certificate, Delete"};
constexpr ManualStep kResetCas{node::ManualOperation::kResetTrustedCas, "reset trusted CA list",
                               "Maintenance > Security > Trusted CA certificate: Reset to default "
                               "CA certificate"};
constexpr ManualStep kCrlSettings{node::ManualOperation::kSetCrlSettings, "set CRL settings",
                                  "Maintenance > Security > CRL management: Automatic CRL "
                                  "updates, CRL distribution points, Daily update time, Save"};
constexpr ManualStep kUploadCrl{node::ManualOperation::kUploadManualCrl, "upload manual CRL",
                                "Maintenance > Security > CRL management: Browse, Upload CRL file"};
constexpr ManualStep kRemoveCrl{node::ManualOperation::kRemoveManualCrl, "remove manual CRL",
                                "Maintenance > Security > CRL management: Remove revocation list"};
constexpr ManualStep kTlsMode{node::ManualOperation::kSetTlsVerification,
                              "set TLS verification mode",
                              "System > Clustering: TLS verification mode, Save (on every peer)"};

std::vector<node::ManualOperation> all_manual_operations() {
  return {node::ManualOperation::kDiscardCsr,         node::ManualOperation::kDeleteTrustedCa,
          node::ManualOperation::kResetTrustedCas,    node::ManualOperation::kSetCrlSettings,
          node::ManualOperation::kUploadManualCrl,    node::ManualOperation::kRemoveManualCrl,
          node::ManualOperation::kSetTlsVerification, node::ManualOperation::kAcmeRevoke};
}

Result<std::vector<pki::Certificate>> parse_chain(const std::vector<std::string>& pems) {
  std::vector<pki::Certificate> out;
  for (size_t i = 0; i < pems.size(); ++i) {
    auto c = pki::Certificate::parse_one(pems[i], fmt::format("peer certificate {}", i));
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

class ExpresswayProvider final : public node::NodeProvider {
 public:
  ExpresswayProvider(std::string name, Env& env, std::unique_ptr<http::Transport> http,
                     std::unique_ptr<ssh::Transport> ssh, std::vector<Interface> interfaces,
                     RestOptions o)
      : ch_(std::move(name), env, std::move(http), std::move(ssh), std::move(interfaces),
            detail::ChannelOptions{o.get_attempts, o.initial_backoff, o.max_backoff}),
        options_(o) {}

  const std::string& name() const override { return ch_.node(); }

  Result<node::NodeState> read_state() override {
    node::NodeState s;
    s.manual_operations = all_manual_operations();
    s.crl_settings_known = false;
    s.manual_crl_known = false;

    // The served chain (a real handshake) and the stored one from the same
    // request when REST is allowed; else the handshake of the SystemUnit read.
    std::vector<std::string> peer_chain;
    std::optional<std::vector<pki::Certificate>> stored;
    if (ch_.allows(Interface::kRest)) {
      constexpr const char* action = "read server certificate";
      auto r =
          ch_.rest(action, {.method = "GET", .path = kServerCertPath, .capture_peer_chain = true});
      if (!r) return std::unexpected(r.error());
      auto certs = pki::Certificate::parse_all(r->body, "certs/server");
      if (!certs)
        return ch_.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kServerCertPath), action,
                           "not a PEM certificate chain: " + certs.error().message);
      stored = std::move(*certs);
      peer_chain = std::move(r->peer_chain);
    }
    auto unit = read_unit("read product and version", stored ? nullptr : &peer_chain);
    if (!unit) return std::unexpected(unit.error());
    if (unit->known) {
      s.product = detail::product_from_type(unit->status.product_type);
      s.software_version = unit->status.version;
      s.uptime_seconds = unit->status.uptime_seconds;
    }
    if (!peer_chain.empty()) {
      auto served = parse_chain(peer_chain);
      if (!served)
        return std::unexpected(node::node_error(name(), "TLS handshake", served.error()));
      s.server_chain = std::move(*served);
    }
    if (stored && !stored->empty() &&
        (s.server_chain.empty() ||
         stored->front().sha256_fingerprint() != s.server_chain.front().sha256_fingerprint()))
      s.staged_chain = std::move(*stored);
    s.restart_required = !s.staged_chain.empty();

    if (ch_.allows(Interface::kRest)) {
      auto csr = read_pending_csr();
      if (!csr) return std::unexpected(csr.error());
      s.pending_csr = std::move(*csr);
      auto cas = read_trusted_cas("read trusted CAs");
      if (!cas) return std::unexpected(cas.error());
      s.trusted_cas = std::move(*cas);
    }
    if (ch_.allows(Interface::kXml)) {
      auto alarms = read_alarms();
      if (!alarms) return std::unexpected(alarms.error());
      s.alarms = std::move(*alarms);
      bool permissive =
          std::ranges::any_of(s.alarms, [](const auto& a) { return a.id == "40049"; });
      s.tls_verification =
          permissive ? spec::TlsVerification::kPermissive : spec::TlsVerification::kEnforce;
    }
    if (ch_.allows(Interface::kCli) || ch_.allows(Interface::kRest)) {
      auto rc = read_revocation();
      if (!rc) return std::unexpected(rc.error());
      s.revocation = *rc;
    }
    // ACME is an Expressway-E service (X12.5+).
    if (s.product != node::Product::kExpresswayC) {
      if (ch_.allows(Interface::kCli)) {
        auto acme = acme_settings();
        if (!acme) return std::unexpected(acme.error());
        s.acme = std::move(*acme);
        s.acme_status.status = s.acme.mode == spec::AcmeMode::kDisabled ? "Disabled" : "Enabled";
      }
      if (ch_.allows(Interface::kCli) || ch_.allows(Interface::kRest)) {
        auto pending = read_acme_pending();
        if (!pending) return std::unexpected(pending.error());
        s.acme_status.pending_certificate_pem = std::move(*pending);
      }
    }
    if (ch_.allows(Interface::kCli) || ch_.allows(Interface::kXml)) {
      auto alt = read_alternates();
      if (!alt) return std::unexpected(alt.error());
      std::vector<std::string> peers;
      for (const auto& p : alt->peers) peers.push_back(p.address);
      s.cluster_peers = std::move(peers);
      s.cluster_name = alt->cluster_name;
    }
    return s;
  }

  Result<std::string> generate_csr(const node::CsrRequest& request) override {
    constexpr const char* action = "generate CSR";
    if (request.reuse_current_key)
      return unimplemented(action,
                           "re-using the current private key has no REST field: generate the CSR "
                           "in the web UI (Maintenance > Security > Server certificate: Generate "
                           "CSR, tick the key re-use option), or use keyRotation: rotate");
    wire::rest::GenerateCsrRequest body;
    body.common_name = request.common_name;
    body.additional_fqdns = request.dns_names;
    body.country = request.subject.country;
    body.province = request.subject.state;
    body.locality = request.subject.locality;
    body.organization = request.subject.organization;
    body.organizational_unit = request.subject.organizational_unit;
    body.email = request.subject.email;
    body.public_key_algorithm = request.key_algorithm;
    body.key_length = request.key_size;
    body.digest = request.digest;
    const std::string json = wire::rest::encode_generate_csr(body);
    auto posted = ch_.rest_message(action, {.method = "POST",
                                            .path = kGenerateCsrPath,
                                            .body = json,
                                            .content_type = "application/json"});
    if (!posted) return std::unexpected(posted.error());
    return ch_.rest_pem(action, kGenerateCsrPath);
  }

  Status discard_csr() override { return manual(kDiscardCsr); }

  Result<node::UploadResult> upload_server_certificate(
      const node::CertificateUpload& upload) override {
    constexpr const char* action = "upload server certificate";
    Multipart m;
    m.add("file", "server.pem", upload.chain_pem);
    if (upload.key) m.add("key", "server.key", upload.key->view());
    const std::string type = m.content_type();
    pki::SecretString body = m.finish();
    auto message = ch_.rest_message(
        action,
        {.method = "POST", .path = kServerCertPath, .body = body.view(), .content_type = type});
    if (!message) return std::unexpected(message.error());
    node::UploadResult out;
    if (auto chain = pki::Certificate::parse_all(upload.chain_pem, "upload");
        chain && !chain->empty())
      out.staged_sha256 = chain->front().sha256_fingerprint();
    if (*message != "OK" && message->find("successful") == std::string::npos)
      out.warnings.push_back({"node-message", *message});
    return out;
  }

  Result<node::AppendCasResult> append_trusted_cas(std::string_view pem_bundle) override {
    constexpr const char* action = "append trusted CA certificates";
    auto before = read_trusted_cas(action);
    if (!before) return std::unexpected(before.error());
    std::set<std::string> present;
    for (const auto& c : *before) present.insert(c.sha256_fingerprint());
    Multipart m;
    m.add("file", "cas.pem", pem_bundle);
    const std::string type = m.content_type();
    pki::SecretString body = m.finish();
    auto message = ch_.rest_message(
        action,
        {.method = "POST", .path = kRootCertsPath, .body = body.view(), .content_type = type});
    if (!message) return std::unexpected(message.error());
    node::AppendCasResult out;
    // The node skips a certificate it already trusts (same SHA-256).
    if (auto bundle = pki::Certificate::parse_all(pem_bundle, "bundle")) {
      for (const auto& c : *bundle) {
        const std::string fp = c.sha256_fingerprint();
        if (present.insert(fp).second) {
          out.added.push_back(fp);
        } else if (std::ranges::find(out.added, fp) == out.added.end()) {
          out.skipped.push_back(fp);
        }
      }
    }
    return out;
  }

  Status delete_trusted_ca(const std::string&) override { return manual(kDeleteCa); }
  Status reset_trusted_cas() override { return manual(kResetCas); }
  Status set_crl_settings(const node::CrlSettings&) override { return manual(kCrlSettings); }
  Status upload_manual_crl(std::string_view) override { return manual(kUploadCrl); }
  Status remove_manual_crl() override { return manual(kRemoveCrl); }
  Status set_tls_verification(spec::TlsVerification) override { return manual(kTlsMode); }

  Status set_revocation_checking(const spec::RevocationChecking& settings) override {
    constexpr const char* action = "set revocation checking";
    if (ch_.allows(Interface::kCli)) {
      for (const auto& c : detail::revocation_write_commands(settings))
        if (auto r = ch_.cli(action, c, false); !r) return std::unexpected(r.error());
      return {};
    }
    if (!ch_.allows(Interface::kRest)) return ch_.not_allowed(action, "the CLI over SSH or REST");
    const std::string json = encode_revocation(settings).dump();
    auto r = ch_.rest(action, {.method = "PUT",
                               .path = kRevocationPath,
                               .body = json,
                               .content_type = "application/json"});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<node::AcmeSettings> acme_settings() override {
    constexpr const char* action = "read ACME settings";
    auto settings = ch_.cli(action, detail::acme_settings_read_command(), true);
    if (!settings) return std::unexpected(settings.error());
    std::string uuid = detail::acme_provider_uuid(*settings);
    if (uuid.empty()) uuid = detail::kAcmeProviderUuid;
    // No provider record yet is an ERROR reply: the settings then have no
    // provider, which is what the node holds.
    auto providers = ch_.cli(action, detail::acme_providers_read_command(uuid), true, true);
    if (!providers) return std::unexpected(providers.error());
    auto a = detail::acme_settings_from(*providers, *settings);
    if (!a)
      return ch_.failure(ErrorCode::kCorrupt, "SSH xCommand ACME Settings Read", action,
                         a.error().message);
    return a;
  }

  Status set_acme_settings(const node::AcmeSettings& settings) override {
    constexpr const char* action = "set ACME settings";
    if (auto r = ch_.cli(action, detail::acme_providers_write_command(settings), false); !r)
      return std::unexpected(r.error());
    if (auto r = ch_.cli(action, detail::acme_settings_write_command(settings), false); !r)
      return std::unexpected(r.error());
    return {};
  }

  Status acme_sign() override { return acme_step("ACME sign", {"Sign"}, kAcmePendingCertPath); }
  Status acme_deploy() override { return acme_step("ACME deploy", {"Deploy"}, kAcmeDeployPath); }
  Status acme_discard_pending() override {
    constexpr const char* action = "ACME discard pending certificate";
    if (ch_.allows(Interface::kCli)) {
      auto r = ch_.cli(action, detail::acme_command({"Delete", "Pending", "Cert"}), false);
      if (!r) return std::unexpected(r.error());
      return {};
    }
    if (!ch_.allows(Interface::kRest)) return ch_.not_allowed(action, "the CLI over SSH or REST");
    auto r = ch_.rest_message(action, {.method = "DELETE", .path = kAcmePendingCertPath});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  using node::NodeProvider::acme_revoke;
  Status acme_revoke(std::string_view certificate_pem, pki::RevocationReason reason) override {
    constexpr const char* action = "ACME revoke";
    if (!pki::revocation_reason_from_code(static_cast<int>(reason)))
      return invalid(action, fmt::format("revocation reason {} is not one the node's ACME "
                                         "service accepts",
                                         static_cast<int>(reason)));
    auto cert = pki::Certificate::parse_one(certificate_pem, "the certificate to revoke");
    if (!cert) return invalid(action, "not a PEM certificate: " + cert.error().message);
    auto settings = acme_settings();
    if (!settings) return std::unexpected(settings.error());
    if (settings->mode == spec::AcmeMode::kDisabled)
      return invalid(action, "the ACME service is disabled");
    const std::string fp = cert->sha256_fingerprint();
    auto served = served_chain();
    if (!served) return std::unexpected(served.error());
    if (!served->empty() && served->front().sha256_fingerprint() == fp)
      return invalid(action, fmt::format("certificate {} is in use (the node serves it); only a "
                                         "superseded certificate can be revoked",
                                         fp));
    const std::string path = acme_revoke_path(*cert);
    auto r =
        ch_.cli(action, detail::acme_revoke_command(path, settings->provider_name), false, true);
    if (!r) return std::unexpected(r.error());
    if (r->ok) return {};
    std::string reason_text;
    for (const auto& b : r->results)
      if (const auto* n = wire::xacli::find(b.fields, "Reason"); n && n->value)
        reason_text = n->value->text;
    const ErrorCode code = detail::code_for_cli_reason(reason_text);
    if (code == ErrorCode::kNotFound) {
      Error e = ch_.failure(
          ErrorCode::kUnimplemented, "SSH xCommand ACME Revoke", action,
          fmt::format("{}; no interface puts a file onto an Expressway: as root, copy the "
                      "superseded certificate {} onto the node as {}, then run again",
                      reason_text, fp, path));
      return std::unexpected(e);
    }
    return ch_.failure(code, "SSH xCommand ACME Revoke", action, reason_text);
  }

  Status restart() override {
    constexpr const char* action = "restart";
    const TimePoint asked = ch_.env().now();
    if (ch_.allows(Interface::kRest)) {
      auto r = ch_.rest_message(action, {.method = "POST", .path = kRestartPath});
      if (!r) return std::unexpected(r.error());
    } else {
      wire::xacli::CommandLine c;
      c.words = {"xCommand", "Restart"};
      auto r = ch_.cli(action, c, false);
      if (!r) return std::unexpected(r.error());
    }
    restart_asked_ = asked;
    // The node drops every session as it goes down.
    ch_.close_cli();
    return {};
  }

  Status wait_until_up(std::chrono::seconds timeout) override {
    constexpr const char* action = "wait until up";
    Env& env = ch_.env();
    const TimePoint deadline = env.now() + timeout;
    std::chrono::milliseconds backoff = options_.initial_backoff;
    std::string last = "no answer";
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - env.now());
      // A hung connection must not outlast the deadline by a whole request
      // timeout; a liveness probe needs neither more than 30 s nor less than 1 s.
      auto probe_timeout =
          std::clamp(left, std::chrono::milliseconds(1000), std::chrono::milliseconds(30000));
      auto up = probe_uptime(action, probe_timeout);
      if (up) {
        if (!restart_asked_ || !*up || std::chrono::seconds(**up) < env.now() - *restart_asked_) {
          restart_asked_.reset();
          return {};
        }
        last = fmt::format("answering, but Uptime {} s says it has not restarted yet", **up);
      } else if (up.error().code != ErrorCode::kUnavailable) {
        return std::unexpected(up.error());
      } else {
        last = up.error().message;
        const std::string prefix = name() + ": ";
        if (last.rfind(prefix, 0) == 0) last = last.substr(prefix.size());
        ch_.close_cli();
      }
      TimePoint now = env.now();
      if (now >= deadline) break;
      env.sleep_for(
          std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    Error e = Error::Unavailable(fmt::format("{}: {}: no answer within {} s (last: {})", name(),
                                             action, timeout.count(), last));
    e.node = name();
    e.action = action;
    return std::unexpected(e);
  }

  Result<std::vector<pki::Certificate>> served_chain() override {
    constexpr const char* action = "TLS handshake";
    std::vector<std::string> peer_chain;
    if (ch_.allows(Interface::kRest)) {
      auto r =
          ch_.rest(action, {.method = "GET", .path = kServerCertPath, .capture_peer_chain = true});
      if (!r) return std::unexpected(r.error());
      peer_chain = std::move(r->peer_chain);
    } else if (ch_.allows(Interface::kXml)) {
      auto r = ch_.xml_status(action, wire::xml::kSystemUnitPath, {.peer_chain = &peer_chain});
      if (!r) return std::unexpected(r.error());
    } else {
      return ch_.not_allowed(action, "HTTPS (REST or XML)");
    }
    if (peer_chain.empty())
      return make_error(
          ErrorCode::kInternal,
          fmt::format("{}: {}: the TLS library reported no peer certificates", name(), action));
    auto out = parse_chain(peer_chain);
    if (!out) return std::unexpected(node::node_error(name(), action, out.error()));
    return out;
  }

 private:
  Status manual(const ManualStep& step) {
    Error e = Error::Unimplemented(fmt::format(
        "{}: {}: an Expressway has no API for this ({}): a manual step in the web UI: {}", name(),
        step.action, node::manual_operation_name(step.op), step.page));
    e.node = name();
    e.action = step.action;
    return std::unexpected(e);
  }
  Error unimplemented(const char* action, const std::string& why) const {
    Error e = Error::Unimplemented(fmt::format("{}: {}: {}", name(), action, why));
    e.node = name();
    e.action = action;
    return e;
  }
  Error invalid(const char* action, const std::string& why) const {
    Error e = Error::InvalidArgument(fmt::format("{}: {}: {}", name(), action, why));
    e.node = name();
    e.action = action;
    return e;
  }

  Status acme_step(const char* action, std::initializer_list<const char*> words,
                   const char* rest_path) {
    if (ch_.allows(Interface::kCli)) {
      auto r = ch_.cli(action, detail::acme_command(words), false);
      if (!r) return std::unexpected(r.error());
      return {};
    }
    if (!ch_.allows(Interface::kRest)) return ch_.not_allowed(action, "the CLI over SSH or REST");
    auto r = ch_.rest_message(action, {.method = "POST", .path = rest_path});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  struct Unit {
    bool known = false;
    detail::UnitStatus status;
  };
  // SystemUnit by XML, else by the CLI; `peer_chain` (when set) receives the
  // handshake's chain of the XML request.
  Result<Unit> read_unit(const char* action, std::vector<std::string>* peer_chain,
                         std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                         int attempts = 0) {
    if (ch_.allows(Interface::kXml)) {
      auto doc =
          ch_.xml_status(action, wire::xml::kSystemUnitPath,
                         {.peer_chain = peer_chain, .timeout = timeout, .attempts = attempts});
      if (!doc) return std::unexpected(doc.error());
      if (!doc->system_unit)
        return ch_.failure(ErrorCode::kCorrupt, fmt::format("XML {}", wire::xml::kSystemUnitPath),
                           action, "the document has no SystemUnit element");
      Unit u{true,
             {doc->system_unit->product, doc->system_unit->product_type, doc->system_unit->version,
              doc->system_unit->uptime_seconds}};
      return u;
    }
    if (ch_.allows(Interface::kCli)) {
      auto reply = ch_.cli(action, detail::system_unit_command(), true);
      if (!reply) return std::unexpected(reply.error());
      auto st = detail::system_unit_from_reply(*reply);
      if (!st)
        return ch_.failure(ErrorCode::kCorrupt, "SSH xStatus SystemUnit", action,
                           st.error().message);
      return Unit{true, *st};
    }
    return Unit{};
  }

  // The node's Uptime in seconds when it answers (nullopt: it answers but no
  // interface reports Uptime).
  Result<std::optional<std::int64_t>> probe_uptime(const char* action,
                                                   std::chrono::milliseconds timeout) {
    if (ch_.allows(Interface::kXml) || ch_.allows(Interface::kCli)) {
      auto u = read_unit(action, nullptr, timeout, 1);
      if (!u) return std::unexpected(u.error());
      return std::optional<std::int64_t>(u->status.uptime_seconds);
    }
    auto r = ch_.rest(
        action, {.method = "GET", .path = kServerCertPath, .timeout = timeout, .attempts = 1});
    if (!r) return std::unexpected(r.error());
    return std::optional<std::int64_t>();
  }

  Result<std::optional<node::PendingCsr>> read_pending_csr() {
    constexpr const char* action = "read pending CSR";
    auto r = ch_.rest(action, {.method = "GET", .path = kGenerateCsrPath, .accepted = {404}});
    if (!r) return std::unexpected(r.error());
    if (r->status == 404) return std::optional<node::PendingCsr>();
    auto csr = node::pending_csr_from_pem(r->body);
    if (!csr)
      return ch_.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kGenerateCsrPath), action,
                         r->body.find("<html") != std::string::npos ||
                                 r->body.find("<!DOCTYPE") != std::string::npos
                             ? std::string("not PEM: an HTML page (a login or proxy page?)")
                             : "not a PEM CSR: " + csr.error().message);
    return std::optional<node::PendingCsr>(std::move(*csr));
  }

  Result<std::vector<pki::Certificate>> read_trusted_cas(const char* action) {
    auto pem = ch_.rest_pem(action, kRootCertsPath);
    if (!pem) return std::unexpected(pem.error());
    auto certs = pki::Certificate::parse_all(*pem, "certs/root");
    if (!certs)
      return ch_.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kRootCertsPath), action,
                         certs.error().message);
    return certs;
  }

  // The ACME certificate waiting for deploy (nullopt: none): the CLI's Get
  // Pending Cert (an ERROR reply = none), else REST GET pendingcert (404 = none).
  Result<std::optional<std::string>> read_acme_pending() {
    constexpr const char* action = "read pending ACME certificate";
    if (ch_.allows(Interface::kCli)) {
      auto reply = ch_.cli(action, detail::acme_command({"Get", "Pending", "Cert"}), true, true);
      if (!reply) return std::unexpected(reply.error());
      if (!reply->ok) return std::optional<std::string>();
      auto pem = detail::acme_pending_certificate(*reply);
      if (!pem)
        return ch_.failure(ErrorCode::kCorrupt, "SSH xCommand ACME Get Pending Cert", action,
                           pem.error().message);
      if (pem->empty()) return std::optional<std::string>();
      return std::optional<std::string>(std::move(*pem));
    }
    auto r = ch_.rest(action, {.method = "GET", .path = kAcmePendingCertPath, .accepted = {404}});
    if (!r) return std::unexpected(r.error());
    if (r->status == 404) return std::optional<std::string>();
    if (r->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return ch_.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kAcmePendingCertPath),
                         action, "not a PEM certificate chain");
    return std::optional<std::string>(std::move(r->body));
  }

  Result<std::vector<node::Alarm>> read_alarms() {
    constexpr const char* action = "read alarms";
    auto doc = ch_.xml_status(action, wire::xml::kWarningsPath, {});
    if (!doc) return std::unexpected(doc.error());
    std::vector<node::Alarm> out;
    if (!doc->warnings) return out;
    for (const auto& w : *doc->warnings) {
      auto number = wire::xml::alarm_for_reason(w.reason);
      // An alarm edgecert does not know keeps the node's id (a UUID).
      out.push_back({number ? std::to_string(*number) : w.id, w.reason});
    }
    return out;
  }

  Result<spec::RevocationChecking> read_revocation() {
    constexpr const char* action = "read revocation checking";
    if (ch_.allows(Interface::kCli)) {
      auto reply = ch_.cli(action, detail::revocation_read_command(), true);
      if (!reply) return std::unexpected(reply.error());
      auto rc = detail::revocation_from_reply(*reply);
      if (!rc)
        return ch_.failure(ErrorCode::kCorrupt,
                           "SSH xConfiguration SIP TLS Certificate Revocation Checking", action,
                           rc.error().message);
      return rc;
    }
    auto r = ch_.rest(action, {.method = "GET", .path = kRevocationPath});
    if (!r) return std::unexpected(r.error());
    auto rc = decode_revocation(r->body);
    if (!rc)
      return ch_.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kRevocationPath), action,
                         rc.error().message);
    return rc;
  }

  Result<wire::xml::Alternates> read_alternates() {
    constexpr const char* action = "read cluster peers";
    if (ch_.allows(Interface::kCli)) {
      auto reply = ch_.cli(action, detail::alternates_command(), true);
      if (!reply) return std::unexpected(reply.error());
      auto alt = detail::alternates_from_reply(*reply);
      if (!alt)
        return ch_.failure(ErrorCode::kCorrupt, "SSH xConfiguration Alternates", action,
                           alt.error().message);
      return alt;
    }
    return ch_.xml_alternates(action);
  }

  NodeChannels ch_;
  RestOptions options_;
  std::optional<TimePoint> restart_asked_;
};

}  // namespace

std::string acme_revoke_path(const pki::Certificate& certificate) {
  std::string hex;
  for (char c : certificate.sha256_fingerprint())
    if (c != ':') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return "/tmp/edgecert-revoke-" + hex + ".pem";
}

std::unique_ptr<node::NodeProvider> make_expressway_node_provider(
    std::string peer_name, Env& env, std::unique_ptr<http::Transport> http,
    std::unique_ptr<ssh::Transport> ssh, std::vector<spec::Interface> interfaces,
    RestOptions options) {
  return std::make_unique<ExpresswayProvider>(std::move(peer_name), env, std::move(http),
                                              std::move(ssh), std::move(interfaces), options);
}

}  // namespace edgecert::rest
