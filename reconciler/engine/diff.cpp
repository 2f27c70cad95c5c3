#include "reconciler/engine/diff.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"

namespace edgecert {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::set<std::string> lower_set(const std::vector<std::string>& v) {
  std::set<std::string> out;
  for (const auto& s : v) out.insert(to_lower_ascii(s));
  return out;
}

// The live key expressed the way the spec spells it, or "" when neither.
std::optional<std::pair<spec::KeyAlgorithm, int>> key_of(const pki::KeyInfo& k) {
  if (k.algorithm == "RSA" || k.algorithm == "rsaEncryption")
    return std::make_pair(spec::KeyAlgorithm::kRsa, k.bits);
  if (k.algorithm == "EC" || k.algorithm == "id-ecPublicKey")
    return std::make_pair(spec::KeyAlgorithm::kEcdsa, k.bits);
  return std::nullopt;
}

std::string live_key_name(const pki::KeyInfo& k) {
  if (auto kk = key_of(k)) return spec::key_display_name(kk->first, kk->second);
  return k.algorithm;
}

bool contains_fp(const std::vector<pki::Certificate>& v, const std::string& fp) {
  return std::any_of(v.begin(), v.end(),
                     [&](const pki::Certificate& c) { return c.sha256_fingerprint() == fp; });
}

std::string san_difference(const std::set<std::string>& have, const std::set<std::string>& want) {
  std::vector<std::string> missing, extra;
  for (const auto& w : want)
    if (!have.count(w)) missing.push_back(w);
  for (const auto& h : have)
    if (!want.count(h)) extra.push_back(h);
  std::string out = "subject alternative names differ:";
  if (!missing.empty()) out += " missing " + join(missing);
  if (!missing.empty() && !extra.empty()) out += ";";
  if (!extra.empty()) out += " not in the spec " + join(extra);
  return out;
}

std::string renewal_reason(const pki::Certificate& leaf, const spec::ServerCertificate& config,
                           TimePoint now) {
  std::string expiry = format_time(leaf.not_after());
  if (now > leaf.not_after()) return fmt::format("expired on {}", expiry);
  if (config.renew_before) {
    auto days = std::chrono::duration_cast<std::chrono::hours>(*config.renew_before).count() / 24;
    return fmt::format("expires {}, inside the renewal window (renewBefore {}d)", expiry, days);
  }
  return fmt::format("expires {}, past {:.0f}% of its lifetime (renewAtLifetimeFraction {:.3g})",
                     expiry, config.renew_at_lifetime_fraction * 100,
                     config.renew_at_lifetime_fraction);
}

bool same_schedule(const std::optional<spec::Schedule>& a, const std::optional<spec::Schedule>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->days == b->days && a->minute_of_day == b->minute_of_day);
}

}  // namespace

node::AcmeSettings desired_acme_settings(const spec::Acme& a) {
  node::AcmeSettings s;
  s.provider_name = a.provider_name;
  s.provider_directory = a.provider_directory;
  s.email = a.email;
  s.terms_accepted = a.accept_terms_of_service;
  s.mode = a.mode;
  s.renew_key = a.renew_key;
  s.schedule = a.schedule;
  return s;
}

bool same_acme_settings(const node::AcmeSettings& a, const node::AcmeSettings& b) {
  return a.provider_name == b.provider_name && a.provider_directory == b.provider_directory &&
         a.email == b.email && a.terms_accepted == b.terms_accepted && a.mode == b.mode &&
         a.renew_key == b.renew_key && same_schedule(a.schedule, b.schedule);
}

std::optional<std::vector<pki::Certificate>> pending_acme_chain(const node::NodeState& state) {
  if (!state.acme_status.pending_certificate_pem) return std::nullopt;
  auto chain =
      pki::Certificate::parse_all(*state.acme_status.pending_certificate_pem, "pending ACME");
  if (!chain || chain->empty()) return std::nullopt;
  return std::move(*chain);
}

