#include "reconciler/engine/executor.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"

namespace edgecert {
namespace {

using nlohmann::json;

struct Output {
  std::string message;
  json data = json::object();
  bool waiting = false;
};

spec::Digest parse_digest(const std::string& s) {
  if (s == "sha384") return spec::Digest::kSha384;
  if (s == "sha512") return spec::Digest::kSha512;
  return spec::Digest::kSha256;
}

spec::RevocationChecking revocation_from(const json& j) {
  spec::RevocationChecking r;
  r.enabled = j.at("enabled").get<bool>();
  r.ocsp = j.at("ocsp").get<bool>();
  r.crl = j.at("crl").get<bool>();
  r.cdp_downloads = j.at("cdp_downloads").get<bool>();
  r.fallback = j.at("fallback").get<std::string>() ==
                       spec::revocation_fallback_name(spec::RevocationFallback::kTreatAsRevoked)
                   ? spec::RevocationFallback::kTreatAsRevoked
                   : spec::RevocationFallback::kTreatAsNotRevoked;
  return r;
}

std::string seconds(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 10000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  return fmt::format("{}s", ms / 1000);
}

std::string short_fp(const std::string& fp) {
  return fp.substr(0, 23);
}

class Run {
 public:
  Run(const Plan& plan, ExecutorContext& ctx) : plan_(plan), ctx_(ctx) {
    for (const auto& n : plan.touched_nodes()) positions_.push_back(n);
  }

  ApplyReport go() {
    json start = {{"spec_sha256", plan_.spec_sha256},
                  {"cluster", plan_.cluster},
                  {"actions", plan_.actions.size()},
                  {"plan_created_at", plan_.created_at}};
    if (!journal(JournalEvent::kRunStart, nullptr, "", start)) return aborted();
    bool waiting = false;
    for (const Action& a : plan_.actions) {
      // A waiting issuer lets the other nodes' CSRs be generated and signed
      // (so one round of manual signing covers all), then stops the run
      // before anything is uploaded or disrupted.
      if (waiting &&
          !(a.kind == ActionKind::kGenerateCsr || a.kind == ActionKind::kSignCsr ||
            a.kind == ActionKind::kAppendTrustedCas || a.kind == ActionKind::kDiscardCsr))
        break;
      if ((a.kind == ActionKind::kRestart || a.kind == ActionKind::kAcmeDeploy) &&
          ctx_.window_closes && ctx_.env.now() >= *ctx_.window_closes) {
        report_.outcome = ApplyOutcome::kWaiting;
        report_.message = "the rollout window closed before " + a.id;
        report_.next_steps.push_back(
            "the rollout window closed; no further node was restarted or had its certificate "
            "deployed. Run apply again in the next window: it resumes where this run stopped");
        break;
      }
      node::NodeProvider* p = ctx_.nodes.find(a.node);
      if (!journal(JournalEvent::kActionStart, &a, a.reason, json::object())) return aborted();
      TimePoint t0 = ctx_.env.now();
      Result<Output> r = p ? execute_with_retries(a, *p)
                           : Result<Output>(make_error(ErrorCode::kInvalidArgument,
                                                       a.node + ": not a peer of this cluster"));
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.env.now() - t0);
      if (!r || r->waiting) {
        std::string msg = r ? r->message : r.error().message;
        if (!journal(JournalEvent::kActionFailed, &a, msg, json::object())) return aborted();
        audit(a, r ? "waiting" : "failed", msg, t0);
        progress(a, fmt::format("{} ({})", r ? "waiting" : "FAILED: " + msg, seconds(elapsed)));
        if (r) {
          waiting = true;
          report_.outcome = ApplyOutcome::kWaiting;
          if (report_.message.empty()) report_.message = "waiting for signed certificates";
          report_.next_steps.push_back(msg);
          continue;
        }
        if (a.kind == ActionKind::kRevokeSuperseded) {
          // The replacement already serves everywhere; a failed revocation
          // must not undo or stop that. It is reported for a human to finish.
          report_.next_steps.push_back(
              fmt::format("revocation not done, do it at the CA: serial {} ({})",
                          a.before.value("serial", "?"), msg));
          continue;
        }
        report_.failed_action = a.id;
        report_.message = msg;
        report_.outcome = ApplyOutcome::kFailed;
        if (!recover()) return aborted();
        break;
      }
      if (!journal(JournalEvent::kActionDone, &a, r->message, r->data)) return aborted();
      audit(a, "done", r->message, t0);
      ++report_.actions_done;
      progress(a,
               fmt::format("{} ({})", r->message.empty() ? "done" : r->message, seconds(elapsed)));
    }
    if (!journal(JournalEvent::kRunEnd, nullptr, apply_outcome_name(report_.outcome),
                 json::object()))
      return aborted();
    describe_nodes();
    return report_;
  }

