// The https:// provider's reads (node_reads.h).
#include "providers/rest/node_reads.h"

#include <fmt/format.h>

#include "providers/rest/rest_api.h"

namespace edgecert::rest::detail {

using spec::Interface;

namespace {

// A node's own words in a message: printable ASCII, at most 80 bytes.
std::string shown(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return v.size() > 80 ? out + "..." : out;
}

bool is_release(std::string_view v) {
  // X14.3.1 or X15.0: 'X', then two or three dot-separated numbers.
  if (v.size() < 4 || (v.front() != 'X' && v.front() != 'x')) return false;
  int parts = 0;
  size_t i = 1;
  while (i < v.size()) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9' && i - start < 6) ++i;
    if (i == start) return false;
    ++parts;
    if (i == v.size()) break;
    if (v[i] != '.') return false;
    ++i;
  }
  return i == v.size() && v.back() != '.' && parts >= 2 && parts <= 3;
}

// What the node says it is must be something edgecert knows: an
// Expressway-E or -C on a release. Anything else is refused where it was
// read instead of being guessed at by the compatibility checks. An absent
// ProductType or version stays unknown (older captures lack ProductType).
std::string unit_problem(const UnitStatus& u) {
  if (!u.product_type.empty() && product_from_type(u.product_type) == node::Product::kUnknown)
    return fmt::format("ProductType '{}' is neither Expressway-E nor Expressway-C",
                       shown(u.product_type));
  if (!u.version.empty() && !is_release(u.version))
    return fmt::format("software version '{}' is not a release (like X14.3.1)", shown(u.version));
  return {};
}

}  // namespace

Result<std::vector<pki::Certificate>> parse_chain(const std::vector<std::string>& pems) {
  std::vector<pki::Certificate> out;
  for (size_t i = 0; i < pems.size(); ++i) {
    auto c = pki::Certificate::parse_one(pems[i], fmt::format("peer certificate {}", i));
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

Result<Unit> read_unit(NodeChannels& ch, const char* action, std::vector<std::string>* peer_chain,
                       std::optional<std::chrono::milliseconds> timeout, int attempts) {
  if (ch.allows(Interface::kXml)) {
    auto doc = ch.xml_status(action, wire::xml::kSystemUnitPath,
                             {.peer_chain = peer_chain, .timeout = timeout, .attempts = attempts});
    if (!doc) return std::unexpected(doc.error());
    if (!doc->system_unit)
      return ch.failure(ErrorCode::kCorrupt, fmt::format("XML {}", wire::xml::kSystemUnitPath),
                        action, "the document has no SystemUnit element");
    Unit u{true,
           {doc->system_unit->product, doc->system_unit->product_type, doc->system_unit->version,
            doc->system_unit->uptime_seconds}};
    if (auto problem = unit_problem(u.status); !problem.empty())
      return ch.failure(ErrorCode::kCorrupt, fmt::format("XML {}", wire::xml::kSystemUnitPath),
                        action, problem);
    return u;
  }
  if (ch.allows(Interface::kCli)) {
    auto reply = ch.cli(action, system_unit_command(), true);
    if (!reply) return std::unexpected(reply.error());
    auto st = system_unit_from_reply(*reply);
    if (!st)
      return ch.failure(ErrorCode::kCorrupt, "SSH xStatus SystemUnit", action, st.error().message);
    if (auto problem = unit_problem(*st); !problem.empty())
      return ch.failure(ErrorCode::kCorrupt, "SSH xStatus SystemUnit", action, problem);
    return Unit{true, *st};
  }
  return Unit{};
}

Result<std::optional<node::PendingCsr>> read_pending_csr(NodeChannels& ch) {
  constexpr const char* action = "read pending CSR";
  auto r = ch.rest(action, {.method = "GET", .path = kGenerateCsrPath, .accepted = {404}});
  if (!r) return std::unexpected(r.error());
  if (r->status == 404) return std::optional<node::PendingCsr>();
  auto csr = node::pending_csr_from_pem(r->body);
  if (!csr)
    return ch.failure(
        ErrorCode::kCorrupt, fmt::format("REST GET {}", kGenerateCsrPath), action,
        r->body.find("<html") != std::string::npos || r->body.find("<!DOCTYPE") != std::string::npos
            ? std::string("not PEM: an HTML page (a login or proxy page?)")
            : "not a PEM CSR: " + csr.error().message);
  return std::optional<node::PendingCsr>(std::move(*csr));
}

Result<std::vector<pki::Certificate>> read_trusted_cas(NodeChannels& ch, const char* action) {
  auto pem = ch.rest_pem(action, kRootCertsPath);
  if (!pem) return std::unexpected(pem.error());
  auto certs = pki::Certificate::parse_all(*pem, "certs/root");
  if (!certs)
    return ch.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kRootCertsPath), action,
                      certs.error().message);
  return certs;
}