bool is_factory_certificate(const pki::Certificate& leaf) {
  return to_lower_ascii(leaf.issuer_cn()).find("temporary") != std::string::npos;
}

bool node_signs(const spec::Spec& spec) {
  return std::holds_alternative<spec::ExpresswayAcmeIssuer>(spec.server_certificate.issuer);
}

std::vector<pki::Certificate> DesiredTrust::required() const {
  std::vector<pki::Certificate> out;
  for (const auto* list : {&issuer_cas, &anchors})
    for (const auto& c : *list)
      if (!contains_fp(out, c.sha256_fingerprint())) out.push_back(c);
  return out;
}

Assessment assess_certificate(const std::vector<pki::Certificate>& chain,
                              const DesiredCertificate& desired, const DesiredTrust& trust,
                              const spec::ServerCertificate& config, TimePoint now,
                              bool check_renewal) {
  Assessment a;
  if (chain.empty()) {
    a.problems.push_back("no server certificate");
    return a;
  }
  const pki::Certificate& leaf = chain.front();
  if (is_factory_certificate(leaf)) {
    // Everything else about it is wrong too; one reason says it all.
    a.problems.push_back(
        fmt::format("factory temporary certificate (issued by '{}')", leaf.issuer_cn()));
    return a;
  }
  if (to_lower_ascii(leaf.subject_cn()) != desired.common_name)
    a.problems.push_back(fmt::format("common name is '{}', the spec wants '{}'", leaf.subject_cn(),
                                     desired.common_name));
  auto have = lower_set(leaf.subject_alt_names().dns);
  auto want = lower_set(desired.subject_alt_names);
  if (have != want) a.problems.push_back(san_difference(have, want));
  auto key = key_of(leaf.key_info());
  if (!key || key->first != desired.key.algorithm || key->second != desired.key.size)
    a.problems.push_back(
        fmt::format("key is {}, the spec wants {}", live_key_name(leaf.key_info()),
                    spec::key_display_name(desired.key.algorithm, desired.key.size)));
  if (leaf.signature_digest() != spec::digest_name(desired.digest))
    a.problems.push_back(fmt::format("signed with {}, the spec wants {}", leaf.signature_digest(),
                                     spec::digest_name(desired.digest)));
  if (!trust.issuer_cas.empty()) {
    bool from_issuer =
        std::any_of(trust.issuer_cas.begin(), trust.issuer_cas.end(),
                    [&](const pki::Certificate& ca) { return leaf.is_signed_by(ca); });
    if (!from_issuer)
      a.problems.push_back(fmt::format("issued by '{}', not by the configured issuer ({} '{}')",
                                       leaf.issuer_cn(), spec::issuer_type_name(config.issuer),
                                       trust.issuer_cas.front().subject_cn()));
  }
  auto anchors = trust.required();
  if (!anchors.empty()) {
    pki::VerifyOptions vo;
    vo.at = now;
    vo.hostname = desired.peer_fqdn;
    std::vector<pki::Certificate> intermediates(chain.begin() + 1, chain.end());
    auto r = pki::verify_chain(leaf, intermediates, anchors, vo);
    if (!r.ok)
      a.problems.push_back(
          fmt::format("not valid against the spec's trusted CAs: {} ({}) at depth {}", r.message,
                      r.error_name, r.depth));
  }
  if (check_renewal &&
      now >= pki::renewal_time(leaf, config.renew_before, config.renew_at_lifetime_fraction))
    a.problems.push_back(renewal_reason(leaf, config, now));
  a.ok = a.problems.empty();
  return a;
}

std::vector<std::string> chain_ca_fingerprints(const std::vector<pki::Certificate>& chain,
                                               const std::vector<pki::Certificate>& trusted,
                                               TimePoint now) {
  if (chain.empty()) return {};
  pki::VerifyOptions vo;
  vo.at = now;
  std::vector<pki::Certificate> inter(chain.begin() + 1, chain.end());
  auto r = pki::verify_chain(chain.front(), inter, trusted, vo);
  if (r.chain_fingerprints.size() <= 1) return {};
  return std::vector<std::string>(r.chain_fingerprints.begin() + 1, r.chain_fingerprints.end());
}

