#include "reconciler/engine/diff.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"
#include "reconciler/engine/revocation_report.h"
#include "schema/values.h"

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

std::string bracketed(const std::vector<std::string>& names) {
  return "[" + join(names) + "]";
}

// "subject alternative names: live [a, b], spec [a, c] (missing c; not in
// the spec b)": what the plan shows for a SAN difference. Names the node adds
// itself on Expressway-C (tolerated) are neither missing nor extra.
std::optional<std::string> san_difference(const std::vector<std::string>& live_names,
                                          const DesiredCertificate& desired) {
  auto have = lower_set(live_names);
  auto want = lower_set(desired.subject_alt_names);
  auto tolerated = tolerated_extra_names(live_names, desired);
  std::vector<std::string> missing, extra;
  for (const auto& w : want)
    if (!have.count(w)) missing.push_back(w);
  for (const auto& h : have)
    if (!want.count(h) && std::find(tolerated.begin(), tolerated.end(), h) == tolerated.end())
      extra.push_back(h);
  if (missing.empty() && extra.empty()) return std::nullopt;
  std::string detail;
  if (!missing.empty()) detail += "missing " + join(missing);
  if (!extra.empty())
    detail += (detail.empty() ? "" : ", ") + std::string("not in the spec ") + join(extra);
  std::vector<std::string> live_in_order;
  for (const auto& n : live_names) live_in_order.push_back(to_lower_ascii(n));
  return fmt::format("subject alternative names: live {}, spec {} ({})", bracketed(live_in_order),
                     bracketed(desired.subject_alt_names), detail);
}

// The note for names an Expressway-C added itself, or "".
std::string tolerated_note(const std::vector<std::string>& live_names,
                           const DesiredCertificate& desired, const char* where) {
  auto tolerated = tolerated_extra_names(live_names, desired);
  if (tolerated.empty()) return "";
  return fmt::format(
      "{} also names {}: tolerated, an Expressway-C adds the IM and Presence chat node aliases "
      "it discovers to its CSRs by itself",
      where, join(tolerated));
}

// One reason per subject field that differs ("subject.organization: live
// 'Example KK', spec 'Example GK'").
std::vector<std::string> subject_differences(const pki::SubjectFields& live,
                                             const pki::SubjectFields& want) {
  std::vector<std::string> out;
  for (auto [name, have, spec_value] :
       {std::tuple<const char*, const std::string*, const std::string*>{"country", &live.country,
                                                                        &want.country},
        {"state", &live.state, &want.state},
        {"locality", &live.locality, &want.locality},
        {"organization", &live.organization, &want.organization},
        {"organizationalUnit", &live.organizational_unit, &want.organizational_unit},
        {"email", &live.email, &want.email}})
    if (*have != *spec_value)
      out.push_back(fmt::format("subject.{}: live '{}', spec '{}'", name, *have, *spec_value));
  return out;
}

std::string spki_short(const std::string& spki) {
  return spki.substr(0, 23);
}

// Signature hashes weaker than SHA-256.
bool weak_hash(const std::string& digest) {
  return digest == "sha1" || digest == "md5" || digest == "md4" || digest == "sha224";
}

