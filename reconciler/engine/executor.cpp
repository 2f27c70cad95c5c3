#include "reconciler/engine/executor.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "reconciler/engine/dry_run_runner.h"

namespace edgecert {
namespace {

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
    bool waiting = false;
    for (const Action& a : plan_.actions) {
      const ActionTraits& t = a.traits();
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
      // A plan is executed in its order, but never past a dependency that is
      // not done: a reordered or edited plan cannot restart a node before its
      // certificate is in place.
      if (auto missing = undone_dependency(a)) {
        report_.failed_action = a.id;
        report_.message = fmt::format(
            "{}: refused: it depends on {}, which is not done in this run; nothing more was "
            "done",
            a.id, *missing);
        report_.outcome = ApplyOutcome::kFailed;
        if (!recover()) return aborted();
        break;
      }
      if (!journal(JournalEvent::kActionStart, &a, a.reason, start_data(a))) return aborted();
      TimePoint t0 = ctx_.env.now();
      Result<ActionOutput> r = run_with_retries(a);
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.env.now() - t0);
      if (!r || r->waiting) {
        std::string msg = r ? r->message : r.error().message;
        // An action whose wait was cut short by the stop failed because of
        // it: recorded as such, and the run ends as interrupted.
        const bool stopped = !r && ctx_.stop.stop_requested();
        if (stopped) msg = "interrupted: " + msg;
        if (!journal(JournalEvent::kActionFailed, &a, msg, json::object())) return aborted();
        audit(a, r ? "waiting" : "failed", msg, t0);
        progress(a,
                 fmt::format("{} ({})", r ? "waiting" : "FAILED: " + msg, format_elapsed(elapsed)));
        if (stopped) {
          if (!interrupted("during " + a.id)) return aborted();
          break;
        }
        if (r) {
          waiting = true;
          report_.outcome = ApplyOutcome::kWaiting;
          if (report_.message.empty()) report_.message = "waiting for signed certificates";
          report_.next_steps.push_back(msg);
          continue;
        }
        if (!t.failure_stops_run) {
          report_.next_steps.push_back(
              fmt::format("revocation not done, do it at the CA: serial {} ({})",
                          a.before.is_object() ? a.before.value("serial", "?") : "?", msg));
          continue;
        }
        report_.failed_action = a.id;
        report_.message = msg;
        report_.outcome = ApplyOutcome::kFailed;
        if (!recover()) return aborted();
        break;
      }
      if (!journal(JournalEvent::kActionDone, &a, r->message, r->data)) return aborted();
      done_.insert(a.id);
      audit(a, "done", r->message, t0);
      ++report_.actions_done;
      progress(a, fmt::format("{} ({})", r->message.empty() ? "done" : r->message,
                              format_elapsed(elapsed)));
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