bool csr_matches(const node::PendingCsr& csr, const DesiredCertificate& desired) {
  auto key = key_of(csr.key);
  return to_lower_ascii(csr.common_name) == desired.common_name &&
         lower_set(csr.dns_names) == lower_set(desired.subject_alt_names) && key &&
         key->first == desired.key.algorithm && key->second == desired.key.size &&
         csr.digest == spec::digest_name(desired.digest);
}

bool NodeDiff::has_changes() const {
  return certificate != CertificateChange::kNone || discard_pending_csr || !missing_cas.empty() ||
         !prune_cas.empty() || crl_settings || manual_crl_path || revocation || tls ||
         acme_settings || discard_pending_acme || restart_required_other;
}

bool ClusterDiff::any_certificate_change() const {
  return std::any_of(nodes.begin(), nodes.end(),
                     [](const NodeDiff& n) { return n.certificate != CertificateChange::kNone; });
}

bool ClusterDiff::has_changes() const {
  return std::any_of(nodes.begin(), nodes.end(), [](const NodeDiff& n) { return n.has_changes(); });
}

const NodeDiff* ClusterDiff::find(const std::string& peer) const {
  for (const auto& n : nodes)
    if (n.peer == peer) return &n;
  return nullptr;
}

namespace {

// Every node serves a certificate valid for the spec (renewal due is still
// valid): what the executor's recovery requires before it restores TLS
// verification, asked of the live state.
bool all_serve_valid(const spec::Spec& spec, const ClusterLive& live, const ClusterDiff& diff,
                     const DesiredTrust& trust, TimePoint now) {
  return std::all_of(live.nodes.begin(), live.nodes.end(), [&](const NodeLive& n) {
    const NodeDiff* d = diff.find(n.peer);
    return d && n.state && !n.state->server_chain.empty() &&
           assess_certificate(n.state->server_chain, d->desired, trust, spec.server_certificate,
                              now, /*check_renewal=*/false)
               .ok;
  });
}

ClusterTlsChange tls_change(const spec::Spec& spec, const ClusterLive& live,
                            const ClusterDiff& diff, const std::vector<std::string>& targets,
                            const DesiredTrust& trust, TimePoint now) {
  auto targeted = [&](const std::string& peer) {
    return targets.empty() || std::find(targets.begin(), targets.end(), peer) != targets.end();
  };
  bool cert_changes = std::any_of(diff.nodes.begin(), diff.nodes.end(), [&](const NodeDiff& d) {
    return targeted(d.peer) &&
           (d.certificate != CertificateChange::kNone || d.restart_required_other);
  });
  // An unclustered node (a one-peer spec) has no peer to verify: relaxing
  // would only weaken it.
  const bool clustered = spec.peers.size() > 1;
  ClusterTlsChange out;
  const bool restore_first = all_serve_valid(spec, live, diff, trust, now);
  for (const NodeLive& n : live.nodes) {
    spec::TlsVerification mode = n.state->tls_verification;
    if (restore_first && mode != spec.tls_verification) {
      out.restore_first.emplace_back(n.peer, mode);
      mode = spec.tls_verification;
    }
    if (clustered && cert_changes && spec.rollout.relax_tls_verification &&
        mode != spec::TlsVerification::kPermissive) {
      out.relax.push_back(n.peer);
      mode = spec::TlsVerification::kPermissive;
    }
    if (mode != spec.tls_verification) out.restore.emplace_back(n.peer, mode);
  }
  return out;
}

}  // namespace