std::string renewal_reason(const pki::Certificate& leaf, const spec::ServerCertificate& config,
                           TimePoint now) {
  std::string expiry = format_time(leaf.not_after());
  if (now > leaf.not_after()) return fmt::format("expired on {}", expiry);
  if (config.renew_before) {
    return fmt::format("expires {}, inside the renewal window (renewBefore {})", expiry,
                       schema::format_duration(*config.renew_before));
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
    a.problems.push_back(describe_factory_certificate(leaf));
    return a;
  }
  if (to_lower_ascii(leaf.subject_cn()) != desired.common_name)
    a.problems.push_back(
        fmt::format("common name: live '{}', spec '{}'", leaf.subject_cn(), desired.common_name));
  const auto live_names = leaf.subject_alt_names().dns;
  if (auto why = san_difference(live_names, desired)) a.problems.push_back(*why);
  if (auto note = tolerated_note(live_names, desired, "the certificate"); !note.empty())
    a.notes.push_back(note);
  if (desired.issuer_copies_subject)
    for (auto& why :
         subject_differences(pki::subject_fields_of(leaf.subject_attributes()), desired.subject))
      a.problems.push_back(std::move(why));
  auto key = key_of(leaf.key_info());
  if (!key || key->first != desired.key.algorithm || key->second != desired.key.size)
    a.problems.push_back(
        fmt::format("key: live {}, spec {}", live_key_name(leaf.key_info()),
                    spec::key_display_name(desired.key.algorithm, desired.key.size)));
  if (!desired.retained_spki.empty() && pki::spki_sha256(leaf) != desired.retained_spki)
    a.problems.push_back(fmt::format(
        "public key: live SPKI {}, spec keyRotation: retain wants the current key (SPKI {}); "
        "the key was not kept",
        spki_short(pki::spki_sha256(leaf)), spki_short(desired.retained_spki)));
  if (leaf.has_extended_key_usage()) {
    auto eku = leaf.extended_key_usage();
    std::vector<std::string> missing;
    for (const auto& need : desired.required_extended_key_usage)
      if (std::find(eku.begin(), eku.end(), need) == eku.end()) missing.push_back(need);
    if (!missing.empty())
      a.problems.push_back(fmt::format(
          "extended key usage: live {}, spec {} (missing {}{})", fmt::join(eku, "+"),
          fmt::join(desired.required_extended_key_usage, "+"), join(missing),
          std::find(missing.begin(), missing.end(), "clientAuth") != missing.end()
              ? ", which Expressway needs to present the certificate as a client for mutual "
                "TLS; extendedKeyUsage: server-auth-only accepts serverAuth alone on "
                "Expressway-E X15.4+"
              : ""));
  }
  // The CA chooses its own signature hash (spec digest is the CSR's): only a
  // weak one is worth a word.
  if (weak_hash(leaf.signature_digest()))
    a.warnings.push_back(fmt::format(
        "the CA signed the certificate with {}, weaker than SHA-256 (the spec's digest {} is "
        "the CSR's; the CA picks its own hash)",
        leaf.signature_digest(), spec::digest_name(desired.digest)));
  if (!trust.issuer_cas.empty()) {
    bool from_issuer =
        std::any_of(trust.issuer_cas.begin(), trust.issuer_cas.end(),
                    [&](const pki::Certificate& ca) { return leaf.is_signed_by(ca); });
    if (!from_issuer)
      a.problems.push_back(fmt::format("issuer: live '{}', spec {} '{}'", leaf.issuer_cn(),
                                       spec::issuer_type_name(config.issuer),
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

std::vector<std::string> csr_differences(const node::PendingCsr& csr,
                                         const DesiredCertificate& desired) {
  std::vector<std::string> out;
  if (to_lower_ascii(csr.common_name) != desired.common_name)
    out.push_back(
        fmt::format("common name: CSR '{}', spec '{}'", csr.common_name, desired.common_name));
  if (auto why = san_difference(csr.dns_names, desired)) out.push_back(*why);
  // The node writes the requested subject into its CSR whatever the issuer.
  for (auto& why : subject_differences(csr.subject, desired.subject)) out.push_back(why);
  auto key = key_of(csr.key);
  if (!key || key->first != desired.key.algorithm || key->second != desired.key.size)
    out.push_back(fmt::format("key: CSR {}, spec {}", live_key_name(csr.key),
                              spec::key_display_name(desired.key.algorithm, desired.key.size)));
  if (csr.digest != spec::digest_name(desired.digest))
    out.push_back(
        fmt::format("digest: CSR {}, spec {}", csr.digest, spec::digest_name(desired.digest)));
  if (!desired.retained_spki.empty() && csr.spki_sha256 != desired.retained_spki)
    out.push_back(fmt::format(
        "public key: CSR SPKI {}, spec keyRotation: retain wants the current key (SPKI {})",
        spki_short(csr.spki_sha256), spki_short(desired.retained_spki)));
  return out;
}

bool csr_matches(const node::PendingCsr& csr, const DesiredCertificate& desired) {
  return csr_differences(csr, desired).empty();
}

std::string apply_key_retention(DesiredCertificate& desired,
                                const std::vector<pki::Certificate>& server_chain) {
  desired.retained_spki.clear();
  if (desired.key_rotation != spec::KeyRotation::kRetain) return "";
  if (server_chain.empty()) return "keyRotation: retain: the node serves no certificate";
  const pki::Certificate& leaf = server_chain.front();
  if (is_factory_certificate(leaf))
    return "keyRotation: retain does not keep the key of the factory temporary certificate: "
           "a new key is made";
  auto key = key_of(leaf.key_info());
  if (!key || key->first != desired.key.algorithm || key->second != desired.key.size)
    return fmt::format(
        "keyRotation: retain cannot keep the current key (live {}, spec {}): a new key is made",
        live_key_name(leaf.key_info()),
        spec::key_display_name(desired.key.algorithm, desired.key.size));
  desired.retained_spki = pki::spki_sha256(leaf);
  return "";
}

bool NodeDiff::has_changes() const {
  return certificate != CertificateChange::kNone || discard_pending_csr || !missing_cas.empty() ||
         !prune_cas.empty() || crl_settings || manual_crl_path || remove_manual_crl || revocation ||
         tls || acme_settings || discard_pending_acme || restart_required_other;
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
  const bool will_relax = clustered && cert_changes && spec.rollout.relax_tls_verification;
  for (const NodeLive& n : live.nodes) {
    spec::TlsVerification mode = n.state->tls_verification;
    // A node whose mode the operator sets by hand and that this plan would
    // relax again anyway stays permissive: restoring first would only send
    // the operator to the same page twice (and, after a manual relax, round
    // in circles: the previous run stopped for exactly that relax).
    const auto& manual = n.state->manual_operations;
    const bool manual_tls = std::find(manual.begin(), manual.end(),
                                      node::ManualOperation::kSetTlsVerification) != manual.end();
    const bool keep_relaxed =
        manual_tls && will_relax && mode == spec::TlsVerification::kPermissive;
    if (restore_first && mode != spec.tls_verification && !keep_relaxed) {
      out.restore_first.emplace_back(n.peer, mode);
      mode = spec.tls_verification;
    }
    // A node whose mode is set by hand gets its relax step even when it is
    // permissive already (the operator did it after the last run stopped for
    // it, or it is the factory default): the step is then found done, and
    // the journal records that this rollout relaxed it, as for any node.
    if (will_relax && (mode != spec::TlsVerification::kPermissive || manual_tls)) {
      out.relax.push_back(n.peer);
      mode = spec::TlsVerification::kPermissive;
    }
    if (mode != spec.tls_verification) out.restore.emplace_back(n.peer, mode);
  }
  return out;
}

// The guide's CA-set rules (pki::check_ca_set, the same rules validation
// runs on the spec's files) on every node's trusted list as it will be after
// the plan: the live list, plus the appends, minus the prunes.
std::optional<Error> check_live_trust(const ClusterLive& live, ClusterDiff& diff, TimePoint now) {
  for (NodeDiff& d : diff.nodes) {
    const node::NodeState& st = *live.find(d.peer)->state;
    std::vector<pki::Certificate> after;
    for (const auto& ca : st.trusted_cas)
      if (!contains_fp(d.prune_cas, ca.sha256_fingerprint())) after.push_back(ca);
    for (const auto& ca : d.missing_cas) after.push_back(ca);
    for (const pki::Finding& f : pki::check_ca_set(after, now)) {
      if (f.id == "self-signed-cn-pair" && f.index) {
        const pki::Certificate& ca = after[*f.index];
        return Error::Conflict(fmt::format(
            "{}: after this plan the node's trusted CA list would hold two self-signed CA "
            "certificates with the CN '{}'; Expressway trusts only one of them. Delete the one "
            "not needed on the node (or leave it out of spec.trustedCAs and set prune: true), "
            "then plan again",
            d.peer, ca.subject_cn()));
      }
      if (f.id == "too-many-cas")
        d.notes.push_back(
            fmt::format("warning: after this plan the node's trusted CA list holds {} "
                        "certificates, above the guide's recommended maximum of {}",
                        after.size(), pki::kMaxTrustedCas));
    }
  }
  return std::nullopt;
}

// The revocation reason of a chain's leaf, when `revoked` lists it.
const std::string* revocation_reason(const std::map<std::string, std::string>& revoked,
                                     const std::vector<pki::Certificate>& chain) {
  if (chain.empty()) return nullptr;
  auto it = revoked.find(chain.front().sha256_fingerprint());
  return it == revoked.end() ? nullptr : &it->second;
}

// assess_certificate, and a revocation first of all.
Assessment assess_live(const std::vector<pki::Certificate>& chain,
                       const DesiredCertificate& desired, const DesiredTrust& trust,
                       const spec::ServerCertificate& config, TimePoint now,
                       const std::map<std::string, std::string>& revoked) {
  Assessment a = assess_certificate(chain, desired, trust, config, now);
  if (const std::string* why = revocation_reason(revoked, chain)) {
    a.ok = false;
    a.problems.insert(a.problems.begin(), *why);
  }
  return a;
}

}  // namespace

Result<ClusterDiff> diff_cluster(const spec::Spec& spec, const ClusterLive& live,
                                 const DesiredTrust& trust, Env& env, TimePoint now,
                                 const std::vector<std::string>& targets,
                                 const std::vector<std::string>& replace,
                                 const std::map<std::string, std::string>& revoked) {
  auto targeted = [&](const std::string& peer) {
    return targets.empty() || std::find(targets.begin(), targets.end(), peer) != targets.end();
  };
  ClusterDiff out;
  const spec::ServerCertificate& config = spec.server_certificate;
  std::optional<std::string> manual_crl_fp;
  if (spec.crl && spec.crl->manual_file) {
    auto data = env.read_file(*spec.crl->manual_file, read_limits::kCrl);
    if (!data) return std::unexpected(data.error());
    auto pem = manual_crl_pem(*data, *spec.crl->manual_file);
    if (!pem) return std::unexpected(pem.error());
    manual_crl_fp = pki::sha256_fingerprint(*pem);
  }
  auto revocation_of = [&](const std::vector<pki::Certificate>& chain) {
    return revocation_reason(revoked, chain);
  };
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
    const std::string retain_note = apply_key_retention(d.desired, st.server_chain);
    auto assess = [&](const std::vector<pki::Certificate>& chain) {
      return assess_live(chain, d.desired, trust, config, now, revoked);
    };

    // Server certificate.
    Assessment serving = assess(st.server_chain);
    for (const auto& w : serving.warnings) d.notes.push_back("warning: " + w);
    for (const auto& n : serving.notes) d.notes.push_back(n);
    std::optional<std::vector<pki::Certificate>> pending_acme;
    if (acme_on_node && !serving.ok) pending_acme = pending_acme_chain(st);
    if (pending_acme && assess(*pending_acme).ok) {
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
      if (!st.staged_chain.empty()) staged = assess(st.staged_chain);
      if (!st.staged_chain.empty() && staged.ok) {
        d.certificate = CertificateChange::kRestartOnly;
        if (const std::string* why = revocation_of(st.server_chain))
          d.certificate_reasons.push_back(*why);
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
      Assessment staged = assess(st.staged_chain);
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
        !st.server_chain.empty()) {
      d.superseded = st.server_chain.front();
      if (const std::string* why = revocation_of(st.server_chain)) d.superseded_revoked = *why;
    }
    if (d.certificate == CertificateChange::kReissue && !retain_note.empty())
      d.certificate_reasons.push_back(retain_note);

    if (st.pending_csr) {
      auto differences = csr_differences(*st.pending_csr, d.desired);
      if (d.certificate == CertificateChange::kDeployOnly) {
        // The node pairs the pending ACME certificate with this CSR's key at
        // deploy: it must stay.
      } else if (d.certificate == CertificateChange::kReissue && differences.empty()) {
        d.reuse_pending_csr = true;
        if (auto note = tolerated_note(st.pending_csr->dns_names, d.desired, "the pending CSR");
            !note.empty())
          d.certificate_reasons.push_back(note);
      } else {
        d.discard_pending_csr = true;
        d.discard_reason =
            d.certificate == CertificateChange::kReissue
                ? "the pending CSR does not match the spec (it is replaced by a new one): " +
                      join(differences)
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
              "{} ({}) is not in the spec but a serving or staged certificate still chains to "
              "it; it stays",
              is_factory_ca(ca) ? describe_factory_ca(ca) : "'" + ca.subject_cn() + "'",
              fp.substr(0, 23)));
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
      // A node that cannot show its settings (and none confirmed yet) is
      // set, once: a manual step whose value is then remembered.
      if (!st.crl_settings_known || !(want == st.crl)) d.crl_settings = want;
    }
    if (manual_crl_fp && (!st.manual_crl_known || st.manual_crl_sha256 != manual_crl_fp)) {
      d.manual_crl_path = *spec.crl->manual_file;
      d.manual_crl_sha256 = *manual_crl_fp;
    }
    // A crl section without manualFile manages the node's CRLs: a manual
    // one left on the node is not the spec's.
    if (spec.crl && !spec.crl->manual_file && (!st.manual_crl_known || st.manual_crl_sha256))
      d.remove_manual_crl = true;
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
        Assessment a = assess_live(*pending, d.desired, trust, config, now, revoked);
        if (!a.ok) {
          d.discard_pending_acme = true;
          d.discard_pending_acme_reason =
              "the certificate pending in the node's ACME service does not match the spec (" +
              join(a.problems) + "); in automated mode the node would deploy it";
        }
      }
    }
  }
  if (auto refused = check_live_trust(live, out, now)) return std::unexpected(*refused);
  out.tls = tls_change(spec, live, out, targets, trust, now);
  return out;
}

}  // namespace edgecert
