// Rules that span sections: cluster shape, endpoints vs. access, the
// role/product table (which SAN lists and issuers go with which product and
// roles), the rollout order and revocation checking vs. CRL sources. They
// run after decoding and position their findings through the recorded key
// positions.
#include <algorithm>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "providers/base/fqdn.h"
#include "schema/decode_internal.h"
#include "schema/values.h"

namespace edgecert::schema::detail {

// A cluster of several peers needs its own name, distinct from every peer's.
void Decoder::check_cluster_shape(bool has_cluster_fqdn) {
  if (peer_count_ > 1 && !has_cluster_fqdn)
    error(at("spec.peers"), fmt::format("spec.clusterFqdn is required when the cluster has more "
                                        "than one peer ({} peers)",
                                        peer_count_));
  if (spec_.cluster_fqdn) {
    for (const spec::Peer& p : spec_.peers)
      if (to_lower_ascii(p.fqdn) == to_lower_ascii(*spec_.cluster_fqdn) && spec_.clustered())
        error(at("spec.clusterFqdn"),
              fmt::format("spec.clusterFqdn '{}' is also the FQDN of peer '{}'; the cluster name "
                          "must be its own DNS name",
                          clip_for_message(*spec_.cluster_fqdn), p.name));
  }
}

void Decoder::check_endpoints_and_access() {
  bool any_https = false;
  for (const spec::Peer& p : spec_.peers)
    if (p.endpoint.starts_with("https://")) any_https = true;
  if (any_https && !spec_.access) {
    error(at("spec.peers"),
          "spec.access is required when a peer has an https:// endpoint "
          "(username and passwordFrom for the management API)");
  }
  if (spec_.access && !spec_.peers.empty() && !any_https)
    warning(at("spec.access"), "spec.access is not used: every peer has a sim:// endpoint");
}

void Decoder::check_roles() {
  const spec::ServerCertificate& sc = spec_.server_certificate;
  bool e = spec_.product == spec::Product::kExpresswayE;
  const char* product = spec::product_name(spec_.product);
  const std::string base = "spec.serverCertificate.";
  auto has = [&](const char* key) { return spec_.positions.all().count(base + key) > 0; };

  if (has("unifiedCmRegistrationDomains")) {
    if (!e)
      error(at(base + "unifiedCmRegistrationDomains"),
            fmt::format("unifiedCmRegistrationDomains apply only to expressway-e (product is {}); "
                        "Unified CM registration domains are an Expressway-E SAN for MRA",
                        product));
    else if (!sc.has_role(spec::Role::kMra))
      error(at(base + "unifiedCmRegistrationDomains"),
            "unifiedCmRegistrationDomains need the 'mra' role in spec.serverCertificate.roles");
  }
  if (has("xmppFederationDomains")) {
    if (!e)
      error(
          at(base + "xmppFederationDomains"),
          fmt::format("xmppFederationDomains apply only to expressway-e (product is {})", product));
    else if (!sc.has_role(spec::Role::kXmppFederation))
      error(
          at(base + "xmppFederationDomains"),
          "xmppFederationDomains need the 'xmpp-federation' role in spec.serverCertificate.roles");
  }
  if (!e && sc.extended_key_usage == spec::ExtendedKeyUsage::kServerAuthOnly)
    error(at(base + "extendedKeyUsage"),
          fmt::format("extendedKeyUsage: server-auth-only is only for expressway-e on X15.4 or "
                      "later (product is {}): an Expressway-C presents its server certificate "
                      "as a client certificate (mutual TLS to Unified CM, the traversal zone, "
                      "cluster peers), which needs clientAuth",
                      product));
  if (has("chatNodeAliases") && !sc.has_role(spec::Role::kXmppFederation))
    error(at(base + "chatNodeAliases"),
          "chatNodeAliases need the 'xmpp-federation' role in spec.serverCertificate.roles");
  if (has("phoneSecurityProfiles")) {
    if (e)
      error(at(base + "phoneSecurityProfiles"),
            "phoneSecurityProfiles apply only to expressway-c (product is expressway-e)");
    else if (!sc.has_role(spec::Role::kMra))
      error(at(base + "phoneSecurityProfiles"),
            "phoneSecurityProfiles need the 'mra' role in spec.serverCertificate.roles");
  }

  bool expressway_acme = issuer_type_ == IssuerType::kExpresswayAcme;
  bool acme_issuer = issuer_type_ == IssuerType::kAcme;
  if (spec_.positions.all().count("spec.acme") && !e)
    error(at("spec.acme"), fmt::format("spec.acme: the ACME service exists only on expressway-e "
                                       "(product is {})",
                                       product));
  if (expressway_acme) {
    if (!e)
      error(at(base + "issuer.type"),
            fmt::format("issuer type expressway-acme needs product expressway-e (product is {})",
                        product));
    else if (!spec_.positions.all().count("spec.acme"))
      error(at(base + "issuer.type"),
            "issuer type expressway-acme needs spec.acme (the node's ACME service settings)");
    else if (spec_.acme && spec_.acme->mode == spec::AcmeMode::kDisabled)
      // The node signs only while its ACME service is on.
      error(at(spec_.positions.all().count("spec.acme.mode") ? "spec.acme.mode" : "spec.acme"),
            "spec.acme.mode: issuer type expressway-acme signs through the node's ACME service, "
            "which mode disabled turns off; use manual or automated");
  }
  if ((expressway_acme || acme_issuer) && sc.has_role(spec::Role::kJabberGuest)) {
    std::string key = base + "roles";
    for (size_t i = 0; i < sc.roles.size(); ++i)
      if (sc.roles[i] == spec::Role::kJabberGuest) key = base + "roles." + std::to_string(i);
    error(at(key), fmt::format("role jabber-guest cannot be used with an ACME issuer ({}): "
                               "Expressway ACME does not support Jabber Guest",
                               enum_name(*issuer_type_)));
  }
}

void Decoder::check_rollout_order() {
  if (!order_field_) {
    for (const spec::Peer& p : spec_.peers) spec_.rollout.order.push_back(p.name);
    return;
  }
  if (!order_field_->value.IsSequence()) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < order_field_->value.size(); ++i) {
    std::string key = fmt::format("{}.{}", order_field_->path, i);
    if (!order_field_->value[i].IsScalar()) continue;
    std::string name = order_field_->value[i].Scalar();
    if (std::find(peer_names_.begin(), peer_names_.end(), name) == peer_names_.end()) {
      std::string msg =
          fmt::format("spec.rollout.order: '{}' is not a peer name", clip_for_message(name));
      if (auto s = suggest(name, peer_names_)) msg += fmt::format("; did you mean '{}'?", *s);
      error(at(key), std::move(msg));
    } else if (!seen.insert(name).second) {
      error(at(key),
            fmt::format("spec.rollout.order: peer '{}' is listed twice", clip_for_message(name)));
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : peer_names_)
    if (!seen.count(name)) missing.push_back(name);
  if (!missing.empty())
    error(order_field_->key_pos,
          fmt::format("spec.rollout.order: must list every peer exactly once; missing: {}",
                      fmt::join(missing, ", ")));
}

// Guide ch.7: with CRL mode on, a node checks peers against the CRLs it
// holds (distribution points, the manual file) and, with CRL network fetch
// on, the CDPs named in the peers' certificates. No CRL at all means every
// peer's status is unknown (rejected under "treat as revoked").
void Decoder::check_revocation_sources() {
  const auto& rc = spec_.revocation_checking;
  const auto& positions = spec_.positions.all();
  auto first_of = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      if (positions.count(k)) return at(k);
    return at("spec.revocationChecking");
  };
  const bool sources = crl_points_listed_ || crl_manual_listed_;
  const bool crl_checking = rc && rc->enabled && rc->crl;

