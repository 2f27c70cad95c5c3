#include "reconciler/engine/desired.h"

#include <algorithm>

#include "providers/base/fqdn.h"

namespace edgecert {

namespace {

// Appends `name` lower-cased unless already present (case-insensitively).
void add_name(std::vector<std::string>& names, const std::string& name) {
  if (name.empty()) return;
  std::string lower = to_lower_ascii(name);
  if (std::find(names.begin(), names.end(), lower) == names.end()) names.push_back(lower);
}

}  // namespace

DesiredCertificate desired_certificate(const spec::Spec& spec, const spec::Peer& peer) {
  using spec::Product;
  using spec::Role;
  const spec::ServerCertificate& sc = spec.server_certificate;
  const bool is_e = spec.product == Product::kExpresswayE;
  const bool is_c = spec.product == Product::kExpresswayC;
  auto has = [&sc](Role r) { return sc.has_role(r); };

  DesiredCertificate d;
  d.peer_name = peer.name;
  d.peer_fqdn = to_lower_ascii(peer.fqdn);
  d.clustered = spec.clustered();
  // Validation guarantees cluster_fqdn for clustered specs; fall back to the
  // peer FQDN rather than produce an empty CN if it ever is missing.
  const std::string cluster_fqdn =
      spec.cluster_fqdn ? to_lower_ascii(*spec.cluster_fqdn) : std::string();
  d.common_name = d.clustered && !cluster_fqdn.empty() ? cluster_fqdn : d.peer_fqdn;
  d.subject = sc.subject;
  d.key = sc.key;
  d.digest = sc.digest;
  d.product = spec.product;
  d.roles = sc.roles;
  d.key_rotation = sc.key_rotation;
  if (sc.extended_key_usage == spec::ExtendedKeyUsage::kServerAuthOnly)
    d.required_extended_key_usage = {"serverAuth"};
  d.issuer_copies_subject = std::holds_alternative<spec::OpensslCaIssuer>(sc.issuer) ||
                            std::holds_alternative<spec::ExternalIssuer>(sc.issuer);
  d.node_adds_chat_node_aliases = is_c;

  std::vector<std::string>& sans = d.subject_alt_names;
  add_name(sans, d.common_name);
  add_name(sans, d.peer_fqdn);

  // Table rows, in order.
  if (has(Role::kMra) && is_e && sc.unified_cm_registration_domains) {
    const auto& ucm = *sc.unified_cm_registration_domains;
    for (const std::string& dom : ucm.domains) {
      add_name(sans, ucm.format == spec::DomainFormat::kCollabEdgeDns ? "collab-edge." + dom : dom);
    }
  }
  if (has(Role::kXmppFederation) && is_e) {
    for (const std::string& dom : sc.xmpp_federation_domains) add_name(sans, dom);
  }
  if (has(Role::kXmppFederation)) {
    for (const std::string& alias : sc.chat_node_aliases) add_name(sans, alias);
  }
  if (has(Role::kMra) && is_c) {
    for (const std::string& p : sc.phone_security_profiles) add_name(sans, p);
  }
  if (d.clustered && is_c &&
      (has(Role::kMra) || has(Role::kJabberGuest) || has(Role::kXmppFederation))) {
    add_name(sans, cluster_fqdn);
  }

  for (const std::string& n : sc.additional_names) add_name(sans, n);
  return d;
}

std::vector<std::string> tolerated_extra_names(const std::vector<std::string>& names,
                                               const DesiredCertificate& desired) {
  std::vector<std::string> out;
  if (!desired.node_adds_chat_node_aliases) return out;
  for (const std::string& n : names) {
    std::string lower = to_lower_ascii(n);
    bool wanted = std::find(desired.subject_alt_names.begin(), desired.subject_alt_names.end(),
                            lower) != desired.subject_alt_names.end();
    if (wanted || std::find(out.begin(), out.end(), lower) != out.end()) continue;
    if (lower.find('*') == std::string::npos && check_fqdn(lower) == FqdnProblem::kOk)
      out.push_back(lower);
  }
  return out;
}

pki::RoleContext role_context(const DesiredCertificate& desired) {
  pki::RoleContext context;
  for (spec::Role r : desired.roles) context.roles.emplace_back(spec::role_name(r));
  context.clustered = desired.clustered;
  return context;
}

pki::CsrOptions csr_options(const DesiredCertificate& desired) {
  pki::CsrOptions o;
  o.common_name = desired.common_name;
  o.subject = desired.subject;
  o.dns_names = desired.subject_alt_names;
  o.digest = desired.digest;
  o.extended_key_usage = desired.extended_key_usage;
  return o;
}

}  // namespace edgecert
