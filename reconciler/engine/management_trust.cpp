#include "reconciler/engine/management_trust.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/pki/verify.h"

namespace edgecert {
namespace {

std::string ca_name(const pki::Certificate& c) {
  return c.subject_cn().empty() ? c.subject() : c.subject_cn();
}

Error lockout(const ManagementTrust& trust, const std::string& peers, const std::string& ca,
              const std::string& detail) {
  return Error{
      ErrorCode::kConflict,
      fmt::format("{} would lock edgecert out: after its restart it serves a certificate issued "
                  "by '{}', and edgecert's management connection trusts only access.caBundle {}, "
                  "which {}. Nothing was changed. Add the issuer's CA certificate to {} (keep the "
                  "CAs the nodes serve now until every node was rolled over), then run again",
                  peers, ca, trust.bundle_path, detail, trust.bundle_path)};
}

}  // namespace

bool ManagementTrust::covers(const std::string& peer) const {
  return std::find(https_peers.begin(), https_peers.end(), peer) != https_peers.end();
}

Result<ManagementTrust> load_management_trust(Env& env, const spec::Spec& spec, bool insecure) {
  ManagementTrust t;
  for (const auto& p : spec.peers)
    if (p.endpoint.rfind("https://", 0) == 0) t.https_peers.push_back(p.name);
  if (t.https_peers.empty()) return t;
  if (insecure) {
    t.kind = ManagementTrust::Kind::kInsecure;
    return t;
  }
  if (!spec.access || !spec.access->ca_bundle) {
    t.kind = ManagementTrust::Kind::kSystem;
    return t;
  }
  t.kind = ManagementTrust::Kind::kBundle;
  t.bundle_path = *spec.access->ca_bundle;
  auto certs = pki::load_certificates(env, t.bundle_path, read_limits::kCaBundle);
  if (!certs)
    return std::unexpected(certs.error().with_context("access.caBundle " + t.bundle_path));
  t.anchors = std::move(*certs);
  return t;
}

std::optional<Error> management_lockout(const ManagementTrust& trust, const spec::Peer& peer,
                                        const std::vector<pki::Certificate>& chain, TimePoint now) {
  if (trust.kind != ManagementTrust::Kind::kBundle || !trust.covers(peer.name) || chain.empty())
    return std::nullopt;
  pki::VerifyOptions vo;
  vo.at = now;
  vo.hostname = peer.fqdn;
  std::vector<pki::Certificate> intermediates(chain.begin() + 1, chain.end());
  auto r = pki::verify_chain(chain.front(), intermediates, trust.anchors, vo);
  if (r.ok) return std::nullopt;
  return lockout(trust, peer.name, chain.front().issuer_cn(),
                 fmt::format("does not verify it for {} ({})", peer.fqdn, r.message));
}

std::optional<Error> management_lockout_ahead(const ManagementTrust& trust,
                                              const std::vector<std::string>& peers,
                                              const std::vector<pki::Certificate>& issuer_cas,
                                              TimePoint now) {
  if (trust.kind != ManagementTrust::Kind::kBundle || issuer_cas.empty()) return std::nullopt;
  std::vector<std::string> affected;
  for (const auto& p : peers)
    if (trust.covers(p)) affected.push_back(p);
  if (affected.empty()) return std::nullopt;
  // The issuing CA (first of the chain) must verify against the bundle, the
  // rest of the issuer's chain as untrusted material.
  pki::VerifyOptions vo;
  vo.at = now;
  std::vector<pki::Certificate> rest(issuer_cas.begin() + 1, issuer_cas.end());
  auto r = pki::verify_chain(issuer_cas.front(), rest, trust.anchors, vo);
  if (r.ok) return std::nullopt;
  return lockout(trust, fmt::format("the rollout of {}", fmt::join(affected, ", ")),
                 ca_name(issuer_cas.front()), "does not hold it");
}

}  // namespace edgecert