  if (crl_checking && !sources) {
    if (!spec_.crl) {
      // spec.crl absent: the nodes' CRL settings are not managed, so a CRL set
      // by hand may be there; say it, do not refuse.
      warning(first_of({"spec.revocationChecking.crl", "spec.revocationChecking.enabled"}),
              fmt::format("spec.revocationChecking: CRL checking is on but spec.crl is absent, "
                          "so edgecert neither sets nor checks the nodes' CRL sources; {}; "
                          "add spec.crl with the CAs' distribution points or a manualFile",
                          rc->cdp_downloads
                              ? "the nodes rely on the CRL distribution points in peer "
                                "certificates (cdpDownloads)"
                              : "with cdpDownloads off, unless a CRL was set on every node by "
                                "hand, no peer's revocation status can be established"));
    } else if (!rc->cdp_downloads) {
      error(first_of({"spec.revocationChecking.cdpDownloads", "spec.revocationChecking.crl"}),
            fmt::format("spec.revocationChecking: CRL checking is on with cdpDownloads off, "
                        "but spec.crl gives the nodes no CRL (no enabled distribution point, "
                        "no manualFile): no peer's revocation status can be established{}; "
                        "add a distribution point or a manualFile under spec.crl, turn on "
                        "cdpDownloads, or set crl: false",
                        rc->fallback == spec::RevocationFallback::kTreatAsRevoked
                            ? " and fallback treat-as-revoked rejects every peer"
                            : ""));
    } else {
      warning(first_of({"spec.revocationChecking.crl", "spec.revocationChecking.enabled"}),
              "spec.revocationChecking: CRL checking is on but spec.crl lists no enabled "
              "distribution point and no manualFile: the nodes rely only on the CRL "
              "distribution points in peer certificates (cdpDownloads), which edgecert does "
              "not check ahead, and a certificate without one has no CRL; list the CAs' CRLs "
              "under spec.crl");
    }
  }

  if (sources && !crl_checking) {
    std::string why = !rc            ? "spec.revocationChecking is absent (the node default is off)"
                      : !rc->enabled ? "spec.revocationChecking.enabled is false"
                                     : "spec.revocationChecking.crl is false";
    warning(at("spec.crl"),
            fmt::format("spec.crl: CRL sources are configured but SIP TLS revocation checking "
                        "does not use CRLs ({}): the nodes download the CRLs without checking "
                        "peers against them; turn on revocationChecking (enabled and crl) or "
                        "remove the sources",
                        why));
  }

  if (spec_.crl && spec_.crl->ca_bundle) {
    bool https = false;
    if (spec_.crl->automatic_updates)
      for (const std::string& u : spec_.crl->automatic_updates->distribution_points)
        if (u.starts_with("https://")) https = true;
    if (!https)
      warning(at("spec.crl.caBundle"),
              "spec.crl.caBundle is not used: no distribution point in "
              "spec.crl.automaticUpdates is https://");
  }
}

}  // namespace edgecert::schema::detail
