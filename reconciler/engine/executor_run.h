// The executor's run of one plan (executor.h), shared by the files that
// implement it: executor.cpp (order, journal, retries, recovery, the
// concurrent phase) and executor_manual.cpp (manual steps). Internal to the
// engine: use execute_plan().
#pragma once

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "reconciler/engine/executor.h"
#include "reconciler/engine/heartbeat.h"

namespace edgecert::executor_detail {

using nlohmann::json;

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
    announce_run();
    bool waiting = false;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      const ActionTraits& t = a.traits();
      if (size_t n = concurrent_batch(i); n > 1) {
        PhaseEnd end = run_concurrent_phase(i, n, waiting);
        if (end == PhaseEnd::kAborted) return aborted();
        if (end == PhaseEnd::kStop) break;
        i += n - 1;
        continue;
      }
      // A waiting issuer lets the other nodes' CSRs be generated and signed
      // (so one round of manual signing covers all), then stops the run
      // before anything is uploaded or disrupted.
      if (waiting && !t.while_waiting) break;
      if (ctx_.stop.stop_requested()) {
        if (!interrupted("before " + a.id)) return aborted();
        break;
      }
      if (t.window_gated && ctx_.window_closes && ctx_.env.now() >= *ctx_.window_closes) {
        report_.outcome = ApplyOutcome::kWaiting;
        report_.message = "the rollout window closed before " + a.id;
        report_.next_steps.push_back(
            "the rollout window closed; no further node was restarted or had its certificate "
            "deployed. Run apply again in the next window: it resumes where this run stopped");
        break;
      }
      if (a.manual) {
        size_t handled = 0;
        Settled s = run_manual(i, handled);
        if (s == Settled::kAborted) return aborted();
        if (s == Settled::kStop) break;
        i += handled - 1;
        continue;
      }
      // A plan is executed in its order, but never past a dependency that is
      // not done: a reordered or edited plan cannot restart a node before its
      // certificate is in place.
      if (auto missing = undone_dependency(a)) {
        if (!refuse_undone(a, *missing)) return aborted();
        break;
      }
      if (!journal(JournalEvent::kActionStart, &a, a.reason, start_data(a))) return aborted();
      progress(a, ProgressKind::kActionStart, a.reason);
      if (t.disruptive || t.window_gated) disrupted_ = true;
      Attempt at = attempt(a, /*on_worker=*/false);
      Settled s = settle(a, at, waiting);
      if (s == Settled::kAborted) return aborted();
      if (s == Settled::kStop) break;
    }
    if (!journal(JournalEvent::kRunEnd, nullptr, apply_outcome_name(report_.outcome),
                 json::object()))
      return aborted();
    report_.node_report = ctx_.runner.describe_nodes();
    if (report_.outcome == ApplyOutcome::kInterrupted)
      report_.next_steps.push_back(
          "run 'edgecert apply' again when ready: it re-reads the live state and resumes where "
          "this run stopped; nodes already done are not touched again");
    if (report_.outcome == ApplyOutcome::kFailed)
      report_.next_steps.push_back(
          "fix the cause above, then run 'edgecert apply' again: it re-reads the live state and "
          "resumes; nodes already done are not touched again");
    return report_;
  }

 private:
  // A transient failure about to be retried after `backoff`.
  struct RetryNote {
    std::string error;
    std::chrono::milliseconds backoff{0};
  };
  // One action's run: its result and how long it took.
  struct Attempt {
    Result<ActionOutput> result = ActionOutput{};
    TimePoint started;
    std::chrono::milliseconds elapsed{0};
    std::vector<RetryNote> notes;  // retry notices, reported by the run's thread
  };

  // `on_worker`: called from a worker thread of the concurrent phase, so
  // retry notices are kept for settle() instead of printed.
  Attempt attempt(const Action& a, bool on_worker) {
    Attempt at;
    at.started = ctx_.env.now();
    at.result = run_with_retries(a, on_worker ? &at.notes : nullptr);
    at.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.env.now() - at.started);
    return at;
  }

  enum class Settled { kContinue, kStop, kAborted };

  // Journals, audits and reports one finished action (its action-start is
  // already in the journal). kStop: the run stops here — after recovery,
  // unless `defer_recovery` (the concurrent phase settles the rest of the
  // wave first; the first failure is the one reported).
  Settled settle(const Action& a, Attempt& at, bool& waiting, bool defer_recovery = false) {
    const ActionTraits& t = a.traits();
    Result<ActionOutput>& r = at.result;
    for (const auto& note : at.notes)
      progress(a, ProgressKind::kRetry, note.error, {}, note.backoff);
    if (!r || r->waiting) {
      std::string msg = r ? r->message : r.error().message;
      // An action whose wait was cut short by the stop failed because of
      // it: recorded as such, and the run ends as interrupted.
      const bool stopped = !r && ctx_.stop.stop_requested();
      // Its own message would be misleading ("no answer within 60 s" after
      // 0.7 s): the wait did not time out, it was cut short.
      if (stopped)
        msg = fmt::format("interrupted after {:.1f}s: the step was cut short before it finished",
                          static_cast<double>(at.elapsed.count()) / 1000.0);
      if (!journal(JournalEvent::kActionFailed, &a, msg, json::object())) return Settled::kAborted;
      audit(a, r ? "waiting" : "failed", msg, at.started);
      progress(a, r ? ProgressKind::kActionWaiting : ProgressKind::kActionFailed, msg, at.elapsed);
      if (stopped) {
        if (report_.outcome != ApplyOutcome::kInterrupted) {
          report_.outcome = ApplyOutcome::kInterrupted;
          report_.message = "interrupted during " + a.id;
        }
        if (defer_recovery) return Settled::kStop;
        return recover() ? Settled::kStop : Settled::kAborted;
      }
      if (r) {
        waiting = true;
        report_.outcome = ApplyOutcome::kWaiting;
        if (report_.message.empty()) report_.message = "waiting for signed certificates";
        report_.next_steps.push_back(msg);
        return Settled::kContinue;
      }
      if (!t.failure_stops_run) {
        report_.next_steps.push_back(
            fmt::format("revocation not done, do it at the CA: serial {} ({})",
                        a.before.is_object() ? a.before.value("serial", "?") : "?", msg));
        return Settled::kContinue;
      }
      if (report_.failed_action.empty()) {
        report_.failed_action = a.id;
        report_.message = msg;
      }
      report_.outcome = ApplyOutcome::kFailed;
      if (defer_recovery) return Settled::kStop;
      return recover() ? Settled::kStop : Settled::kAborted;
    }
    if (!journal(JournalEvent::kActionDone, &a, r->message, r->data)) return Settled::kAborted;
    done_.insert(a.id);
    if (a.kind() == ActionKind::kSetTlsVerification &&
        std::get<SetTlsVerificationParams>(a.params).mode == spec::TlsVerification::kPermissive)
      relaxed_.push_back(a.node);
    audit(a, "done", r->message, at.started);
    ++report_.actions_done;
    progress(a, ProgressKind::kActionDone, r->message, at.elapsed);
    return Settled::kContinue;
  }

  // An action whose dependency is not done: the run stops before it.
  bool refuse_undone(const Action& a, const std::string& missing) {
    report_.failed_action = a.id;
    report_.message = fmt::format(
        "{}: refused: it depends on {}, which is not done in this run; nothing more was done", a.id,
        missing);
    report_.outcome = ApplyOutcome::kFailed;
    return recover();
  }

  // --- Manual steps (executor_manual.cpp) ------------------------------------
  // The consecutive manual steps from `first` are one visit for the
  // operator: each is checked; those not done are shown together, and the
  // run stops (or asks) before any of them. `handled`: how many steps, from
  // `first`, are done when this returns kContinue.
  Settled run_manual(size_t first, size_t& handled);
  // Checks one manual step. Done (or confirmed: it cannot be checked and the
  // operator said so) is journalled and settled like any action; not done
  // sets `wait`. A node that cannot be read fails the step.
  Settled check_manual(const Action& a, bool operator_done, std::optional<ManualWait>& wait);
  void announce_manual(const ManualWait& w);

  // --- The concurrent phase -------------------------------------------------
  // CSR generation and signing by the issuer disrupt nothing and touch one
  // node (and the issuer) each, so consecutive runs of them go through the runner up to
  // runner.concurrency() at a time. The rest of the executor's rules hold:
  // an action starts only once its dependencies are done, and the journal,
  // the audit log and the progress lines come out in plan order, from this
  // thread only, whatever order the actions finish in.

  static bool may_run_concurrently(const Action& a) {
    const ActionTraits& t = a.traits();
    if (t.disruptive || t.window_gated) return false;
    // Not acme-sign: a node's ACME service proves control with http-01
    // challenge files placed on every peer of the cluster (guide ch.4), so
    // two nodes' orders at once would share the peers' challenge listeners.
    return a.kind() == ActionKind::kGenerateCsr || a.kind() == ActionKind::kSignCsr;
  }

  // The number of consecutive actions from `i` that may run concurrently
  // (0 or 1: run it the ordinary way).
  size_t concurrent_batch(size_t i) const {
    if (ctx_.runner.concurrency() <= 1) return 0;
    size_t n = 0;
    while (i + n < plan_.actions.size() && may_run_concurrently(plan_.actions[i + n])) ++n;
    return n;
  }

  enum class PhaseEnd { kContinue, kStop, kAborted };

  // Runs plan_.actions[first, first + count) in waves. A wave is the longest
  // run of the remaining actions, in plan order, whose dependencies are all
  // done: its action-start entries are journalled in plan order, its actions
  // run concurrently, then each is settled in plan order as if it had run
  // alone. Every action of a wave runs even when another fails (they are
  // already journalled and disrupt nothing); the next wave does not start.
  PhaseEnd run_concurrent_phase(size_t first, size_t count, bool& waiting) {
    size_t next = first;
    const size_t end = first + count;
    while (next < end) {
      if (ctx_.stop.stop_requested())
        return interrupted("before " + plan_.actions[next].id) ? PhaseEnd::kStop
                                                               : PhaseEnd::kAborted;
      std::vector<const Action*> wave;
      for (size_t k = next; k < end; ++k) {
        const Action& a = plan_.actions[k];
        if (waiting && !a.traits().while_waiting) break;
        if (undone_dependency(a)) break;
        wave.push_back(&a);
      }
      if (wave.empty()) {
        const Action& a = plan_.actions[next];
        if (waiting && !a.traits().while_waiting) return PhaseEnd::kStop;
        return refuse_undone(a, *undone_dependency(a)) ? PhaseEnd::kStop : PhaseEnd::kAborted;
      }
      for (const Action* a : wave) {
        if (!journal(JournalEvent::kActionStart, a, a->reason, start_data(*a)))
          return PhaseEnd::kAborted;
        progress(*a, ProgressKind::kActionStart, a->reason);
      }
      std::vector<Attempt> attempts = run_wave(wave);
      bool stop = false;
      for (size_t k = 0; k < wave.size(); ++k) {
        Settled st = settle(*wave[k], attempts[k], waiting, /*defer_recovery=*/true);
        if (st == Settled::kAborted) return PhaseEnd::kAborted;
        stop = stop || st == Settled::kStop;
      }
      if (stop) return recover() ? PhaseEnd::kStop : PhaseEnd::kAborted;
      next += wave.size();
    }
    return PhaseEnd::kContinue;
  }

  // Runs the wave's actions on up to runner.concurrency() threads; results
  // in wave order.
  std::vector<Attempt> run_wave(const std::vector<const Action*>& wave) {
    std::vector<Attempt> out(wave.size());
    const size_t width = std::min(wave.size(), ctx_.runner.concurrency());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k = next++; k < wave.size(); k = next++)
        out[k] = attempt(*wave[k], /*on_worker=*/true);
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < width; ++w) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    return out;
  }

  std::optional<std::string> undone_dependency(const Action& a) const {
    for (const auto& dep : a.depends_on)
      if (!done_.count(dep)) return dep;
    return std::nullopt;
  }

  // What an action-start records besides its id: the action's public
  // before/after summary (docs/state-format.md), e.g. the TLS mode it sets.
  static json start_data(const Action& a) {
    json d = json::object();
    if (!a.before.is_null()) d["before"] = a.before;
    if (!a.after.is_null()) d["after"] = a.after;
    return d;
  }

  bool journal(JournalEvent ev, const Action* a, const std::string& message, const json& data) {
    if (killed_) return false;
    JournalEntry e;
    e.run_id = ctx_.run_id;
    e.event = ev;
    if (a) {
      e.action_id = a->id;
      e.node = a->node;
      e.kind = action_kind_name(a->kind());
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

  // A stop was requested: no further action starts; TLS verification is
  // restored as after a failure. False when the journal died.
  bool interrupted(const std::string& where) {
    report_.outcome = ApplyOutcome::kInterrupted;
    report_.message = "interrupted " + where;
    return recover();
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

  void announce_run() {
    if (!ctx_.progress) return;
    ProgressEvent e;
    e.kind = ProgressKind::kRunStart;
    e.at = ctx_.env.now();
    e.run_id = ctx_.run_id;
    e.cluster = plan_.cluster;
    e.actions = plan_.actions.size();
    e.nodes = positions_;
    e.message = plan_.summary_line();
    ctx_.progress(e);
  }

  // An event about action `a`, now: its id, node, kind and the node's place.
  ProgressEvent action_event(const Action& a, ProgressKind kind, const std::string& message) {
    auto it = std::find(positions_.begin(), positions_.end(), a.node);
    ProgressEvent e;
    e.kind = kind;
    e.at = ctx_.env.now();
    e.action = a.id;
    e.node = a.node;
    e.action_kind = action_kind_name(a.kind());
    e.position = it == positions_.end() ? 0 : static_cast<size_t>(it - positions_.begin()) + 1;
    e.of = positions_.size();
    e.message = message;
    return e;
  }

  // Called from the run's thread only (workers hand retries back as notes).
  void progress(const Action& a, ProgressKind kind, const std::string& message,
                std::chrono::milliseconds elapsed = {},
                std::optional<std::chrono::milliseconds> limit = std::nullopt) {
    if (!ctx_.progress) return;
    ProgressEvent e = action_event(a, kind, message);
    e.elapsed = elapsed;
    e.limit = limit;
    ctx_.progress(e);
  }

  bool may_retry(const Action& a) const {
    switch (a.traits().retry) {
      case RetryPolicy::kTransient:
      case RetryPolicy::kRestart:
        return true;
      case RetryPolicy::kNever:
        return false;
      case RetryPolicy::kUnlessAcmeIssuer:
        return !ctx_.signs_through_acme;
    }
    return false;
  }

  // Transient failures (kUnavailable: a 5xx, a dropped connection) are
  // retried with backoff as the kind's retry policy allows. A restart is
  // checked first: a node that went down after the lost reply did restart.
  // Retry notices go to `notes` when set (a worker thread), else to progress.
  Result<ActionOutput> run_with_retries(const Action& a, std::vector<RetryNote>* notes) {
    constexpr int kAttempts = 4;
    std::chrono::milliseconds backoff(500);
    Result<ActionOutput> r = ctx_.runner.run(a);
    for (int attempt = 1; attempt < kAttempts; ++attempt) {
      if (r || r.error().code != ErrorCode::kUnavailable) return r;
      if (!may_retry(a)) return r;
      if (a.traits().retry == RetryPolicy::kRestart)
        if (auto happened = ctx_.runner.restart_happened(a)) return ActionOutput{*happened};
      if (notes)
        notes->push_back({r.error().message, backoff});
      else
        progress(a, ProgressKind::kRetry, r.error().message, {}, backoff);
      {
        WaitScope wait(ctx_.env, a, "waiting to retry after a transient failure", backoff);
        if (!sleep_unless_stopped(ctx_.env, ctx_.stop, backoff)) return r;
      }
      backoff *= 2;
      r = ctx_.runner.run(a);
    }
    return r;
  }

  // After a failure: restore TLS verification when every node serves a
  // valid certificate; otherwise leave it (permissive keeps the cluster
  // talking) and say so. Returns false when the journal died.
  bool recover() {
    // Nothing that changes what a node serves has started since this run
    // relaxed verification: every node serves what it served under the old
    // mode, so the old mode is safe whatever the nodes serve (a first rollout
    // from factory certificates included).
    RecoveryAssessment as = ctx_.runner.assess_recovery();
    if (!disrupted_ && !relaxed_.empty()) {
      for (const std::string& name : relaxed_)
        if (!restore_one(name,
                         fmt::format("restore TLS verification after the {}: nothing was "
                                     "disrupted since this run relaxed it",
                                     stop_word()),
                         as.restore_to))
          return false;
      return true;
    }
    if (!as.not_valid.empty() && relaxed_.empty() && !disrupted_) {
      report_.next_steps.push_back(
          "cluster TLS verification was not touched: the run stopped before relaxing it");
      return true;
    }
    if (!as.not_valid.empty()) {
      report_.next_steps.push_back(fmt::format(
          "cluster TLS verification was left as it is (relaxed, permissive): {} not serving a "
          "valid certificate; the next apply restores it once every node does",
          fmt::join(as.not_valid, ", ")));
      return true;
    }
    for (const std::string& name : as.to_restore)
      if (!restore_one(name,
                       fmt::format("restore TLS verification after the {}: every node serves a "
                                   "valid certificate",
                                   stop_word()),
                       as.restore_to))
        return false;
    return true;
  }

  const char* stop_word() const {
    return report_.outcome == ApplyOutcome::kInterrupted ? "interruption" : "failure";
  }

  // Sets `name` back to the spec's TLS verification, journalled as a
  // recover/ action. False when the journal died.
  bool restore_one(const std::string& name, const std::string& reason,
                   const std::string& restore_to) {
    Action a;
    a.id = "recover/" + name + "/set-tls-verification";
    a.node = name;
    a.params = default_params(ActionKind::kSetTlsVerification);
    a.after = restore_to;
    a.reason = reason;
    if (!journal(JournalEvent::kActionStart, &a, a.reason, start_data(a))) return false;
    progress(a, ProgressKind::kActionStart, a.reason);
    auto st = ctx_.runner.restore_tls_verification(name);
    if (!st && st.error().code == ErrorCode::kUnimplemented) {
      // The node's mode is set by hand (a manual step): say exactly how.
      Action by_hand = a;
      by_hand.params = SetTlsVerificationParams{
          restore_to == spec::tls_verification_name(spec::TlsVerification::kPermissive)
              ? spec::TlsVerification::kPermissive
              : spec::TlsVerification::kEnforce};
      report_.next_steps.push_back(fmt::format("{} ({}; edgecert checks: {})",
                                               manual_instruction_line(by_hand), reason,
                                               manual_instruction(by_hand).check));
    } else if (!st)
      report_.next_steps.push_back(fmt::format(
          "{}: TLS verification could not be restored ({}); the cluster's modes are mixed until "
          "the next apply",
          name, st.error().message));
    if (!journal(st ? JournalEvent::kActionDone : JournalEvent::kActionFailed, &a,
                 st ? "restored" : st.error().message, json::object()))
      return false;
    if (st)
      progress(a, ProgressKind::kActionDone, "restored to " + restore_to);
    else
      progress(a, ProgressKind::kActionFailed, st.error().message);
    return true;
  }

  const Plan& plan_;
  ExecutorContext& ctx_;
  ApplyReport report_;
  std::vector<std::string> positions_;
  std::set<std::string> done_;  // ids of the actions done in this run
  // Nodes this run set to permissive, and whether anything that changes what
  // a node serves (restart, ACME deploy) has started since.
  std::vector<std::string> relaxed_;
  bool disrupted_ = false;
  long journal_writes_ = 0;
  bool killed_ = false;
};

}  // namespace edgecert::executor_detail
