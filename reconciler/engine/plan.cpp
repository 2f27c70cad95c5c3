#include "reconciler/engine/plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "reconciler/engine/manual_steps.h"
#include "schema/values.h"

namespace edgecert {
namespace {

nlohmann::json desired_json(const DesiredCertificate& d, const std::string& issuer) {
  return {{"common_name", d.common_name},
          {"dns_names", d.subject_alt_names},
          {"key", spec::key_display_name(d.key.algorithm, d.key.size)},
          {"digest", spec::digest_name(d.digest)},
          {"issuer", issuer}};
}

CsrParams csr_params(const DesiredCertificate& d) {
  return {d.common_name, d.subject_alt_names,     d.subject, d.key.algorithm, d.key.size,
          d.digest,      !d.retained_spki.empty()};
}

}  // namespace

namespace {

std::string now_rfc3339(TimePoint t) {
  return format_time(t);
}

class Builder {
 public:
  explicit Builder(Plan& plan) : plan_(plan) {}

  // The reference is valid only until the next add().
  Action& add(const std::string& node, ActionKind kind, std::string reason) {
    std::string base = node + "/" + action_kind_name(kind);
    std::string id = base;
    for (int n = 2; ids_.count(id); ++n) id = fmt::format("{}/{}", base, n);
    ids_.insert(id);
    Action a;
    a.id = id;
    a.node = node;
    a.params = default_params(kind);
    a.reason = std::move(reason);
    plan_.actions.push_back(std::move(a));
    return plan_.actions.back();
  }