Result<ClusterDiff> diff_cluster(const spec::Spec& spec, const ClusterLive& live,
                                 const DesiredTrust& trust, Env& env, TimePoint now,
                                 const std::vector<std::string>& targets,
                                 const std::vector<std::string>& replace) {
  auto targeted = [&](const std::string& peer) {
    return targets.empty() || std::find(targets.begin(), targets.end(), peer) != targets.end();
  };
  ClusterDiff out;
  const spec::ServerCertificate& config = spec.server_certificate;
  std::optional<std::string> manual_crl_fp;
  if (spec.crl && spec.crl->manual_file) {
    auto data = env.read_file(*spec.crl->manual_file);
    if (!data) return std::unexpected(data.error());
    manual_crl_fp = pki::sha256_fingerprint(*data);
  }
  const auto required = trust.required();
  const bool acme_on_node = node_signs(spec);

  for (const spec::Peer& peer : spec.peers) {
    const NodeLive* nl = live.find(peer.name);
    if (!nl || !nl->state)
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("{}: read state: {}", peer.name,
                                    nl && nl->error ? nl->error->message : "not read"));
    const node::NodeState& st = *nl->state;
    NodeDiff d;
    d.peer = peer.name;
    d.desired = desired_certificate(spec, peer);

    // Server certificate.
    Assessment serving = assess_certificate(st.server_chain, d.desired, trust, config, now);
    std::optional<std::vector<pki::Certificate>> pending_acme;
    if (acme_on_node && !serving.ok) pending_acme = pending_acme_chain(st);
    if (pending_acme && assess_certificate(*pending_acme, d.desired, trust, config, now).ok) {
      // Signed by the node's ACME service (an interrupted run, or the node's
      // own automated renewal): deploying it is all that is missing.
      d.certificate = CertificateChange::kDeployOnly;
      d.pending_acme_sha256 = pending_acme->front().sha256_fingerprint();
      d.certificate_reasons = serving.problems;
      d.certificate_reasons.push_back(
          "a certificate matching the spec is pending in the node's ACME service; only its "
          "deployment is missing");
    } else if (!serving.ok) {
      Assessment staged;
      if (!st.staged_chain.empty())
        staged = assess_certificate(st.staged_chain, d.desired, trust, config, now);
      if (!st.staged_chain.empty() && staged.ok) {
        d.certificate = CertificateChange::kRestartOnly;
        d.certificate_reasons.push_back(
            "a certificate matching the spec is staged; the node has not restarted since");
      } else {
        d.certificate = CertificateChange::kReissue;
        d.certificate_reasons = serving.problems;
        if (!st.staged_chain.empty())
          d.certificate_reasons.push_back(
              "the staged certificate does not match the spec either: " + join(staged.problems));
      }
    } else if (!st.staged_chain.empty() && st.staged_chain.front().sha256_fingerprint() !=
                                               st.server_chain.front().sha256_fingerprint()) {
      Assessment staged = assess_certificate(st.staged_chain, d.desired, trust, config, now);
      if (!staged.ok) {
        // A restart would activate it: replace it with a good one first.
        d.certificate = CertificateChange::kReissue;
        d.certificate_reasons.push_back(
            "a certificate that does not match the spec is staged and would become active at "
            "the next restart: " +
            join(staged.problems));
      }
    }
    // Forced renewal: a good certificate (serving, or staged awaiting its
    // restart) is reissued all the same; work already planned stays as it is.
    if ((d.certificate == CertificateChange::kNone ||
         d.certificate == CertificateChange::kRestartOnly) &&
        std::find(replace.begin(), replace.end(), peer.name) != replace.end()) {
      d.certificate = CertificateChange::kReissue;
      d.certificate_reasons = {"replacement requested with --replace"};
    }
    if ((d.certificate == CertificateChange::kReissue ||
         d.certificate == CertificateChange::kDeployOnly) &&
        !st.server_chain.empty())
      d.superseded = st.server_chain.front();

    if (st.pending_csr) {
      if (d.certificate == CertificateChange::kDeployOnly) {
        // The node pairs the pending ACME certificate with this CSR's key at
        // deploy: it must stay.
      } else if (d.certificate == CertificateChange::kReissue &&
                 csr_matches(*st.pending_csr, d.desired)) {
        d.reuse_pending_csr = true;
      } else {
        d.discard_pending_csr = true;
        d.discard_reason =
            d.certificate == CertificateChange::kReissue
                ? "the pending CSR does not match the spec (it is replaced by a new one)"
                : "a CSR left over from an earlier run is pending";
      }
    }
    if (st.restart_required && d.certificate == CertificateChange::kNone && st.staged_chain.empty())
      d.restart_required_other = true;

    // Trusted CAs.
    for (const auto& ca : required)
      if (!contains_fp(st.trusted_cas, ca.sha256_fingerprint())) d.missing_cas.push_back(ca);

    out.nodes.push_back(std::move(d));
  }

  // Prune: CAs no node is going to need. What stays needed after the rollout:
  // the chains of certificates that are not being replaced, and the issuer's
  // chain (the new certificates chain to it).
  if (spec.trusted_cas && spec.trusted_cas->prune) {
    std::set<std::string> needed;
    for (const auto& c : required) needed.insert(c.sha256_fingerprint());
    for (const NodeDiff& d : out.nodes) {
      const node::NodeState& st = *live.find(d.peer)->state;
      if (d.certificate != CertificateChange::kNone && targeted(d.peer)) continue;
      for (const auto* chain : {&st.server_chain, &st.staged_chain})
        for (const auto& fp : chain_ca_fingerprints(*chain, st.trusted_cas, now)) needed.insert(fp);
    }
    for (NodeDiff& d : out.nodes) {
      if (!targeted(d.peer)) continue;
      const node::NodeState& st = *live.find(d.peer)->state;
      for (const auto& ca : st.trusted_cas) {
        std::string fp = ca.sha256_fingerprint();
        if (contains_fp(required, fp)) continue;
        if (needed.count(fp)) {
          d.prune_refused.push_back(fmt::format(
              "'{}' ({}) is not in the spec but a serving or staged certificate still chains to "
              "it; it stays",
              ca.subject_cn(), fp.substr(0, 23)));
          continue;
        }
        d.prune_cas.push_back(ca);
      }
    }
  }

  // Settings that need no restart.
  for (NodeDiff& d : out.nodes) {
    const node::NodeState& st = *live.find(d.peer)->state;
    if (spec.crl && spec.crl->automatic_updates) {
      const auto& a = *spec.crl->automatic_updates;
      node::CrlSettings want{a.enabled, a.distribution_points, a.daily_update_minute};
      if (!(want == st.crl)) d.crl_settings = want;
    }
    if (manual_crl_fp && st.manual_crl_sha256 != manual_crl_fp) {
      d.manual_crl_path = *spec.crl->manual_file;
      d.manual_crl_sha256 = *manual_crl_fp;
    }
    if (spec.revocation_checking) {
      const auto& w = *spec.revocation_checking;
      const auto& h = st.revocation;
      if (w.enabled != h.enabled || w.ocsp != h.ocsp || w.crl != h.crl ||
          w.cdp_downloads != h.cdp_downloads || w.fallback != h.fallback)
        d.revocation = w;
    }
    if (st.tls_verification != spec.tls_verification) d.tls = spec.tls_verification;
    if (spec.acme) {
      node::AcmeSettings want = desired_acme_settings(*spec.acme);
      if (!same_acme_settings(want, st.acme)) d.acme_settings = want;
      if (auto pending = pending_acme_chain(st);
          pending && d.certificate != CertificateChange::kDeployOnly) {
        Assessment a = assess_certificate(*pending, d.desired, trust, config, now);
        if (!a.ok) {
          d.discard_pending_acme = true;
          d.discard_pending_acme_reason =
              "the certificate pending in the node's ACME service does not match the spec (" +
              join(a.problems) + "); in automated mode the node would deploy it";
        }
      }
    }
  }
  out.tls = tls_change(spec, live, out, targets, trust, now);
  return out;
}

}  // namespace edgecert