 private:
  bool journal(JournalEvent ev, const Action* a, const std::string& message, const json& data) {
    if (killed_) return false;
    JournalEntry e;
    e.run_id = ctx_.run_id;
    e.event = ev;
    if (a) {
      e.action_id = a->id;
      e.node = a->node;
      e.kind = action_kind_name(a->kind);
    }
    e.message = message;
    e.data = data;
    auto st = ctx_.journal.append(e);
    if (!st) {
      killed_ = true;
      report_.message = "journal write failed, stopping at once: " + st.error().message;
      return false;
    }
    ++journal_writes_;
    if (ctx_.after_journal_write && !ctx_.after_journal_write(journal_writes_)) {
      killed_ = true;
      report_.message = fmt::format("run killed after journal write {}", journal_writes_);
      return false;
    }
    return true;
  }

  ApplyReport aborted() {
    report_.outcome = ApplyOutcome::kAborted;
    report_.next_steps.push_back(
        "the run stopped without finishing its journal; run 'edgecert apply' again: it re-reads "
        "the live state and resumes");
    return report_;
  }

  void audit(const Action& a, const std::string& outcome, const std::string& msg, TimePoint t0) {
    if (ctx_.audit) ctx_.audit(a, outcome, msg, t0, ctx_.env.now());
  }

  void progress(const Action& a, const std::string& what) {
    if (!ctx_.progress) return;
    auto it = std::find(positions_.begin(), positions_.end(), a.node);
    size_t pos = it == positions_.end() ? 0 : static_cast<size_t>(it - positions_.begin()) + 1;
    ctx_.progress(fmt::format("[{}/{} {}] {}: {}", pos, positions_.size(), a.node,
                              action_kind_name(a.kind), what));
  }

  Result<node::NodeState> state_of(node::NodeProvider& p) { return p.read_state(); }

  // A real appliance accepts a restart and keeps answering for a while before
  // it goes down: waiting for "up" right away would pass against the old
  // instance and let the next node restart while this one is about to. So a
  // restart is done only once the node was seen down, or is seen already back
  // with its staged certificate active and no restart pending.
  Result<Output> confirm_restart(const Action& a, node::NodeProvider& p) {
    const json& pa = a.params;
    auto deadline = ctx_.env.now() + std::chrono::seconds(pa.value("confirm_seconds", 600));
    for (;;) {
      auto st = p.read_state();
      if (!st && st.error().code == ErrorCode::kUnavailable) return Output{"node went down"};
      if (st && !st->restart_required && st->staged_chain.empty())
        return Output{"node restarted (seen back already)"};
      if (ctx_.env.now() >= deadline)
        return std::unexpected(Error{
            ErrorCode::kUnavailable,
            fmt::format("{}: restart: the node accepted the restart but did not go down", a.node)});
      ctx_.env.sleep_for(std::chrono::seconds(1));
    }
  }