  void progress(const Action& a, const std::string& what) {
    if (!ctx_.progress) return;
    auto it = std::find(positions_.begin(), positions_.end(), a.node);
    size_t pos = it == positions_.end() ? 0 : static_cast<size_t>(it - positions_.begin()) + 1;
    ctx_.progress(fmt::format("[{}/{} {}] {}: {}", pos, positions_.size(), a.node,
                              action_kind_name(a.kind()), what));
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
  Result<ActionOutput> run_with_retries(const Action& a) {
    constexpr int kAttempts = 4;
    std::chrono::milliseconds backoff(500);
    Result<ActionOutput> r = ctx_.runner.run(a);
    for (int attempt = 1; attempt < kAttempts; ++attempt) {
      if (r || r.error().code != ErrorCode::kUnavailable) return r;
      if (!may_retry(a)) return r;
      if (a.traits().retry == RetryPolicy::kRestart)
        if (auto happened = ctx_.runner.restart_happened(a)) return ActionOutput{*happened};
      progress(a, fmt::format("transient failure, retrying in {}: {}", format_elapsed(backoff),
                              r.error().message));
      if (!sleep_unless_stopped(ctx_.env, ctx_.stop, backoff)) return r;
      backoff *= 2;
      r = ctx_.runner.run(a);
    }
    return r;
  }

  // After a failure: restore TLS verification when every node serves a
  // valid certificate; otherwise leave it (permissive keeps the cluster
  // talking) and say so. Returns false when the journal died.
  bool recover() {
    RecoveryAssessment as = ctx_.runner.assess_recovery();
    if (!as.not_valid.empty()) {
      report_.next_steps.push_back(fmt::format(
          "cluster TLS verification was left as it is: {} not serving a valid certificate",
          fmt::join(as.not_valid, ", ")));
      return true;
    }
    for (const std::string& name : as.to_restore) {
      Action a;
      a.id = "recover/" + name + "/set-tls-verification";
      a.node = name;
      a.params = default_params(ActionKind::kSetTlsVerification);
      a.after = as.restore_to;
      a.reason = fmt::format(
          "restore TLS verification after the {}: every node serves a valid certificate",
          report_.outcome == ApplyOutcome::kInterrupted ? "interruption" : "failure");
      if (!journal(JournalEvent::kActionStart, &a, a.reason, start_data(a))) return false;
      auto st = ctx_.runner.restore_tls_verification(name);
      if (!st)
        report_.next_steps.push_back(fmt::format(
            "{}: TLS verification could not be restored ({}); the cluster's modes are mixed until "
            "the next apply",
            name, st.error().message));
      if (!journal(st ? JournalEvent::kActionDone : JournalEvent::kActionFailed, &a,
                   st ? "restored" : st.error().message, json::object()))
        return false;
      progress(a, st ? "restored to " + as.restore_to : "FAILED: " + st.error().message);
    }
    return true;
  }

  const Plan& plan_;
  ExecutorContext& ctx_;
  ApplyReport report_;
  std::vector<std::string> positions_;
  std::set<std::string> done_;  // ids of the actions done in this run
  long journal_writes_ = 0;
  bool killed_ = false;
};

}  // namespace

ApplyReport dry_run_plan(const Plan& plan, TimePoint now) {
  MemoryEnv memory(now);
  ApplyReport failed;
  failed.outcome = ApplyOutcome::kAborted;
  if (auto st = memory.create_dirs("/dry-run", 0700); !st) {
    failed.message = st.error().message;
    return failed;
  }
  Journal journal(memory, "/dry-run/journal.jsonl");
  std::vector<std::string> nodes;
  for (const auto& [name, snap] : plan.nodes) nodes.push_back(name);
  DryRunRunner runner(std::move(nodes));
  ExecutorContext context{memory, runner, journal, "dry-run"};
  return execute_plan(plan, context);
}

Action resume_verify_action(const std::string& node, const std::string& fqdn) {
  Action v;
  v.id = node + "/verify-served/resume";
  v.node = node;
  v.params = VerifyServedParams{fqdn};
  v.reason = "the interrupted run restarted this node but never verified what it serves";
  return v;
}

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
    case ApplyOutcome::kInterrupted:
      return "interrupted";
  }
  return "?";
}

ApplyReport execute_plan(const Plan& plan, ExecutorContext& context) {
  Run run(plan, context);
  return run.go();
}

std::map<std::string, std::vector<std::string>> signed_chains_from_journal(
    const std::vector<JournalEntry>& entries) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : entries) {
    if (e.event != JournalEvent::kActionDone || e.kind != "sign-csr") continue;
    // A damaged or edited entry is skipped (that CSR is signed again), never
    // trusted and never thrown over.
    auto csr = e.data.find("csr_sha256");
    auto chain = e.data.find("chain");
    if (csr == e.data.end() || !csr->is_string() || chain == e.data.end() || !chain->is_array() ||
        chain->empty())
      continue;
    std::vector<std::string> pems;
    for (const auto& pem : *chain)
      if (pem.is_string()) pems.push_back(pem.get<std::string>());
    if (pems.size() == chain->size()) out[csr->get<std::string>()] = std::move(pems);
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