 private:
  Plan& plan_;
  std::set<std::string> ids_;
};

}  // namespace

size_t Plan::deploy_count() const {
  return static_cast<size_t>(std::count_if(actions.begin(), actions.end(), [](const Action& a) {
    return a.kind() == ActionKind::kAcmeDeploy;
  }));
}

size_t Plan::restart_count() const {
  return static_cast<size_t>(std::count_if(actions.begin(), actions.end(), [](const Action& a) {
    return a.kind() == ActionKind::kRestart;
  }));
}

size_t Plan::manual_count() const {
  return static_cast<size_t>(
      std::count_if(actions.begin(), actions.end(), [](const Action& a) { return a.manual; }));
}

std::vector<std::string> Plan::manual_nodes() const {
  std::vector<std::string> out;
  for (const auto& [name, snap] : nodes)
    if (std::any_of(actions.begin(), actions.end(),
                    [&](const Action& a) { return a.manual && a.node == name; }))
      out.push_back(name);
  return out;
}

std::vector<std::string> Plan::touched_nodes() const {
  std::vector<std::string> out;
  for (const auto& [name, snap] : nodes)
    if (std::any_of(actions.begin(), actions.end(),
                    [&](const Action& a) { return a.node == name; }))
      out.push_back(name);
  return out;
}

std::string Plan::summary_line() const {
  size_t restarts = restart_count();
  size_t deploys = deploy_count();
  size_t n = touched_nodes().size();
  std::string deploy_text =
      deploys > 0 ? fmt::format(", {} ACME deploy{} (no restart)", deploys, deploys == 1 ? "" : "s")
                  : "";
  const size_t manual = manual_count();
  const size_t manual_on = manual_nodes().size();
  std::string manual_text =
      manual > 0 ? fmt::format(", {} manual step{} on {} node{}", manual, manual == 1 ? "" : "s",
                               manual_on, manual_on == 1 ? "" : "s")
                 : "";
  return fmt::format("Plan: {} action{} on {} node{}, {} restart{}{}{}{}", actions.size(),
                     actions.size() == 1 ? "" : "s", n, n == 1 ? "" : "s", restarts,
                     restarts == 1 ? "" : "s", deploy_text, manual_text,
                     restarts + deploys > 0 ? ", one node at a time" : "");
}

const Action* Plan::find(const std::string& id) const {
  for (const auto& a : actions)
    if (a.id == id) return &a;
  return nullptr;
}

Plan build_plan(const PlanInputs& in) {
  const spec::Spec& spec = *in.spec;
  const ClusterDiff& diff = *in.diff;
  Plan plan;
  plan.spec_path = spec.path;
  plan.spec_sha256 = in.spec_sha256;
  plan.cluster = spec.name;
  plan.created_at = now_rfc3339(in.now);
  plan.targets = in.targets;
  for (const NodeLive& n : in.live->nodes)
    plan.nodes.emplace_back(n.peer, NodeSnapshot{n.fingerprint, n.summary});

  auto targeted = [&](const std::string& peer) {
    return in.targets.empty() ||
           std::find(in.targets.begin(), in.targets.end(), peer) != in.targets.end();
  };
  std::vector<const NodeDiff*> order;  // rollout order, targeted nodes only
  for (const std::string& name : spec.rollout.order)
    if (const NodeDiff* d = diff.find(name); d && targeted(name)) order.push_back(d);

  Builder b(plan);

  // 0. TLS verification an earlier run left relaxed goes back first when every
  // node serves a valid certificate (decided by the diff): the cluster is
  // safe again before anything else is tried, even if that fails.
  for (const auto& [peer, mode_before] : diff.tls.restore_first) {
    Action& a = b.add(peer, ActionKind::kSetTlsVerification,
                      "restore cluster TLS verification first: every node serves a valid "
                      "certificate");
    a.before = spec::tls_verification_name(mode_before);
    a.after = spec::tls_verification_name(spec.tls_verification);
    a.params = SetTlsVerificationParams{spec.tls_verification};
  }

  // 1. Trust first; leftover CSRs out of the way. CAs go to every peer, even
  // outside --target: the whole cluster must trust a new certificate before
  // TLS verification is enforced again (expressway.md §3.1), and appending
  // disrupts nothing.
  std::vector<const NodeDiff*> all_in_order;
  for (const std::string& name : spec.rollout.order)
    if (const NodeDiff* d = diff.find(name)) all_in_order.push_back(d);
  std::map<std::string, std::string> append_ids;
  std::map<std::string, std::string> acme_ids;
  const bool acme_on_node = node_signs(spec);
  auto add_append = [&](const NodeDiff* d) {
    std::vector<std::string> names, pems, fps;
    for (const auto& c : d->missing_cas) {
      names.push_back(c.subject_cn().empty() ? c.subject() : c.subject_cn());
      pems.push_back(c.to_pem());
      fps.push_back(c.sha256_fingerprint());
    }
    Action& a = b.add(
        d->peer, ActionKind::kAppendTrustedCas,
        fmt::format("{} CA certificate{} the spec trusts {} missing on the node", names.size(),
                    names.size() == 1 ? "" : "s", names.size() == 1 ? "is" : "are"));
    a.after = {{"certificates", names}, {"sha256", fps}};
    a.params = AppendTrustedCasParams{pems, fps};
    append_ids[d->peer] = a.id;
  };
  for (const NodeDiff* d : all_in_order) {
    if (d->discard_pending_csr && targeted(d->peer)) {
      const auto& st = *in.live->find(d->peer)->state;
      Action& a = b.add(d->peer, ActionKind::kDiscardCsr, d->discard_reason);
      a.before = {{"common_name", st.pending_csr->common_name},
                  {"dns_names", st.pending_csr->dns_names}};
    }
    if (!d->missing_cas.empty() && acme_on_node) add_append(d);
    if (d->discard_pending_acme && targeted(d->peer)) {
      const auto& st = *in.live->find(d->peer)->state;
      Action& a = b.add(d->peer, ActionKind::kAcmeDiscardPending, d->discard_pending_acme_reason);
      if (auto pending = pending_acme_chain(st)) {
        a.before = certificate_summary(pending->front());
        a.params = AcmeDiscardPendingParams{pending->front().sha256_fingerprint()};
      }
    }
    if (d->acme_settings && targeted(d->peer)) {
      // Before any signing: the node's ACME account comes from these.
      const auto& st = *in.live->find(d->peer)->state;
      Action& a = b.add(d->peer, ActionKind::kSetAcmeSettings,
                        "the node's ACME service settings differ from spec.acme");
      a.before = acme_settings_json(st.acme);
      a.after = acme_settings_json(*d->acme_settings);
      a.params = SetAcmeSettingsParams{*d->acme_settings};
      acme_ids[d->peer] = a.id;
    }
  }

  // 2. CSRs and signatures, every node up front (the executor runs them
  // concurrently): nothing is disrupted, and a failed or waiting signature
  // stops the run before TLS verification is relaxed. A node's own ACME
  // service signs up front too when the node deploys only when told (mode
  // manual); in automated mode it deploys whatever is pending at its next
  // scheduled slot, so there the signature is the node's first disruptive
  // step and waits for the node's turn (step 4).
  auto signs_in_turn = [&](const NodeDiff* d) {
    if (!acme_on_node) return false;
    spec::AcmeMode mode =
        d->acme_settings ? d->acme_settings->mode : in.live->find(d->peer)->state->acme.mode;
    return mode == spec::AcmeMode::kAutomated;
  };
  std::map<std::string, std::string> sign_ids;
  std::map<std::string, std::string> csr_ids;
  std::map<std::string, std::string> sign_reasons;
  // Every CSR first, then every signature: the executor runs a wave of
  // actions whose dependencies are done concurrently, so this order lets all
  // CSRs be generated at once, then all signatures.
  std::map<std::string, std::string> node_reasons;
  for (const NodeDiff* d : order) {
    if (d->certificate != CertificateChange::kReissue) continue;
    std::string reasons;
    for (const auto& r : d->certificate_reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    node_reasons[d->peer] = reasons;
    if (d->reuse_pending_csr) continue;
    Action& g = b.add(d->peer, ActionKind::kGenerateCsr, reasons);
    const auto& st = *in.live->find(d->peer)->state;
    g.before = st.server_chain.empty() ? nlohmann::json(nullptr)
                                       : certificate_summary(st.server_chain.front());
    g.after = desired_json(d->desired, in.issuer_description);
    g.params = GenerateCsrParams{csr_params(d->desired)};
    csr_ids[d->peer] = g.id;
  }
  for (const NodeDiff* d : order) {
    if (d->certificate != CertificateChange::kReissue) continue;
    const std::string& reasons = node_reasons[d->peer];
    std::string sign_reason = d->reuse_pending_csr
                                  ? "reuse the matching CSR already pending on the node; " + reasons
                              : acme_on_node ? "the node signs its CSR with its ACME provider"
                                             : "sign the node's CSR with " + in.issuer_description;
    if (acme_on_node) {
      sign_reasons[d->peer] = sign_reason;
      continue;
    }
    Action& s = b.add(d->peer, ActionKind::kSignCsr, sign_reason);
    s.after = desired_json(d->desired, in.issuer_description);
    s.params = SignCsrParams{csr_params(d->desired)};
    if (csr_ids.count(d->peer)) s.depends_on.push_back(csr_ids[d->peer]);
    sign_ids[d->peer] = s.id;
  }

  // The node signs with its ACME service: CSR, its ACME settings and the
  // CAs it checks the new chain against first.
  std::map<std::string, std::string> acme_sign_ids;
  auto add_acme_sign = [&](const NodeDiff* d, const std::vector<std::string>& after) {
    Action& sg = b.add(d->peer, ActionKind::kAcmeSign, sign_reasons[d->peer]);
    sg.after = desired_json(d->desired, in.issuer_description);
    sg.params = AcmeSignParams{csr_params(d->desired)};
    if (csr_ids.count(d->peer)) sg.depends_on.push_back(csr_ids[d->peer]);
    if (acme_ids.count(d->peer)) sg.depends_on.push_back(acme_ids[d->peer]);
    if (append_ids.count(d->peer)) sg.depends_on.push_back(append_ids[d->peer]);
    for (const auto& id : after) sg.depends_on.push_back(id);
    acme_sign_ids[d->peer] = sg.id;
  };
  for (const NodeDiff* d : order)
    if (acme_on_node && d->certificate == CertificateChange::kReissue && !signs_in_turn(d))
      add_acme_sign(d, {});

  // Other issuers: the CAs after the signatures, so a refused signature
  // leaves the nodes' trust lists as they were (while an external issuer
  // waits they are still added: that disrupts nothing); still before the
  // relax, as the guide's procedure has it (expressway.md §3.1).
  if (!acme_on_node)
    for (const NodeDiff* d : all_in_order)
      if (!d->missing_cas.empty()) add_append(d);

  // 3. Relax cluster TLS verification while certificates change (decided by
  // the diff: ClusterDiff::tls), right before the first disruptive action:
  // after every CSR and signature, before the first upload, restart or
  // deploy (or, automated expressway-acme, the first node's signature).
  std::vector<std::string> relax_ids;
  for (const std::string& peer : diff.tls.relax) {
    const bool relaxed_already =
        in.live->find(peer)->state->tls_verification == spec::TlsVerification::kPermissive &&
        std::none_of(diff.tls.restore_first.begin(), diff.tls.restore_first.end(),
                     [&](const auto& r) { return r.first == peer; });
    Action& a =
        b.add(peer, ActionKind::kSetTlsVerification,
              relaxed_already ? "cluster TLS verification is permissive already (set by hand): "
                                "checked, and recorded as this rollout's relax"
                              : "relax cluster TLS verification while certificates change "
                                "(rollout.relaxTlsVerification)");
    a.before = relaxed_already ? "permissive" : "enforce";
    a.after = "permissive";
    a.params = SetTlsVerificationParams{spec::TlsVerification::kPermissive};
    for (const auto& [p, id] : append_ids) a.depends_on.push_back(id);
    for (const auto& [p, id] : sign_ids) a.depends_on.push_back(id);
    for (const auto& [p, id] : csr_ids) a.depends_on.push_back(id);
    for (const auto& [p, id] : acme_sign_ids) a.depends_on.push_back(id);
    relax_ids.push_back(a.id);
  }

  // 4. One node at a time.
  std::string previous_verify;
  std::vector<std::string> verify_ids;
  // The check that ends a node's turn; the next node's disruption waits for it.
  auto add_verify = [&](const std::string& node, const std::string& after_id,
                        const nlohmann::json& expected) {
    const spec::Peer* p = spec.find_peer(node);
    Action& v = b.add(node, ActionKind::kVerifyServed,
                      "check the certificate the node really serves: the new leaf, a chain valid "
                      "against the spec's CAs, and the node's FQDN");
    v.depends_on.push_back(after_id);
    v.params = VerifyServedParams{p ? p->fqdn : node};
    v.after = expected;
    previous_verify = v.id;
    verify_ids.push_back(v.id);
  };
  for (const NodeDiff* d : order) {
    bool reissue = d->certificate == CertificateChange::kReissue;
    const bool deploy_only = d->certificate == CertificateChange::kDeployOnly;
    bool restart_only =
        d->certificate == CertificateChange::kRestartOnly || d->restart_required_other;
    if (!reissue && !restart_only && !deploy_only) continue;
    const auto& st = *in.live->find(d->peer)->state;
    if (acme_on_node && (reissue || deploy_only)) {
      // The node's ACME service signs and deploys without a restart; the
      // served certificate still changes, so nodes still go one at a time.
      std::string sign_id;
      if (reissue && signs_in_turn(d)) {
        std::vector<std::string> after = relax_ids;
        if (!previous_verify.empty()) after.push_back(previous_verify);
        add_acme_sign(d, after);
      }
      if (reissue) sign_id = acme_sign_ids[d->peer];
      Action& dp = b.add(d->peer, ActionKind::kAcmeDeploy,
                         deploy_only ? d->certificate_reasons.back()
                                     : "deploy the certificate the node's ACME service signed "
                                       "(no restart)");
      if (!sign_id.empty()) dp.depends_on.push_back(sign_id);
      if (append_ids.count(d->peer)) dp.depends_on.push_back(append_ids[d->peer]);
      if (acme_ids.count(d->peer)) dp.depends_on.push_back(acme_ids[d->peer]);
      for (const auto& id : relax_ids) dp.depends_on.push_back(id);
      if (!previous_verify.empty()) dp.depends_on.push_back(previous_verify);
      dp.before = st.server_chain.empty() ? nlohmann::json(nullptr)
                                          : certificate_summary(st.server_chain.front());
      if (deploy_only) {
        auto pending = pending_acme_chain(st);
        dp.after = pending ? certificate_summary(pending->front()) : nlohmann::json(nullptr);
        dp.params = AcmeDeployParams{d->pending_acme_sha256};
      } else {
        dp.after = desired_json(d->desired, in.issuer_description);
      }
      const std::string deploy_id = dp.id;
      const nlohmann::json deploy_after = dp.after;
      add_verify(d->peer, deploy_id, deploy_after);
      // A restart the node wants for another reason still comes, after the
      // deploy was verified.
      if (!d->restart_required_other) continue;
      reissue = false;
    }
    std::string upload_id;
    if (reissue) {
      Action& u = b.add(d->peer, ActionKind::kUploadCertificate,
                        "install the signed certificate (staged until the restart)");
      u.depends_on.push_back(sign_ids[d->peer]);
      if (append_ids.count(d->peer)) u.depends_on.push_back(append_ids[d->peer]);
      for (const auto& id : relax_ids) u.depends_on.push_back(id);
      u.after = desired_json(d->desired, in.issuer_description);
      upload_id = u.id;
    }
    std::string why = reissue ? "activate the new certificate (a manual upload needs a restart)"
                      : d->certificate == CertificateChange::kRestartOnly
                          ? d->certificate_reasons.front()
                          : "the node reports that it needs a restart";
    Action& r = b.add(d->peer, ActionKind::kRestart, why);
    if (!upload_id.empty()) r.depends_on.push_back(upload_id);
    for (const auto& id : relax_ids) r.depends_on.push_back(id);
    if (!previous_verify.empty()) r.depends_on.push_back(previous_verify);
    r.before = st.server_chain.empty() ? nlohmann::json(nullptr)
                                       : certificate_summary(st.server_chain.front());
    r.after = reissue                   ? desired_json(d->desired, in.issuer_description)
              : st.staged_chain.empty() ? r.before
                                        : certificate_summary(st.staged_chain.front());
    // Builder::add may reallocate: keep values, not references, across adds.
    const std::string restart_id = r.id;
    const nlohmann::json restart_after = r.after;

    auto timeout = std::chrono::duration_cast<std::chrono::seconds>(spec.rollout.health_timeout);
    Action& w =
        b.add(d->peer, ActionKind::kWaitHealthy,
              fmt::format("health gate: the node must answer within {} (rollout.healthTimeout)",
                          schema::format_duration(timeout)));
    w.depends_on.push_back(restart_id);
    w.params = WaitHealthyParams{timeout};
    const std::string wait_id = w.id;
    add_verify(d->peer, wait_id, restart_after);
  }

  // 5. TLS verification to the spec's value.
  std::vector<std::string> restore_ids;
  for (const auto& [peer, mode_before] : diff.tls.restore) {
    bool restoring =
        std::find(diff.tls.relax.begin(), diff.tls.relax.end(), peer) != diff.tls.relax.end();
    Action& a = b.add(peer, ActionKind::kSetTlsVerification,
                      restoring ? "restore cluster TLS verification to the spec's value"
                                : "cluster TLS verification differs from the spec");
    a.before = spec::tls_verification_name(mode_before);
    a.after = spec::tls_verification_name(spec.tls_verification);
    a.params = SetTlsVerificationParams{spec.tls_verification};
    for (const auto& id : verify_ids) a.depends_on.push_back(id);
    restore_ids.push_back(a.id);
  }

  // Revocation of superseded certificates: after the whole rollout and the TLS
  // restore, so a replacement is verified in service on every node first.
  const bool acme_issuer =
      acme_on_node || std::holds_alternative<spec::AcmeIssuer>(spec.server_certificate.issuer);
  for (const NodeDiff* d : order) {
    if ((d->certificate != CertificateChange::kReissue &&
         d->certificate != CertificateChange::kDeployOnly) ||
        !d->superseded || !spec.rollout.revoke_superseded)
      continue;
    if (!d->superseded_revoked.empty()) {
      plan.notes.push_back(
          fmt::format("{}: the superseded certificate (serial {}) is not revoked again: it is {}",
                      d->peer, d->superseded->serial_hex(), d->superseded_revoked));
      continue;
    }
    // An ACME CA's chain is not known before it signs: the plan takes any
    // CA-issued certificate but the factory one, and the executor checks that
    // the replacement came from the same CA before it revokes.
    bool ours = acme_issuer
                    ? !d->superseded->is_self_signed() && !is_factory_certificate(*d->superseded)
                    : std::any_of(in.issuer_cas.begin(), in.issuer_cas.end(),
                                  [&](const pki::Certificate& ca) {
                                    return d->superseded->is_signed_by(ca);
                                  });
    if (!ours) {
      plan.notes.push_back(fmt::format(
          "{}: the superseded certificate (serial {}, issuer '{}') was not issued by the "
          "configured issuer, so edgecert cannot revoke it",
          d->peer, d->superseded->serial_hex(), d->superseded->issuer_cn()));
      continue;
    }
    Action& rv = b.add(d->peer, ActionKind::kRevokeSuperseded,
                       "rollout.revokeSuperseded: the replacement is verified in service");
    for (const auto& id : verify_ids) rv.depends_on.push_back(id);
    for (const auto& id : restore_ids) rv.depends_on.push_back(id);
    rv.before = certificate_summary(*d->superseded);
    rv.params = RevokeSupersededParams{d->superseded->to_pem(), d->superseded->sha256_fingerprint(),
                                       pki::RevocationReason::kSuperseded};
    if (acme_on_node && spec.acme) rv.after = {{"acme_provider", spec.acme->provider_name}};
  }

  // 6. Prune, 7. settings that need no restart.
  for (const NodeDiff* d : order) {
    for (const auto& ca : d->prune_cas) {
      Action& a =
          b.add(d->peer, ActionKind::kDeleteTrustedCa,
                (is_factory_ca(ca) ? describe_factory_ca(ca) + ": " : std::string()) +
                    "not in the spec's trustedCAs (prune: true) and no certificate needs it");
      a.before = {{"certificate", ca.subject_cn().empty() ? ca.subject() : ca.subject_cn()},
                  {"sha256", ca.sha256_fingerprint()}};
      a.params = DeleteTrustedCaParams{ca.sha256_fingerprint()};
      for (const auto& id : verify_ids) a.depends_on.push_back(id);
      for (const auto& id : restore_ids) a.depends_on.push_back(id);
    }
    for (const auto& note : d->prune_refused) plan.notes.push_back(d->peer + ": " + note);
  }
  for (const NodeDiff* d : order) {
    const auto& st = *in.live->find(d->peer)->state;
    if (d->crl_settings) {
      Action& a =
          b.add(d->peer, ActionKind::kSetCrlSettings, "automatic CRL updates differ from the spec");
      a.before = st.crl_settings_known ? crl_settings_json(st.crl) : nlohmann::json("unknown");
      a.after = crl_settings_json(*d->crl_settings);
      a.params = SetCrlSettingsParams{*d->crl_settings};
    }
    if (d->manual_crl_path) {
      Action& a =
          b.add(d->peer, ActionKind::kUploadManualCrl,
                !st.manual_crl_known   ? "the node does not show its manual CRL"
                : st.manual_crl_sha256 ? "the manual CRL on the node differs from the spec's file"
                                       : "the node has no manual CRL");
      a.before = !st.manual_crl_known   ? nlohmann::json("unknown")
                 : st.manual_crl_sha256 ? nlohmann::json(*st.manual_crl_sha256)
                                        : nullptr;
      a.params = UploadManualCrlParams{*d->manual_crl_path, d->manual_crl_sha256};
      a.after = {{"file", *d->manual_crl_path}};
    }
    if (d->remove_manual_crl) {
      Action& a = b.add(d->peer, ActionKind::kRemoveManualCrl,
                        st.manual_crl_known
                            ? "spec.crl has no manualFile: the manual CRL on the node is not the "
                              "spec's"
                            : "spec.crl has no manualFile, and the node does not show whether it "
                              "holds a manual CRL");
      a.before =
          st.manual_crl_sha256 ? nlohmann::json(*st.manual_crl_sha256) : nlohmann::json("unknown");
      a.params = RemoveManualCrlParams{st.manual_crl_sha256.value_or("")};
    }
    if (d->revocation) {
      // Last: revocation checking bites only once every certificate and CRL
      // it depends on is in place.
      Action& a = b.add(d->peer, ActionKind::kSetRevocationChecking,
                        "SIP TLS revocation checking differs from the spec");
      a.before = revocation_checking_json(st.revocation);
      a.after = revocation_checking_json(*d->revocation);
      a.params = SetRevocationCheckingParams{*d->revocation};
      for (const auto& id : verify_ids) a.depends_on.push_back(id);
    }
  }
  for (const NodeDiff& d : diff.nodes)
    for (const auto& note : d.notes)
      plan.notes.push_back(note.starts_with("warning: ")
                               ? "warning: " + d.peer + ": " + note.substr(9)
                               : d.peer + ": " + note);
  mark_manual_steps(plan, *in.live, acme_on_node);
  return plan;
}

}  // namespace edgecert