  // Transient failures (kUnavailable: a 5xx, a dropped connection) are
  // retried with backoff. Every action re-reads the node before it changes
  // anything, so a retry after a lost reply does not do the work twice — except
  // a restart, which is checked specially: a node that went down after the
  // lost reply did restart.
  Result<Output> execute_with_retries(const Action& a, node::NodeProvider& p) {
    constexpr int kAttempts = 4;
    std::chrono::milliseconds backoff(500);
    Result<Output> r = execute(a, p);
    for (int attempt = 1; attempt < kAttempts; ++attempt) {
      if (r || r.error().code != ErrorCode::kUnavailable) return r;
      if (a.kind == ActionKind::kWaitHealthy) return r;  // has its own deadline
      // Every ACME attempt is a new order against the CA's rate limits (and
      // rateLimited itself is transient but wants hours, not seconds): a
      // failed signature stops the run; the rerun resumes.
      if (a.kind == ActionKind::kAcmeSign ||
          (a.kind == ActionKind::kSignCsr &&
           std::holds_alternative<spec::AcmeIssuer>(ctx_.spec.server_certificate.issuer)))
        return r;
      if (a.kind == ActionKind::kRestart) {
        auto st = p.read_state();
        if (!st && st.error().code == ErrorCode::kUnavailable)
          return Output{"restart requested (the reply was lost; the node is down, so it restarts)"};
        if (st && !st->restart_required && st->staged_chain.empty())
          return Output{"restart requested (the reply was lost; the node already restarted)"};
      }
      progress(a, fmt::format("transient failure, retrying in {}: {}", seconds(backoff),
                              r.error().message));
      ctx_.env.sleep_for(backoff);
      backoff *= 2;
      r = execute(a, p);
    }
    return r;
  }

  const spec::Peer* peer(const std::string& name) const { return ctx_.spec.find_peer(name); }

  // Signing needs the CSR the plan asked for: a missing or replaced one (an
  // operator at the node, another tool) stops the run before anything is
  // signed.
  std::optional<Error> pending_csr_problem(const node::NodeState& st, const spec::Peer& pr) {
    if (!st.pending_csr)
      return Error{ErrorCode::kNotFound,
                   "no CSR is pending on the node (discarded by someone?); plan again"};
    if (!csr_matches(*st.pending_csr, desired_certificate(ctx_.spec, pr)))
      return Error{ErrorCode::kConflict,
                   fmt::format("the CSR pending on the node (CN '{}') is not the one this plan "
                               "asked for (replaced by someone?); nothing was signed, plan again",
                               st.pending_csr->common_name)};
    return std::nullopt;
  }

  // Problems of `chain` against the spec for `node`, joined; "" when right.
  std::string problems_of(const std::vector<pki::Certificate>& chain, const spec::Peer& pr) {
    Assessment as = assess_certificate(chain, desired_certificate(ctx_.spec, pr), ctx_.trust,
                                       ctx_.spec.server_certificate, ctx_.env.now());
    std::string why;
    for (const auto& w : as.problems) why += (why.empty() ? "" : "; ") + w;
    return why;
  }

