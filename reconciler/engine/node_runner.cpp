#include "reconciler/engine/node_runner.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"
#include "reconciler/engine/heartbeat.h"
#include "reconciler/engine/revocation_report.h"

namespace edgecert {
namespace {

std::string short_fp(const std::string& fp) {
  return fp.substr(0, 23);
}

Error invalid_peer() {
  return Error{ErrorCode::kInvalidArgument, "not a peer of the spec"};
}

node::CsrRequest csr_request(const CsrParams& c) {
  node::CsrRequest req;
  req.common_name = c.common_name;
  req.dns_names = c.dns_names;
  req.subject = c.subject;
  req.key_algorithm = c.key_algorithm;
  req.key_size = c.key_size;
  req.digest = c.digest;
  req.reuse_current_key = c.reuse_current_key;
  return req;
}

}  // namespace

std::optional<Error> NodeRunner::pending_csr_problem(const node::NodeState& st,
                                                     const spec::Peer& pr) const {
  // Signing needs the CSR the plan asked for: a missing or replaced one (an
  // operator at the node, another tool) stops the run before anything is
  // signed.
  if (!st.pending_csr)
    return Error{ErrorCode::kNotFound,
                 "no CSR is pending on the node (discarded by someone?); plan again"};
  if (!csr_matches(*st.pending_csr, desired_certificate(spec_, pr)))
    return Error{ErrorCode::kConflict,
                 fmt::format("the CSR pending on the node (CN '{}') is not the one this plan "
                             "asked for (replaced by someone?); nothing was signed, plan again",
                             st.pending_csr->common_name)};
  return std::nullopt;
}

std::string NodeRunner::problems_of(const std::vector<pki::Certificate>& chain,
                                    const spec::Peer& pr) const {
  Assessment as = assess_certificate(chain, desired_certificate(spec_, pr), trust_,
                                     spec_.server_certificate, env_.now());
  return fmt::format("{}", fmt::join(as.problems, "; "));
}

Result<std::vector<std::string>> NodeRunner::check_issued(
    const std::vector<pki::Certificate>& chain, const spec::Peer& pr,
    const std::string& source) const {
  DesiredCertificate want = desired_certificate(spec_, pr);
  pki::ServerCheckOptions opts;
  opts.now = env_.now();
  opts.roles = role_context(want);
  std::vector<std::string> errors, warnings;
  for (const pki::Finding& f : pki::check_issued_chain(chain, opts)) {
    std::string what = fmt::format(
        "{} [{}]: {}", f.severity == Severity::kError ? "error" : "warning", f.id, f.message);
    if (f.index && *f.index > 0) what += fmt::format(" (chain certificate {})", *f.index + 1);
    (f.severity == Severity::kError ? errors : warnings).push_back(what);
  }
  if (auto why = problems_of(chain, pr); !why.empty()) errors.push_back("error [spec]: " + why);
  if (errors.empty() && management_trust_)
    if (auto lockout = management_lockout(*management_trust_, pr, chain, opts.now))
      return std::unexpected(*lockout);
  if (errors.empty()) return warnings;
  return std::unexpected(
      Error{ErrorCode::kConflict,
            fmt::format("the certificate {} returned for {} fails the Expressway checks and is "
                        "refused before any node is touched: {}. Have a corrected certificate "
                        "signed (issuer external: replace the file), then run apply again",
                        source.empty() ? "the issuer" : source, pr.name, fmt::join(errors, "; "))});
}

std::optional<std::vector<std::string>> NodeRunner::reusable_chain(const std::string& csr_fp) {
  std::lock_guard lock(mu_);
  auto it = signed_chains_.find(csr_fp);
  if (it == signed_chains_.end()) return std::nullopt;
  return it->second;
}

void NodeRunner::forget_chain(const std::string& csr_fp) {
  std::lock_guard lock(mu_);
  signed_chains_.erase(csr_fp);
}

std::optional<std::string> NodeRunner::remembered(const std::map<std::string, std::string>& m,
                                                  const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = m.find(node);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

void NodeRunner::remember(std::map<std::string, std::string>& m, const std::string& node,
                          const std::string& value) {
  std::lock_guard lock(mu_);
  m[node] = value;
}

// The handlers, one per action kind. Each returns the output or an error; the
// dispatcher adds node and action to errors that do not name them yet.
struct NodeRunner::Handlers {
  NodeRunner& r;
  const Action& a;
  node::NodeProvider& p;

  using Out = Result<ActionOutput>;
  static Out fail(Error e) { return std::unexpected(std::move(e)); }
  const spec::Peer* peer() const { return r.peer(a.node); }

  Out operator()(const DiscardCsrParams&) {
    auto st = p.discard_csr();
    if (!st && st.error().code != ErrorCode::kNotFound) return fail(st.error());
    return ActionOutput{"CSR discarded"};
  }

  Out operator()(const AppendTrustedCasParams& pa) {
    std::string bundle = fmt::format("{}", fmt::join(pa.pem, ""));
    auto res = p.append_trusted_cas(bundle);
    if (!res) return fail(res.error());
    return ActionOutput{
        fmt::format("{} added, {} already trusted", res->added.size(), res->skipped.size()),
        {{"added", res->added}}};
  }

  Out operator()(const GenerateCsrParams& pa) {
    const spec::Peer* pr = peer();
    if (!pr) return fail(invalid_peer());
    DesiredCertificate want = desired_certificate(r.spec_, *pr);
    auto st = p.read_state();
    if (!st) return fail(st.error());
    if (pa.csr.reuse_current_key) (void)apply_key_retention(want, st->server_chain);
    if (st->pending_csr && csr_matches(*st->pending_csr, want))
      return ActionOutput{"a matching CSR is already pending on the node",
                          {{"csr_sha256", pki::sha256_fingerprint(st->pending_csr->pem)}}};
    auto csr = p.generate_csr(csr_request(pa.csr));
    if (!csr) return fail(csr.error());
    if (pa.csr.reuse_current_key) {
      // keyRotation: retain: nothing is signed for a CSR that carries a new
      // key (a node that ignored "re-use current private key").
      auto made = node::pending_csr_from_pem(*csr);
      if (!made) return fail(made.error());
      std::string current =
          st->server_chain.empty() ? std::string() : pki::spki_sha256(st->server_chain.front());
      if (made->spki_sha256 != current)
        return fail(Error::Conflict(fmt::format(
            "keyRotation: retain: the node made the CSR with a new key (SPKI {}) instead of "
            "re-using its current one (SPKI {}); nothing was signed. Discard the CSR on the node "
            "and check that it supports re-using the current private key",
            short_fp(made->spki_sha256), short_fp(current))));
      return ActionOutput{"CSR generated on the node with its current key (keyRotation: retain)",
                          {{"csr_sha256", pki::sha256_fingerprint(*csr)}}};
    }
    return ActionOutput{"CSR generated on the node (the key stays there)",
                        {{"csr_sha256", pki::sha256_fingerprint(*csr)}}};
  }

  Out operator()(const SignCsrParams& pa) {
    if (!r.issuer_) return fail(Error{ErrorCode::kInternal, "no issuer configured"});
    auto st = p.read_state();
    if (!st) return fail(st.error());
    const spec::Peer* pr = peer();
    if (!pr) return fail(invalid_peer());
    if (auto e = r.pending_csr_problem(*st, *pr)) return fail(*e);
    std::string csr_fp = pki::sha256_fingerprint(st->pending_csr->pem);
    std::vector<pki::Certificate> chain;
    std::vector<std::string> warnings;
    std::string reused_note;
    if (auto kept = r.reusable_chain(csr_fp)) {
      // Checked again: the rules may have changed since it was recorded, and
      // a chain recorded before the checks existed may be wrong.
      auto parsed = pki::Certificate::parse_all(fmt::format("{}", fmt::join(*kept, "")),
                                                a.node + " signed chain (journal)");
      auto checked = parsed ? r.check_issued(*parsed, *pr, "the recorded chain")
                            : Result<std::vector<std::string>>(std::unexpected(parsed.error()));
      if (checked) {
        chain = std::move(*parsed);
        warnings = std::move(*checked);
      } else {
        r.forget_chain(csr_fp);
        reused_note = "; the chain recorded by an earlier run was refused (" +
                      checked.error().message + "), so the issuer was asked again";
      }
    }
    if (chain.empty()) {
      issuer::SignRequest req{r.spec_.name, a.node, st->pending_csr->pem, pa.csr.digest};
      WaitScope wait(r.env_, a, "waiting for the " + r.issuer_->type() + " issuer to sign",
                     std::nullopt);
      auto out = r.issuer_->sign(req);
      if (!out) return fail(out.error());
      if (out->state == issuer::SignState::kWaiting) {
        ActionOutput w;
        w.waiting = true;
        w.message = fmt::format("{}: {}", a.node, out->message);
        return w;
      }
      if (out->chain.empty())
        return fail(Error{ErrorCode::kCorrupt, "the issuer returned an empty chain"});
      auto checked = r.check_issued(out->chain, *pr, "the " + r.issuer_->type() + " issuer");
      if (!checked) return fail(checked.error());
      chain = std::move(out->chain);
      warnings = std::move(*checked);
    }
    std::vector<std::string> chain_pem;
    for (const auto& c : chain) chain_pem.push_back(c.to_pem());
    {
      std::lock_guard lock(r.mu_);
      r.signed_[a.node] = chain_pem;
    }
    const pki::Certificate& leaf = chain.front();
    std::string msg = fmt::format("signed: serial {}, expires {}", leaf.serial_hex(),
                                  format_time(leaf.not_after()));
    for (const auto& w : warnings) msg += "; " + w;
    return ActionOutput{msg + reused_note,
                        {{"csr_sha256", csr_fp},
                         {"leaf_sha256", leaf.sha256_fingerprint()},
                         {"chain", chain_pem},
                         {"warnings", warnings}}};
  }

  Out operator()(const AcmeSignParams&) {
    const spec::Peer* pr = peer();
    if (!pr) return fail(invalid_peer());
    auto st = p.read_state();
    if (!st) return fail(st.error());
    // Level-triggered: a certificate the node already signed for this spec
    // (a lost reply, an interrupted run) is not ordered twice.
    if (auto pending = pending_acme_chain(*st); pending && r.check_issued(*pending, *pr, "")) {
      std::string fp = pending->front().sha256_fingerprint();
      std::lock_guard lock(r.mu_);
      r.acme_signed_[a.node] = fp;
      return ActionOutput{"a matching certificate is already pending in the node's ACME service",
                          {{"leaf_sha256", fp}}};
    }
    if (auto e = r.pending_csr_problem(*st, *pr)) return fail(*e);
    {
      WaitScope wait(r.env_, a, "waiting for the node's ACME service to sign", std::nullopt);
      if (auto s2 = p.acme_sign(); !s2) return fail(s2.error());
    }
    auto after = p.read_state();
    if (!after) return fail(after.error());
    auto pending = pending_acme_chain(*after);
    if (!pending)
      return fail(Error{ErrorCode::kUnavailable,
                        "the node reported the ACME sign done but holds no pending certificate"
                        " (last sign status: " +
                            after->acme_status.last_sign_status + ")"});
    // Check it before it can be deployed, and take a wrong one away: in
    // automated mode the node would deploy it at its next slot.
    auto checked = r.check_issued(*pending, *pr, "the node's ACME provider");
    if (!checked) {
      auto dropped = p.acme_discard_pending();
      return fail(Error{ErrorCode::kConflict, std::string("not deployed") +
                                                  (dropped ? " (discarded from the node)"
                                                           : " (NOT discarded from the node: " +
                                                                 dropped.error().message + ")") +
                                                  ": " + checked.error().message});
    }
    const auto& leaf = pending->front();
    {
      std::lock_guard lock(r.mu_);
      r.acme_signed_[a.node] = leaf.sha256_fingerprint();
    }
    std::string msg = fmt::format("signed by the node's ACME provider: serial {}, expires {}",
                                  leaf.serial_hex(), format_time(leaf.not_after()));
    for (const auto& w : *checked) msg += "; " + w;
    return ActionOutput{msg, {{"leaf_sha256", leaf.sha256_fingerprint()}, {"warnings", *checked}}};
  }

  Out operator()(const AcmeDeployParams& pa) {
    std::string want = r.remembered(r.acme_signed_, a.node).value_or(pa.sha256.value_or(""));
    if (want.empty())
      return fail(
          Error{ErrorCode::kInternal, "no certificate was signed for this node in this run"});
    auto st = p.read_state();
    if (!st) return fail(st.error());
    if (!st->server_chain.empty() && st->server_chain.front().sha256_fingerprint() == want) {
      r.remember(r.uploaded_, a.node, want);
      return ActionOutput{"already deployed", {{"leaf_sha256", want}}};
    }
    auto pending = pending_acme_chain(*st);
    if (!pending || pending->front().sha256_fingerprint() != want)
      return fail(
          Error{ErrorCode::kConflict,
                fmt::format("the node's pending ACME certificate is {}, not {} signed for this "
                            "plan (replaced, e.g. by the node's automated renewal?); nothing was "
                            "deployed, plan again",
                            pending ? short_fp(pending->front().sha256_fingerprint()) : "none",
                            short_fp(want))});
    if (auto s2 = p.acme_deploy(); !s2) return fail(s2.error());
    r.remember(r.uploaded_, a.node, want);
    return ActionOutput{"deployed " + short_fp(want) + " (no restart)", {{"leaf_sha256", want}}};
  }

  Out operator()(const AcmeDiscardPendingParams& pa) {
    auto st = p.read_state();
    if (!st) return fail(st.error());
    auto pending = pending_acme_chain(*st);
    if (!pending) return ActionOutput{"nothing pending (already gone)"};
    // Only the certificate the plan judged; a newer one is judged again by
    // the next plan.
    if (pa.sha256 && pending->front().sha256_fingerprint() != *pa.sha256)
      return ActionOutput{"the pending certificate changed since the plan; left for the next plan"};
    auto d2 = p.acme_discard_pending();
    if (!d2 && d2.error().code != ErrorCode::kNotFound) return fail(d2.error());
    return ActionOutput{"pending ACME certificate discarded"};
  }

  Out operator()(const SetAcmeSettingsParams& pa) {
    if (auto st = p.set_acme_settings(pa.settings); !st) return fail(st.error());
    return ActionOutput{"ACME service settings updated"};
  }

  Out operator()(const UploadCertificateParams&) {
    std::vector<std::string> signed_pem;
    {
      std::lock_guard lock(r.mu_);
      auto it = r.signed_.find(a.node);
      if (it == r.signed_.end())
        return fail(Error{ErrorCode::kInternal, "no signed certificate for this node in this run"});
      signed_pem = it->second;
    }
    std::string chain_text = fmt::format("{}", fmt::join(signed_pem, ""));
    auto chain = pki::Certificate::parse_all(chain_text, a.node + " signed chain");
    if (!chain) return fail(chain.error());
    std::string leaf_fp = chain->front().sha256_fingerprint();
    // sign-csr checked the chain (NodeRunner::check_issued) before it was
    // recorded; nothing reaches this point unchecked.
    auto st = p.read_state();
    if (!st) return fail(st.error());
    if (!st->staged_chain.empty() && st->staged_chain.front().sha256_fingerprint() == leaf_fp) {
      r.remember(r.uploaded_, a.node, leaf_fp);
      return ActionOutput{"already staged", {{"leaf_sha256", leaf_fp}}};
    }
    // The appliance refuses a certificate whose issuer chain it does not
    // trust: make sure the chain's CAs are in the list first.
    std::string missing;
    for (size_t i = 1; i < chain->size(); ++i) {
      const auto& ca = (*chain)[i];
      bool have = std::any_of(st->trusted_cas.begin(), st->trusted_cas.end(),
                              [&](const pki::Certificate& c) {
                                return c.sha256_fingerprint() == ca.sha256_fingerprint();
                              });
      if (!have) missing += ca.to_pem();
    }
    size_t appended = 0;
    if (!missing.empty()) {
      auto res = p.append_trusted_cas(missing);
      if (!res) return fail(res.error());
      appended = res->added.size();
    }
    node::CertificateUpload up;
    up.chain_pem = chain_text;
    auto res = p.upload_server_certificate(up);
    if (!res) {
      Error e = res.error();
      if (appended > 0)
        e.message +=
            fmt::format(" ({} CA certificate{} of the chain were appended first and stay trusted)",
                        appended, appended == 1 ? "" : "s");
      return fail(e);
    }
    r.remember(r.uploaded_, a.node, leaf_fp);
    std::string msg = "staged " + short_fp(leaf_fp);
    for (const auto& w : res->warnings) msg += "; node warning: " + w.message;
    return ActionOutput{msg, {{"leaf_sha256", leaf_fp}}};
  }

  // A real appliance accepts a restart and keeps answering for a while before
  // it goes down: waiting for "up" right away would pass against the old
  // instance and let the next node restart while this one is about to. So a
  // restart is done only once the node was seen down, or is seen already back
  // with its staged certificate active and no restart pending.
  Out operator()(const RestartParams&) {
    if (auto st = p.restart(); !st) return fail(st.error());
    constexpr std::chrono::seconds kGoDownTimeout{600};
    WaitScope wait(r.env_, a, "waiting for the node to go down for its restart", kGoDownTimeout);
    auto deadline = r.env_.now() + kGoDownTimeout;
    for (;;) {
      auto st = p.read_state();
      if (!st && st.error().code == ErrorCode::kUnavailable) return ActionOutput{"node went down"};
      if (st && !st->restart_required && st->staged_chain.empty())
        return ActionOutput{"node restarted (seen back already)"};
      if (r.env_.now() >= deadline)
        return fail(Error::Unavailable("the node accepted the restart but did not go down")
                        .at(a.node, "restart"));
      r.env_.sleep_for(std::chrono::seconds(1));
    }
  }

  Out operator()(const WaitHealthyParams& pa) {
    TimePoint t0 = r.env_.now();
    WaitScope wait(r.env_, a, "waiting for the node to come back", pa.timeout);
    if (auto st = p.wait_until_up(pa.timeout); !st) return fail(st.error());
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(r.env_.now() - t0);
    return ActionOutput{"up after " + format_elapsed(took)};
  }

  Out operator()(const VerifyServedParams&) {
    auto served = p.served_chain();
    if (!served) return fail(served.error());
    if (served->empty())
      return fail(Error{ErrorCode::kUnavailable, "the node presented no certificate"});
    std::string got = served->front().sha256_fingerprint();
    std::string want = r.remembered(r.uploaded_, a.node).value_or("");
    if (want.empty() && a.after.is_object() && a.after.contains("sha256") &&
        a.after["sha256"].is_string())
      want = a.after["sha256"].get<std::string>();
    if (!want.empty() && got != want)
      return fail(Error{ErrorCode::kConflict,
                        fmt::format("the node serves {} ('{}'), not the new certificate {}; "
                                    "it came back with the old certificate",
                                    short_fp(got), served->front().subject_cn(), short_fp(want))});
    const spec::Peer* pr = peer();
    if (!pr) return fail(invalid_peer());
    if (auto why = r.problems_of(*served, *pr); !why.empty())
      return fail(Error{ErrorCode::kConflict, "the served certificate is not right: " + why});
    return ActionOutput{fmt::format("serving {} (verified for {})", short_fp(got), pr->fqdn),
                        {{"served_sha256", got}}};
  }

  Out operator()(const RevokeSupersededParams& pa) {
    auto old = pki::Certificate::parse_one(pa.pem, a.id);
    if (!old) return fail(old.error());
    // Never the certificate in use (the plan saw it replaced; check again).
    auto served = p.served_chain();
    if (!served) return fail(served.error());
    if (!served->empty() && served->front().sha256_fingerprint() == old->sha256_fingerprint())
      return fail(
          Error{ErrorCode::kConflict, "the superseded certificate is still in use; not revoked"});
    if (node_signs(r.spec_)) {
      // An ACME CA refuses what it did not issue; already revoked (a lost
      // reply) is done.
      auto st = p.acme_revoke(old->to_pem(), pa.reason);
      if (!st && st.error().code == ErrorCode::kAlreadyExists)
        return ActionOutput{fmt::format("serial {} was already revoked", old->serial_hex())};
      if (!st) return fail(st.error());
      return ActionOutput{fmt::format("revoked serial {} ({}) through the node's ACME service",
                                      old->serial_hex(), pki::revocation_reason_name(pa.reason))};
    }
    if (!r.issuer_) return fail(Error{ErrorCode::kInternal, "no issuer configured"});
    if (auto st = r.issuer_->revoke(*old, pa.reason); !st) return fail(st.error());
    return ActionOutput{fmt::format("revoked serial {} ({})", old->serial_hex(),
                                    pki::revocation_reason_name(pa.reason))};
  }

  Out operator()(const DeleteTrustedCaParams& pa) {
    // Re-check at the last moment: a chain that needs the CA may have
    // appeared since the plan was made.
    for (auto& [name, prov] : r.nodes_.providers) {
      auto st = prov->read_state();
      if (!st) return fail(st.error());
      for (const auto* chain : {&st->server_chain, &st->staged_chain}) {
        auto cas = chain_ca_fingerprints(*chain, st->trusted_cas, r.env_.now());
        if (std::find(cas.begin(), cas.end(), pa.sha256) != cas.end())
          return fail(Error{ErrorCode::kConflict,
                            fmt::format("refused: {}'s {} certificate chains to this CA; "
                                        "deleting it would break that certificate",
                                        name, chain == &st->server_chain ? "serving" : "staged")});
      }
    }
    auto st = p.delete_trusted_ca(pa.sha256);
    if (!st && st.error().code != ErrorCode::kNotFound) return fail(st.error());
    return ActionOutput{"deleted " + short_fp(pa.sha256)};
  }

  Out operator()(const SetTlsVerificationParams& pa) {
    if (auto st = p.set_tls_verification(pa.mode); !st) return fail(st.error());
    return ActionOutput{std::string("TLS verification ") + spec::tls_verification_name(pa.mode)};
  }

  Out operator()(const SetCrlSettingsParams& pa) {
    if (auto st = p.set_crl_settings(pa.settings); !st) return fail(st.error());
    return ActionOutput{"CRL settings updated"};
  }

  Out operator()(const UploadManualCrlParams& pa) {
    auto file = r.env_.read_file(pa.path, read_limits::kCrl);
    if (!file) return fail(file.error());
    // The node takes PEM only: a DER file is uploaded converted.
    auto data = manual_crl_pem(*file, pa.path);
    if (!data) return fail(data.error());
    if (!pa.sha256.empty() && pa.sha256 != pki::sha256_fingerprint(*data))
      return fail(Error{ErrorCode::kConflict,
                        fmt::format("{} changed since the plan was made; plan again", pa.path)});
    if (auto st = p.upload_manual_crl(*data); !st) return fail(st.error());
    return ActionOutput{"manual CRL uploaded " + short_fp(pki::sha256_fingerprint(*data)) +
                        (*data == *file ? "" : " (converted from DER to PEM)")};
  }

  Out operator()(const RemoveManualCrlParams& pa) {
    auto st = p.read_state();
    if (!st) return fail(st.error());
    if (!st->manual_crl_sha256) return ActionOutput{"no manual CRL on the node (already gone)"};
    // Only the CRL the plan judged; a newer one is judged by the next plan.
    if (*st->manual_crl_sha256 != pa.sha256)
      return fail(Error::Conflict(fmt::format(
          "the manual CRL on the node is {}, not {} the plan judged; nothing removed, plan again",
          short_fp(*st->manual_crl_sha256), short_fp(pa.sha256))));
    if (auto r2 = p.remove_manual_crl(); !r2 && r2.error().code != ErrorCode::kNotFound)
      return fail(r2.error());
    return ActionOutput{"manual CRL removed " + short_fp(pa.sha256)};
  }

  Out operator()(const SetRevocationCheckingParams& pa) {
    if (auto st = p.set_revocation_checking(pa.settings); !st) return fail(st.error());
    return ActionOutput{"revocation checking updated"};
  }
};

Result<ActionOutput> NodeRunner::run(const Action& a) {
  node::NodeProvider* p = nodes_.find(a.node);
  if (!p)
    return Error::InvalidArgument("not a peer of this cluster")
        .at(a.node, action_kind_name(a.kind()));
  // Any other wait inside an action (a provider's retry backoff) still beats.
  WaitScope wait(env_, a, std::string(action_kind_name(a.kind())) + " in progress", std::nullopt);
  Result<ActionOutput> out = std::visit(Handlers{*this, a, *p}, a.params);
  if (out) return out;
  // Provider errors already name node and action (Error::node); others get
  // both here.
  return std::unexpected(out.error().at(a.node, action_kind_name(a.kind())));
}

Result<ManualCheck> NodeRunner::check_manual(const Action& a) {
  node::NodeProvider* p = nodes_.find(a.node);
  if (!p)
    return Error::InvalidArgument("not a peer of this cluster")
        .at(a.node, action_kind_name(a.kind()));
  auto st = p->read_state();
  if (!st) return std::unexpected(st.error().at(a.node, "check the manual step"));
  return check_manual_step(a, *st);
}

Status NodeRunner::record_confirmation(const Action& a) {
  if (confirm_dir_.empty())
    return Error::Internal("no state folder to remember the confirmed value in")
        .at(a.node, action_kind_name(a.kind()));
  return record_confirmed_value(env_, confirm_dir_, a, run_id_);
}

std::optional<std::string> NodeRunner::restart_happened(const Action& a) {
  node::NodeProvider* p = nodes_.find(a.node);
  if (!p) return std::nullopt;
  auto st = p->read_state();
  if (!st && st.error().code == ErrorCode::kUnavailable)
    return "restart requested (the reply was lost; the node is down, so it restarts)";
  if (st && !st->restart_required && st->staged_chain.empty())
    return "restart requested (the reply was lost; the node already restarted)";
  return std::nullopt;
}

RecoveryAssessment NodeRunner::assess_recovery() {
  RecoveryAssessment out;
  out.restore_to = spec::tls_verification_name(spec_.tls_verification);
  for (auto& [name, prov] : nodes_.providers) {
    auto st = prov->read_state();
    const spec::Peer* pr = peer(name);
    if (!st || !pr || st->server_chain.empty()) {
      out.not_valid.push_back(name);
      continue;
    }
    // Valid = what verify-served accepts, minus the renewal window: a
    // certificate that is merely due for renewal still serves.
    if (!assess_certificate(st->server_chain, desired_certificate(spec_, *pr), trust_,
                            spec_.server_certificate, env_.now(), /*check_renewal=*/false)
             .ok) {
      out.not_valid.push_back(name);
      continue;
    }
    if (st->tls_verification != spec_.tls_verification) out.to_restore.push_back(name);
  }
  return out;
}

Status NodeRunner::restore_tls_verification(const std::string& node) {
  node::NodeProvider* p = nodes_.find(node);
  if (!p) return make_error(ErrorCode::kInvalidArgument, node + ": not a peer of this cluster");
  // A node whose mode is set by hand is not asked (the executor says what to
  // do instead).
  auto st = p->read_state();
  if (st) {
    const auto& ops = st->manual_operations;
    if (std::find(ops.begin(), ops.end(), node::ManualOperation::kSetTlsVerification) != ops.end())
      return make_error(ErrorCode::kUnimplemented,
                        node + ": cluster TLS verification is set in the web UI on this node");
  }
  return p->set_tls_verification(spec_.tls_verification);
}

std::vector<std::string> NodeRunner::describe_nodes() {
  std::vector<std::string> out;
  for (auto& [name, prov] : nodes_.providers) {
    auto st = prov->read_state();
    if (!st) {
      out.push_back(fmt::format("{}: unreachable: {}", name, st.error().message));
      continue;
    }
    std::string line = name + ": ";
    if (st->server_chain.empty()) {
      line += "no server certificate";
    } else {
      const auto& leaf = st->server_chain.front();
      line += fmt::format("serving '{}' {} until {}", leaf.subject_cn(),
                          short_fp(leaf.sha256_fingerprint()), format_time(leaf.not_after()));
    }
    if (!st->staged_chain.empty())
      line += fmt::format("; staged {} awaiting restart",
                          short_fp(st->staged_chain.front().sha256_fingerprint()));
    if (st->pending_csr) line += "; CSR pending";
    line += fmt::format("; TLS verification {}", spec::tls_verification_name(st->tls_verification));
    out.push_back(line);
  }
  return out;
}

}  // namespace edgecert