Result<std::optional<std::string>> read_acme_pending(NodeChannels& ch) {
  constexpr const char* action = "read pending ACME certificate";
  if (ch.allows(Interface::kCli)) {
    auto reply = ch.cli(action, acme_command({"Get", "Pending", "Cert"}), true, true);
    if (!reply) return std::unexpected(reply.error());
    if (!reply->ok) return std::optional<std::string>();
    auto pem = acme_pending_certificate(*reply);
    if (!pem)
      return ch.failure(ErrorCode::kCorrupt, "SSH xCommand ACME Get Pending Cert", action,
                        pem.error().message);
    if (pem->empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(*pem));
  }
  auto r = ch.rest(action, {.method = "GET", .path = kAcmePendingCertPath, .accepted = {404}});
  if (!r) return std::unexpected(r.error());
  if (r->status == 404) return std::optional<std::string>();
  if (r->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return ch.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kAcmePendingCertPath), action,
                      "not a PEM certificate chain");
  return std::optional<std::string>(std::move(r->body));
}

Result<std::vector<node::Alarm>> read_alarms(NodeChannels& ch) {
  constexpr const char* action = "read alarms";
  auto doc = ch.xml_status(action, wire::xml::kWarningsPath, {});
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

Result<spec::RevocationChecking> read_revocation(NodeChannels& ch) {
  constexpr const char* action = "read revocation checking";
  if (ch.allows(Interface::kCli)) {
    auto reply = ch.cli(action, revocation_read_command(), true);
    if (!reply) return std::unexpected(reply.error());
    auto rc = revocation_from_reply(*reply);
    if (!rc)
      return ch.failure(ErrorCode::kCorrupt,
                        "SSH xConfiguration SIP TLS Certificate Revocation Checking", action,
                        rc.error().message);
    return rc;
  }
  auto r = ch.rest(action, {.method = "GET", .path = kRevocationPath});
  if (!r) return std::unexpected(r.error());
  auto rc = decode_revocation(r->body);
  if (!rc)
    return ch.failure(ErrorCode::kCorrupt, fmt::format("REST GET {}", kRevocationPath), action,
                      rc.error().message);
  return rc;
}

Result<wire::xml::Alternates> read_alternates(NodeChannels& ch) {
  constexpr const char* action = "read cluster peers";
  if (ch.allows(Interface::kCli)) {
    auto reply = ch.cli(action, alternates_command(), true);
    if (!reply) return std::unexpected(reply.error());
    auto alt = alternates_from_reply(*reply);
    if (!alt)
      return ch.failure(ErrorCode::kCorrupt, "SSH xConfiguration Alternates", action,
                        alt.error().message);
    return alt;
  }
  return ch.xml_alternates(action);
}

Result<node::AcmeSettings> read_acme_settings(NodeChannels& ch) {
  constexpr const char* action = "read ACME settings";
  auto settings = ch.cli(action, acme_settings_read_command(), true);
  if (!settings) return std::unexpected(settings.error());
  std::string uuid = acme_provider_uuid(*settings);
  if (uuid.empty()) uuid = kAcmeProviderUuid;
  // No provider record yet is an ERROR reply: the settings then have no
  // provider, which is what the node holds.
  auto providers = ch.cli(action, acme_providers_read_command(uuid), true, true);
  if (!providers) return std::unexpected(providers.error());
  auto a = acme_settings_from(*providers, *settings);
  if (!a)
    return ch.failure(ErrorCode::kCorrupt, "SSH xCommand ACME Settings Read", action,
                      a.error().message);
  return a;
}

}  // namespace edgecert::rest::detail