  Result<Output> execute(const Action& a, node::NodeProvider& p) {
    auto fail = [&](const Error& e) -> Result<Output> {
      // Provider errors already name node and action; others get both here.
      if (e.message.rfind(a.node + ":", 0) == 0) return std::unexpected(e);
      return std::unexpected(
          e.with_context(fmt::format("{}: {}", a.node, action_kind_name(a.kind))));
    };
    const json& pa = a.params;
    switch (a.kind) {
      case ActionKind::kDiscardCsr: {
        auto st = p.discard_csr();
        if (!st && st.error().code != ErrorCode::kNotFound) return fail(st.error());
        return Output{"CSR discarded"};
      }
      case ActionKind::kAppendTrustedCas: {
        std::string bundle;
        for (const auto& pem : pa.at("pem")) bundle += pem.get<std::string>();
        auto r = p.append_trusted_cas(bundle);
        if (!r) return fail(r.error());
        return Output{
            fmt::format("{} added, {} already trusted", r->added.size(), r->skipped.size()),
            {{"added", r->added}}};
      }
      case ActionKind::kGenerateCsr: {
        const spec::Peer* pr = peer(a.node);
        if (!pr) return fail(Error{ErrorCode::kInvalidArgument, "not a peer of the spec"});
        DesiredCertificate want = desired_certificate(ctx_.spec, *pr);
        auto st = state_of(p);
        if (!st) return fail(st.error());
        if (st->pending_csr && csr_matches(*st->pending_csr, want))
          return Output{"a matching CSR is already pending on the node",
                        {{"csr_sha256", pki::sha256_fingerprint(st->pending_csr->pem)}}};
        node::CsrRequest req;
        req.common_name = pa.at("common_name").get<std::string>();
        req.dns_names = pa.at("dns_names").get<std::vector<std::string>>();
        const json& s = pa.at("subject");
        req.subject = {s.value("country", ""), s.value("state", ""), s.value("locality", ""),
                       s.value("organization", ""), s.value("organizational_unit", "")};
        req.key_algorithm = pa.at("key_algorithm").get<std::string>() == "ecdsa"
                                ? spec::KeyAlgorithm::kEcdsa
                                : spec::KeyAlgorithm::kRsa;
        req.key_size = pa.at("key_size").get<int>();
        req.digest = parse_digest(pa.at("digest").get<std::string>());
        auto csr = p.generate_csr(req);
        if (!csr) return fail(csr.error());
        return Output{"CSR generated on the node (the key stays there)",
                      {{"csr_sha256", pki::sha256_fingerprint(*csr)}}};
      }
      case ActionKind::kSignCsr: {
        if (!ctx_.issuer) return fail(Error{ErrorCode::kInternal, "no issuer configured"});
        auto st = state_of(p);
        if (!st) return fail(st.error());
        const spec::Peer* pr = peer(a.node);
        if (!pr) return fail(Error{ErrorCode::kInvalidArgument, "not a peer of the spec"});
        if (auto e = pending_csr_problem(*st, *pr)) return fail(*e);
        std::string csr_fp = pki::sha256_fingerprint(st->pending_csr->pem);
        std::vector<std::string> chain_pem;
        if (auto it = ctx_.signed_chains.find(csr_fp); it != ctx_.signed_chains.end()) {
          chain_pem = it->second;
        } else {
          issuer::SignRequest req{ctx_.spec.name, a.node, st->pending_csr->pem,
                                  parse_digest(pa.value("digest", "sha256"))};
          auto out = ctx_.issuer->sign(req);
          if (!out) return fail(out.error());
          if (out->state == issuer::SignState::kWaiting) {
            Output w;
            w.waiting = true;
            w.message = fmt::format("{}: {}", a.node, out->message);
            return w;
          }
          for (const auto& c : out->chain) chain_pem.push_back(c.to_pem());
        }
        signed_[a.node] = chain_pem;
        auto leaf = pki::Certificate::parse_one(chain_pem.front(), a.node + " signed certificate");
        if (!leaf) return fail(leaf.error());
        return Output{fmt::format("signed: serial {}, expires {}", leaf->serial_hex(),
                                  pki::format_time(leaf->not_after())),
                      {{"csr_sha256", csr_fp},
                       {"leaf_sha256", leaf->sha256_fingerprint()},
                       {"chain", chain_pem}}};
      }
      case ActionKind::kAcmeSign: {
        const spec::Peer* pr = peer(a.node);
        if (!pr) return fail(Error{ErrorCode::kInvalidArgument, "not a peer of the spec"});
        auto st = state_of(p);
        if (!st) return fail(st.error());
        // Level-triggered: a certificate the node already signed for this
        // spec (a lost reply, an interrupted run) is not ordered twice.
        if (auto pending = pending_acme_chain(*st); pending && problems_of(*pending, *pr).empty()) {
          std::string fp = pending->front().sha256_fingerprint();
          acme_signed_[a.node] = fp;
          return Output{"a matching certificate is already pending in the node's ACME service",
                        {{"leaf_sha256", fp}}};
        }
        if (auto e = pending_csr_problem(*st, *pr)) return fail(*e);
        if (auto s2 = p.acme_sign(); !s2) return fail(s2.error());
        auto after = state_of(p);
        if (!after) return fail(after.error());
        auto pending = pending_acme_chain(*after);
        if (!pending)
          return fail(Error{ErrorCode::kUnavailable,
                            "the node reported the ACME sign done but holds no pending certificate"
                            " (last sign status: " +
                                after->acme_status.last_sign_status + ")"});
        // Check it before it can be deployed, and take a wrong one away: in
        // automated mode the node would deploy it at its next slot.
        if (auto why = problems_of(*pending, *pr); !why.empty()) {
          auto dropped = p.acme_discard_pending();
          return fail(Error{ErrorCode::kConflict,
                            "the certificate the node's ACME provider signed is not right, so it "
                            "is not deployed" +
                                std::string(dropped ? " (discarded from the node)"
                                                    : " (NOT discarded from the node: " +
                                                          dropped.error().message + ")") +
                                ": " + why});
        }
        const auto& leaf = pending->front();
        acme_signed_[a.node] = leaf.sha256_fingerprint();
        return Output{fmt::format("signed by the node's ACME provider: serial {}, expires {}",
                                  leaf.serial_hex(), pki::format_time(leaf.not_after())),
                      {{"leaf_sha256", leaf.sha256_fingerprint()}}};
      }
      case ActionKind::kAcmeDeploy: {
        std::string want;
        if (auto it = acme_signed_.find(a.node); it != acme_signed_.end())
          want = it->second;
        else
          want = pa.value("sha256", "");
        if (want.empty())
          return fail(
              Error{ErrorCode::kInternal, "no certificate was signed for this node in this run"});
        auto st = state_of(p);
        if (!st) return fail(st.error());
        if (!st->server_chain.empty() && st->server_chain.front().sha256_fingerprint() == want) {
          uploaded_[a.node] = want;
          return Output{"already deployed", {{"leaf_sha256", want}}};
        }
        auto pending = pending_acme_chain(*st);
        if (!pending || pending->front().sha256_fingerprint() != want)
          return fail(Error{
              ErrorCode::kConflict,
              fmt::format("the node's pending ACME certificate is {}, not {} signed for this "
                          "plan (replaced, e.g. by the node's automated renewal?); nothing was "
                          "deployed, plan again",
                          pending ? short_fp(pending->front().sha256_fingerprint()) : "none",
                          short_fp(want))});
        if (auto s2 = p.acme_deploy(); !s2) return fail(s2.error());
        uploaded_[a.node] = want;
        return Output{"deployed " + short_fp(want) + " (no restart)", {{"leaf_sha256", want}}};
      }
      case ActionKind::kAcmeDiscardPending: {
        auto st = state_of(p);
        if (!st) return fail(st.error());
        auto pending = pending_acme_chain(*st);
        if (!pending) return Output{"nothing pending (already gone)"};
        // Only the certificate the plan judged; a newer one is judged again
        // by the next plan.
        if (pa.contains("sha256") && pending->front().sha256_fingerprint() != pa["sha256"])
          return Output{"the pending certificate changed since the plan; left for the next plan"};
        auto d2 = p.acme_discard_pending();
        if (!d2 && d2.error().code != ErrorCode::kNotFound) return fail(d2.error());
        return Output{"pending ACME certificate discarded"};
      }
      case ActionKind::kSetAcmeSettings: {
        auto settings = acme_settings_from_json(pa);
        if (!settings) return fail(settings.error());
        auto st = p.set_acme_settings(*settings);
        if (!st) return fail(st.error());
        return Output{"ACME service settings updated"};
      }
      case ActionKind::kUploadCertificate: {
        auto it = signed_.find(a.node);
        if (it == signed_.end())
          return fail(
              Error{ErrorCode::kInternal, "no signed certificate for this node in this run"});
        std::string chain_text;
        for (const auto& pem : it->second) chain_text += pem;
        auto chain = pki::Certificate::parse_all(chain_text, a.node + " signed chain");
        if (!chain) return fail(chain.error());
        std::string leaf_fp = chain->front().sha256_fingerprint();
        // Check what the issuer returned before it can cost a restart.
        const spec::Peer* pr = peer(a.node);
        if (!pr) return fail(Error{ErrorCode::kInvalidArgument, "not a peer of the spec"});
        Assessment as = assess_certificate(*chain, desired_certificate(ctx_.spec, *pr), ctx_.trust,
                                           ctx_.spec.server_certificate, ctx_.env.now());
        if (!as.ok) {
          std::string why;
          for (const auto& w : as.problems) why += (why.empty() ? "" : "; ") + w;
          return fail(Error{ErrorCode::kConflict,
                            "the signed certificate is not right, so it was not uploaded: " + why});
        }
        auto st = state_of(p);
        if (!st) return fail(st.error());
        if (!st->staged_chain.empty() && st->staged_chain.front().sha256_fingerprint() == leaf_fp) {
          uploaded_[a.node] = leaf_fp;
          return Output{"already staged", {{"leaf_sha256", leaf_fp}}};
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
          auto r = p.append_trusted_cas(missing);
          if (!r) return fail(r.error());
          appended = r->added.size();
        }
        node::CertificateUpload up;
        up.chain_pem = chain_text;
        auto r = p.upload_server_certificate(up);
        if (!r) {
          Error e = r.error();
          if (appended > 0)
            e.message += fmt::format(
                " ({} CA certificate{} of the chain were appended first and "
                "stay trusted)",
                appended, appended == 1 ? "" : "s");
          return fail(e);
        }
        uploaded_[a.node] = leaf_fp;
        std::string msg = "staged " + short_fp(leaf_fp);
        for (const auto& w : r->warnings) msg += "; node warning: " + w.message;
        return Output{msg, {{"leaf_sha256", leaf_fp}}};
      }
      case ActionKind::kRestart: {
        auto st = p.restart();
        if (!st) return fail(st.error());
        return confirm_restart(a, p);
      }
      case ActionKind::kWaitHealthy: {
        auto timeout = std::chrono::seconds(pa.value("timeout_seconds", 600));
        TimePoint t0 = ctx_.env.now();
        auto st = p.wait_until_up(timeout);
        if (!st) return fail(st.error());
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.env.now() - t0);
        return Output{"up after " + seconds(took)};
      }
      case ActionKind::kVerifyServed: {
        auto served = p.served_chain();
        if (!served) return fail(served.error());
        if (served->empty())
          return fail(Error{ErrorCode::kUnavailable, "the node presented no certificate"});
        std::string got = served->front().sha256_fingerprint();
        std::string want;
        if (auto it = uploaded_.find(a.node); it != uploaded_.end())
          want = it->second;
        else if (a.after.is_object() && a.after.contains("sha256"))
          want = a.after["sha256"].get<std::string>();
        if (!want.empty() && got != want)
          return fail(
              Error{ErrorCode::kConflict,
                    fmt::format("the node serves {} ('{}'), not the new certificate {}; "
                                "it came back with the old certificate",
                                short_fp(got), served->front().subject_cn(), short_fp(want))});
        const spec::Peer* pr = peer(a.node);
        if (!pr) return fail(Error{ErrorCode::kInvalidArgument, "not a peer of the spec"});
        Assessment as = assess_certificate(*served, desired_certificate(ctx_.spec, *pr), ctx_.trust,
                                           ctx_.spec.server_certificate, ctx_.env.now());
        if (!as.ok) {
          std::string why;
          for (const auto& s : as.problems) why += (why.empty() ? "" : "; ") + s;
          return fail(Error{ErrorCode::kConflict, "the served certificate is not right: " + why});
        }
        return Output{fmt::format("serving {} (verified for {})", short_fp(got), pr->fqdn),
                      {{"served_sha256", got}}};
      }
      case ActionKind::kRevokeSuperseded: {
        auto old = pki::Certificate::parse_one(pa.at("pem").get<std::string>(), a.id);
        if (!old) return fail(old.error());
        bool on_node = node_signs(ctx_.spec);
        // Never the certificate in use (the plan saw it replaced; check again).
        auto served = p.served_chain();
        if (!served) return fail(served.error());
        if (!served->empty() && served->front().sha256_fingerprint() == old->sha256_fingerprint())
          return fail(Error{ErrorCode::kConflict,
                            "the superseded certificate is still in use; not revoked"});
        if (on_node) {
          // An ACME CA refuses what it did not issue; already revoked (a
          // lost reply) is done.
          auto st = p.acme_revoke(old->to_pem(), pki::RevocationReason::kSuperseded);
          if (!st && st.error().code == ErrorCode::kAlreadyExists)
            return Output{fmt::format("serial {} was already revoked", old->serial_hex())};
          if (!st) return fail(st.error());
          return Output{
              fmt::format("revoked serial {} (superseded) through the node's ACME "
                          "service",
                          old->serial_hex())};
        }
        if (!ctx_.issuer) return fail(Error{ErrorCode::kInternal, "no issuer configured"});
        auto st = ctx_.issuer->revoke(*old, issuer::RevocationReason::kSuperseded);
        if (!st) return fail(st.error());
        return Output{fmt::format("revoked serial {} (superseded)", old->serial_hex())};
      }
      case ActionKind::kDeleteTrustedCa: {
        std::string fp = pa.at("sha256").get<std::string>();
        // Re-check at the last moment: a chain that needs the CA may have
        // appeared since the plan was made.
        for (auto& [name, prov] : ctx_.nodes.providers) {
          auto st = prov->read_state();
          if (!st) return fail(st.error());
          for (const auto* chain : {&st->server_chain, &st->staged_chain}) {
            auto cas = chain_ca_fingerprints(*chain, st->trusted_cas, ctx_.env.now());
            if (std::find(cas.begin(), cas.end(), fp) != cas.end())
              return fail(
                  Error{ErrorCode::kConflict,
                        fmt::format("refused: {}'s {} certificate chains to this CA; "
                                    "deleting it would break that certificate",
                                    name, chain == &st->server_chain ? "serving" : "staged")});
          }
        }
        auto st = p.delete_trusted_ca(fp);
        if (!st && st.error().code != ErrorCode::kNotFound) return fail(st.error());
        return Output{"deleted " + short_fp(fp)};
      }
      case ActionKind::kSetTlsVerification: {
        auto mode = pa.at("mode").get<std::string>() == "permissive"
                        ? spec::TlsVerification::kPermissive
                        : spec::TlsVerification::kEnforce;
        auto st = p.set_tls_verification(mode);
        if (!st) return fail(st.error());
        return Output{std::string("TLS verification ") + spec::tls_verification_name(mode)};
      }
      case ActionKind::kSetCrlSettings: {
        node::CrlSettings c;
        c.automatic_updates = pa.at("automatic_updates").get<bool>();
        c.distribution_points = pa.at("distribution_points").get<std::vector<std::string>>();
        c.daily_update_minute = pa.at("daily_update_minute").get<int>();
        auto st = p.set_crl_settings(c);
        if (!st) return fail(st.error());
        return Output{"CRL settings updated"};
      }
      case ActionKind::kUploadManualCrl: {
        auto data = ctx_.env.read_file(pa.at("path").get<std::string>());
        if (!data) return fail(data.error());
        if (pa.contains("sha256") && pa["sha256"] != pki::sha256_fingerprint(*data))
          return fail(Error{ErrorCode::kConflict,
                            fmt::format("{} changed since the plan was made; plan again",
                                        pa["path"].get<std::string>())});
        auto st = p.upload_manual_crl(*data);
        if (!st) return fail(st.error());
        return Output{"manual CRL uploaded " + short_fp(pki::sha256_fingerprint(*data))};
      }
      case ActionKind::kSetRevocationChecking: {
        auto st = p.set_revocation_checking(revocation_from(pa));
        if (!st) return fail(st.error());
        return Output{"revocation checking updated"};
      }
    }
    return fail(Error{ErrorCode::kInternal, "unknown action kind"});
  }

  // After a failure: restore TLS verification when every node serves a
  // valid certificate; otherwise leave it (permissive keeps the cluster
  // talking) and say so. Returns false when the journal died.
  bool recover() {
    std::vector<std::pair<std::string, node::NodeState>> states;
    bool all_valid = true;
    std::string invalid;
    for (auto& [name, prov] : ctx_.nodes.providers) {
      auto st = prov->read_state();
      const spec::Peer* pr = peer(name);
      if (!st || !pr || st->server_chain.empty()) {
        all_valid = false;
        invalid += (invalid.empty() ? "" : ", ") + name;
        continue;
      }
      // Valid = what verify-served accepts, minus the renewal window: a
      // certificate that is merely due for renewal still serves.
      if (!assess_certificate(st->server_chain, desired_certificate(ctx_.spec, *pr), ctx_.trust,
                              ctx_.spec.server_certificate, ctx_.env.now(),
                              /*check_renewal=*/false)
               .ok) {
        all_valid = false;
        invalid += (invalid.empty() ? "" : ", ") + name;
      }
      states.emplace_back(name, std::move(*st));
    }
    if (!all_valid) {
      report_.next_steps.push_back(fmt::format(
          "cluster TLS verification was left as it is: {} not serving a valid certificate",
          invalid));
      return true;
    }
    for (auto& [name, st] : states) {
      if (st.tls_verification == ctx_.spec.tls_verification) continue;
      Action a;
      a.id = "recover/" + name + "/set-tls-verification";
      a.node = name;
      a.kind = ActionKind::kSetTlsVerification;
      a.reason =
          "restore TLS verification after the failure: every node serves a valid certificate";
      if (!journal(JournalEvent::kActionStart, &a, a.reason, json::object())) return false;
      auto st2 = ctx_.nodes.find(name)->set_tls_verification(ctx_.spec.tls_verification);
      if (!st2)
        report_.next_steps.push_back(fmt::format(
            "{}: TLS verification could not be restored ({}); the cluster's modes are mixed until "
            "the next apply",
            name, st2.error().message));
      if (!journal(st2 ? JournalEvent::kActionDone : JournalEvent::kActionFailed, &a,
                   st2 ? "restored" : st2.error().message, json::object()))
        return false;
      progress(a, st2 ? std::string("restored to ") +
                            spec::tls_verification_name(ctx_.spec.tls_verification)
                      : "FAILED: " + st2.error().message);
    }
    return true;
  }

  void describe_nodes() {
    for (auto& [name, prov] : ctx_.nodes.providers) {
      auto st = prov->read_state();
      if (!st) {
        report_.node_report.push_back(fmt::format("{}: unreachable: {}", name, st.error().message));
        continue;
      }
      std::string line = name + ": ";
      if (st->server_chain.empty()) {
        line += "no server certificate";
      } else {
        const auto& leaf = st->server_chain.front();
        line +=
            fmt::format("serving '{}' {} until {}", leaf.subject_cn(),
                        short_fp(leaf.sha256_fingerprint()), pki::format_time(leaf.not_after()));
      }
      if (!st->staged_chain.empty())
        line += fmt::format("; staged {} awaiting restart",
                            short_fp(st->staged_chain.front().sha256_fingerprint()));
      if (st->pending_csr) line += "; CSR pending";
      line +=
          fmt::format("; TLS verification {}", spec::tls_verification_name(st->tls_verification));
      report_.node_report.push_back(line);
    }
    if (report_.outcome == ApplyOutcome::kFailed)
      report_.next_steps.push_back(
          "fix the cause above, then run 'edgecert apply' again: it re-reads the live state and "
          "resumes; nodes already done are not touched again");
  }

  const Plan& plan_;
  ExecutorContext& ctx_;
  ApplyReport report_;
  std::vector<std::string> positions_;
  std::map<std::string, std::vector<std::string>> signed_;
  std::map<std::string, std::string> uploaded_;
  std::map<std::string, std::string> acme_signed_;  // node -> pending ACME leaf signed this run
  long journal_writes_ = 0;
  bool killed_ = false;
};

}  // namespace

const char* apply_outcome_name(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::kComplete:
      return "complete";
    case ApplyOutcome::kWaiting:
      return "waiting";
    case ApplyOutcome::kFailed:
      return "failed";
    case ApplyOutcome::kAborted:
      return "aborted";
  }
  return "?";
}

ApplyReport execute_plan(const Plan& plan, ExecutorContext& context) {
  Run run(plan, context);
  ApplyReport r = run.go();
  return r;
}

std::map<std::string, std::vector<std::string>> signed_chains_from_journal(
    const std::vector<JournalEntry>& entries) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : entries) {
    if (e.event != JournalEvent::kActionDone || e.kind != "sign-csr") continue;
    if (e.data.contains("csr_sha256") && e.data.contains("chain"))
      out[e.data["csr_sha256"].get<std::string>()] =
          e.data["chain"].get<std::vector<std::string>>();
  }
  return out;
}

std::vector<std::string> unverified_restarts(const std::vector<JournalEntry>& entries) {
  std::map<std::string, bool> owed;  // node -> a restart awaits verification
  for (const auto& e : entries) {
    if (e.node.empty()) continue;
    if (e.kind == action_kind_name(ActionKind::kRestart) &&
        (e.event == JournalEvent::kActionStart || e.event == JournalEvent::kActionDone))
      owed[e.node] = true;
    if (e.kind == action_kind_name(ActionKind::kVerifyServed) &&
        e.event == JournalEvent::kActionDone)
      owed[e.node] = false;
  }
  std::vector<std::string> out;
  for (const auto& [node, pending] : owed)
    if (pending) out.push_back(node);
  return out;
}

}  // namespace edgecert
