#include "reconciler/engine/apply.h"

#include <algorithm>
#include <random>
#include <set>

#include <fmt/core.h>

#include "providers/base/fence.h"
#include "providers/base/time.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/approval.h"
#include "reconciler/engine/git_lock.h"
#include "reconciler/engine/heartbeat.h"
#include "reconciler/engine/journal.h"
#include "reconciler/engine/lock.h"
#include "reconciler/engine/node_runner.h"
#include "reconciler/engine/synchronized_env.h"
#include "reconciler/engine/vcs.h"
#include "reconciler/engine/windows.h"

namespace edgecert {
namespace {

std::string new_run_id(TimePoint now) {
  std::random_device rd;
  return fmt::format(
      "{}-{:06x}", std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
      rd() & 0xffffff);
}

ApplyResult refused(ApplyResult r, Error e, std::vector<std::string> details = {}) {
  r.status = ApplyStatus::kRefused;
  r.error = std::move(e);
  r.details = std::move(details);
  return r;
}

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// Staleness of a saved plan: every node's live state must be what the plan saw.
std::vector<std::string> live_changes(const Plan& saved, const ClusterLive& live) {
  std::vector<std::string> changes;
  for (const auto& [name, snap] : saved.nodes) {
    const NodeLive* now = live.find(name);
    if (!now) {
      changes.push_back(name + ": no longer a peer of the spec");
      continue;
    }
    if (now->fingerprint == snap.fingerprint) continue;
    auto fields = summary_changes(snap.summary, now->summary);
    if (fields.empty())  // an edited plan, or a summary of another version
      changes.push_back(name + ": live state fingerprint differs from the plan's");
    for (const auto& c : fields) changes.push_back(name + ": " + c);
  }
  return changes;
}

// A restart whose result was never verified (in any earlier run) is verified
// first.
void verify_unverified_restarts(Plan& plan, const spec::Spec& spec,
                                const std::vector<JournalEntry>& entries) {
  std::vector<Action> checks;
  for (const auto& node : unverified_restarts(entries)) {
    const spec::Peer* peer = spec.find_peer(node);
    if (!peer) continue;
    bool planned = std::any_of(plan.actions.begin(), plan.actions.end(), [&](const Action& a) {
      return a.node == node && a.kind() == ActionKind::kVerifyServed;
    });
    if (!planned) checks.push_back(resume_verify_action(node, peer->fqdn));
  }
  plan.actions.insert(plan.actions.begin(), checks.begin(), checks.end());
}

// The manual steps earlier runs stopped at (manual_step_key): what
// --confirm-manual may confirm.
std::set<std::string> waited_manual_steps(const std::vector<JournalEntry>& entries) {
  std::set<std::string> out;
  for (const auto& e : entries)
    if (e.event == JournalEvent::kManualWait)
      if (auto step = e.data.find("step"); step != e.data.end() && step->is_string())
        out.insert(step->get<std::string>());
  return out;
}

Status close_run(Journal& journal, const std::string& run_id, std::string message) {
  JournalEntry end;
  end.run_id = run_id;
  end.event = JournalEvent::kRunEnd;
  end.message = std::move(message);
  return journal.append(end);
}

// Node certificates the report finds revoked on nodes whose certificate the
// saved plan does not replace.
std::vector<std::string> revoked_but_kept(const Plan& plan, const RevocationReport& report) {
  std::vector<std::string> out;
  for (const auto& f : report.revoked) {
    if (f.peer.empty()) continue;
    bool replaced = std::any_of(plan.actions.begin(), plan.actions.end(), [&](const Action& a) {
      switch (a.kind()) {
        case ActionKind::kGenerateCsr:
        case ActionKind::kUploadCertificate:
        case ActionKind::kRestart:
        case ActionKind::kAcmeDeploy:
        case ActionKind::kAcmeDiscardPending:
          return a.node == f.peer;
        default:
          return false;
      }
    });
    if (!replaced) out.push_back(fmt::format("{}: {}: {}", f.peer, f.certificate, f.reason));
  }
  return out;
}

// A JSON object without format_version is neither a saved plan nor a spec
// anyone meant (YAML would read it as one and report nonsense): say so.
std::optional<std::string> not_a_plan_nor_spec(Env& env, const std::string& path) {
  if (auto broken = broken_json_plan(env, path)) return *broken + "; nothing was changed";
  auto text = env.read_file(path, read_limits::kSavedPlan);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.contains("format_version")) return std::nullopt;
  return fmt::format(
      "{}: a JSON object without format_version: not a plan saved by 'edgecert plan --out' "
      "(and a spec is YAML); nothing was changed",
      path);
}

}  // namespace

std::optional<std::string> broken_json_plan(Env& env, const std::string& path) {
  if (env.is_directory(path)) return std::nullopt;
  auto text = env.read_file(path, read_limits::kSavedPlan);
  if (!text) return std::nullopt;
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos || (*text)[first] != '{') return std::nullopt;
  // Only what reads as one of our plans: a YAML flow mapping starts with '{'
  // too, and is a spec's business. A plan names its format early (fleet
  // plans) or starts with its actions (plan --out's pretty print).
  const bool plan_like = text->find("format_version\"") != std::string::npos ||
                         text->compare(first, 14, "{\n  \"actions\":") == 0;
  if (!plan_like || nlohmann::json::accept(*text)) return std::nullopt;
  try {
    nlohmann::json parsed = nlohmann::json::parse(*text);
    return std::nullopt;  // accept() and parse() disagree: not ours to judge
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 1:
    // syntax error ...; last read: '...'": the position and the words.
    std::string why = e.what();
    if (size_t at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
    if (size_t last = why.find("; last read"); last != std::string::npos) why.resize(last);
    return fmt::format(
        "{}: starts like a JSON plan but is not valid JSON (truncated or edited?): "
        "{}",
        path, why);
  }
}

std::optional<nlohmann::json> read_saved_plan(Env& env, const std::string& path,
                                              std::string* sha256) {
  auto text = env.read_file(path, read_limits::kSavedPlan);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format_version")) return std::nullopt;
  if (sha256) *sha256 = pki::sha256_hex(*text);
  return j;
}

namespace {

// The saved plan a request carries or names; nullopt: `input` is a spec.
std::optional<nlohmann::json> request_plan(Env& env, const ApplyRequest& req,
                                           std::string* sha256 = nullptr) {
  if (req.saved_plan) {
    if (sha256) *sha256 = req.saved_plan->sha256;
    return req.saved_plan->plan;
  }
  return read_saved_plan(env, req.input, sha256);
}

// apply with everything resolved: `git` set when the spec comes from a git
// ref, and then `base_env` is its GitTreeEnv.
ApplyResult apply_in(Env& base_env, const ApplyRequest& req, GitSpecs* git) {
  // The executor generates and signs CSRs on several threads, and the nodes
  // and the issuer opened below share this Env; outside it, everything below
  // sleeps through the HeartbeatEnv: that is where heartbeats come from
  // (heartbeat.h; WaitScope finds it as the Env it is given, and its sliced
  // sleeps hold the synchronising mutex one slice at a time).
  SynchronizedEnv shared_env(base_env);
  HeartbeatEnv env(shared_env);
  if (req.progress) env.set_sink(req.progress);
  ApplyResult result;
  auto notice = [&](const std::string& line) {
    if (req.notice) req.notice(line);
  };

  SessionOptions options = git ? git_session_options(req.options, *git) : req.options;
  std::optional<Plan> saved;
  nlohmann::json saved_json;  // as read: what the re-derived plan is compared with
  std::string spec_path = req.input;
  // How messages name the saved plan: the file, or the cluster's entry in it.
  const std::string plan_name = req.saved_plan ? req.saved_plan->name : req.input;
  if (!req.saved_plan)
    if (auto why = not_a_plan_nor_spec(env, req.input))
      return refused(std::move(result), invalid(*why));
  std::string saved_sha256;  // of the bytes decoded: what approvals are bound to
  auto saved_file = request_plan(env, req, &saved_sha256);
  // With --git and a spec, the spec is in the commit's tree.
  if (git && !saved_file) {
    auto in_tree = git->spec_path(req.input);
    if (!in_tree)
      return refused(std::move(result),
                     invalid(not_in_repository(req.input) + "; nothing was changed"));
    spec_path = *in_tree;
  }
  if (auto j = saved_file) {
    saved_json = *j;
    auto p = plan_from_json(*j, plan_name);
    if (!p) return refused(std::move(result), p.error());
    saved = std::move(*p);
    // A plan cannot come from the future: one that says so was altered, or
    // this machine's clock is wrong; either way its review is not trusted.
    // A day of slack covers clocks that disagree between CI machines.
    if (auto made = plan_created_time(saved->created_at);
        made && *made > add_saturating(env.now(), std::chrono::hours(24)))
      return refused(std::move(result),
                     invalid(fmt::format("{}: field created_at: {} is in the future (now {}): the "
                                         "saved plan was altered or a clock is wrong; nothing "
                                         "was changed",
                                         plan_name, saved->created_at, format_time(env.now()))));
    // The path as given works when apply runs where plan ran (the CI case);
    // the absolute one when it does not. From git: the path in the tree.
    if (git) {
      auto in_tree = normalize_tree_path(saved->spec_path);
      if (!in_tree || in_tree->empty() || path_is_absolute(saved->spec_path))
        return refused(std::move(result),
                       invalid(fmt::format("{}: field spec.path: a plan made from git names its "
                                           "spec by its path in the repository, not '{}'; "
                                           "nothing was changed",
                                           plan_name, saved->spec_path)));
      spec_path = git->env->root() + "/" + *in_tree;
    } else
      spec_path = env.exists(saved->spec_path) ? saved->spec_path : saved->spec_absolute_path;
    if (!options.targets.empty() || !options.excludes.empty() || !options.replace.empty())
      return refused(std::move(result),
                     invalid("--target/--exclude/--replace cannot change a saved plan; plan "
                             "again with them"));
    options.targets = saved->targets;
    options.replace = saved->replace;
  }

  // What nodes, issuer and runner wait through: their waits end on a stop.
  // The journal, the lock and the audit log keep the real clock (`env`).
  StoppableEnv run_env(env, req.stop);
  options.appliance_env = &env;
  // run_env wraps the SynchronizedEnv above: safe for the concurrent reads.
  options.env_is_shared = true;
  auto stopped = [&](ApplyResult r) {
    r.status = ApplyStatus::kInterrupted;
    return r;
  };

  OpenedSession opened = open_session(run_env, spec_path, options);
  result.diagnostics = std::move(opened.diagnostics);
  result.warnings = std::move(opened.warnings);
  if (!opened.session) {
    result.status = ApplyStatus::kRefused;
    result.error = std::move(opened.error);
    return result;
  }
  Session& s = *opened.session;

  if (saved && saved->cluster != s.spec.name)
    return refused(std::move(result),
                   invalid(fmt::format("{}: the plan is for cluster '{}', but {} is cluster '{}'; "
                                       "nothing was changed",
                                       plan_name, saved->cluster, spec_path, s.spec.name)));
  // "commit A (planned) -> B (now)", naming both refs when --ref chose
  // another one than the plan's.
  auto planned_to_now = [&] {
    const GitOrigin& was = *saved->git;
    const GitOrigin& now = git->origin();
    if (was.ref == now.ref)
      return fmt::format("commit {} (planned) -> {} (now)", was.commit.substr(0, 12),
                         now.commit.substr(0, 12));
    return fmt::format("{} at {} (planned) -> {} at {} (now)", was.ref, was.commit.substr(0, 12),
                       now.ref, now.commit.substr(0, 12));
  };
  if (saved && git && saved->spec_sha256 != s.spec_sha256)
    return refused(std::move(result),
                   Error{ErrorCode::kConflict,
                         fmt::format("the plan is stale: {} at {} in {} changed since the plan "
                                     "was made: {}, sha256 {} -> {}; nothing was changed. Plan "
                                     "again.",
                                     saved->spec_path, git->origin().ref, git->origin().repository,
                                     planned_to_now(), saved->spec_sha256.substr(0, 16),
                                     s.spec_sha256.substr(0, 16))});
  if (saved && git && saved->git->commit != git->origin().commit) {
    if (saved->git->ref == git->origin().ref)
      notice(fmt::format(
          "{} moved from commit {} (planned) to {}; {} is unchanged, and the plan "
          "made now from {} must match the saved one",
          git->origin().ref, saved->git->commit.substr(0, 12), git->origin().commit.substr(0, 12),
          saved->spec_path, git->origin().commit.substr(0, 12)));
    else
      notice(
          fmt::format("The plan was made from {} at {}; {} is at {}, where {} is the same, and "
                      "the plan made now from it must match the saved one",
                      saved->git->ref, saved->git->commit.substr(0, 12), git->origin().ref,
                      git->origin().commit.substr(0, 12), saved->spec_path));
  }
  if (saved && saved->spec_sha256 != s.spec_sha256) {
    result.stale_plan = true;
    return refused(std::move(result),
                   Error{ErrorCode::kConflict,
                         fmt::format("the plan is stale: {} changed since the plan was made "
                                     "(sha256 {} -> {}); nothing was changed. Plan again.",
                                     spec_path, saved->spec_sha256.substr(0, 16),
                                     s.spec_sha256.substr(0, 16))});
  }

  // A commit's tree is clean by definition.
  if (req.require_clean && !git)
    if (Status st = require_clean_tree(*make_git_vcs(), spec_path); !st)
      return refused(std::move(result), st.error());

  // Change control, before anything is locked or read from the nodes.
  std::optional<std::string> change_id = req.change_id;
  if (saved && saved->change_id) {
    if (change_id && *change_id != *saved->change_id)
      return refused(std::move(result),
                     invalid(fmt::format("--change-id {} differs from the change the plan was "
                                         "made for ({}); nothing was changed",
                                         *change_id, *saved->change_id)));
    change_id = saved->change_id;
  }
  std::vector<std::string> approvers;
  const spec::ChangeControl no_control{0, std::nullopt};
  const spec::ChangeControl& cc =
      s.spec.rollout.change_control ? *s.spec.rollout.change_control : no_control;
  if (cc.approvals > 0 && !saved)
    return refused(
        std::move(result),
        invalid(fmt::format(
            "spec.rollout.changeControl requires {} approval{} of a saved plan, so apply runs "
            "only a saved plan: 'edgecert plan {} --out PLAN{}', 'edgecert approve PLAN --by "
            "NAME', then 'edgecert apply PLAN'; nothing was changed",
            cc.approvals, cc.approvals == 1 ? "" : "s", spec_path,
            cc.change_id_pattern ? " --change-id ID" : "")));
  // Under approvals the change ID is part of what was approved: it must be
  // in the plan, not added at apply time.
  if (cc.approvals > 0 && cc.change_id_pattern && !saved->change_id)
    return refused(std::move(result),
                   invalid(fmt::format("{} carries no change ID, and spec.rollout.changeControl "
                                       "requires one in the approved plan: plan again with "
                                       "--change-id and have that plan approved; nothing was "
                                       "changed",
                                       plan_name)));
  if (Status st = check_change_id(cc, change_id); !st)
    return refused(std::move(result), st.error());
  if (cc.approvals > 0) {  // a saved plan, by the refusal above
    auto names = check_approvals(env, cc, req.input, saved_sha256);
    if (!names) return refused(std::move(result), names.error());
    approvers = std::move(*names);
  }

  LockWait wait;
  wait.timeout = req.lock_timeout;
  wait.stop = req.stop;
  wait.unlock_args = git ? git->tree_path(spec_path) : spec_path;
  if (!options.state_dir.empty()) wait.unlock_args += " --state-dir " + options.state_dir;
  wait.waiting = [&](const LockInfo& holder, std::chrono::seconds waited) {
    notice(fmt::format("Waiting for the cluster lock ({}s of {}s): {}", waited.count(),
                       std::chrono::duration_cast<std::chrono::seconds>(req.lock_timeout).count(),
                       describe_lock(holder)));
  };
  // The lock across machines first (rollout.lockRepository), then this
  // machine's: both are held until the run ends.
  std::optional<GitLock> git_lock;
  if (s.spec.rollout.lock_repository) {
    auto store = open_lock_repository(env, *s.spec.rollout.lock_repository, s.state_dir);
    if (!store)
      return refused(std::move(result), store.error(),
                     {"the cluster lock could not be taken; nothing was changed"});
    auto taken = acquire_git_lock(env, *store, s.spec.name, "apply", current_process(env), wait);
    if (!taken && taken.error().code == ErrorCode::kCancelled) return stopped(std::move(result));
    if (!taken) return refused(std::move(result), taken.error());
    git_lock.emplace(std::move(*taken));
    wait.id = git_lock->info().id;
  }
  auto lock = acquire_lock(env, s.state_dir, "apply", current_process(env), wait);
  if (!lock && lock.error().code == ErrorCode::kCancelled) return stopped(std::move(result));
  if (!lock) return refused(std::move(result), lock.error());
  // EDGECERT_TEST_FAULT=MODE@apply-locked (fence.h): tests kill apply here
  // to see the lock go with it.
  test_fault_point("apply-locked");

  Journal journal(env, path_join(s.state_dir, "journal.jsonl"));
  auto entries = journal.read_all();
  if (!entries)
    return refused(std::move(result), entries.error(),
                   {"refusing to touch the cluster until the journal is looked at"});
  std::optional<RunRecord> unfinished;
  if (auto last = last_run(*entries); last && !last->finished) unfinished = last;

  ClusterLive live = read_live(s, /*wait_for_unavailable=*/true, notice);
  if (req.stop.stop_requested()) return stopped(std::move(result));
  if (!live.all_readable()) {
    std::vector<std::string> errors;
    for (const auto& n : live.nodes)
      if (n.error) errors.push_back(n.error->message);
    return refused(std::move(result),
                   Error{ErrorCode::kUnavailable,
                         "cannot plan without the live state of every node; nothing was changed"},
                   std::move(errors));
  }

  // Product and release: a saved plan was checked when it was made, but the
  // node may have been replaced or upgraded since.
  if (saved)
    if (auto fit = check_nodes_fit(s.spec, live); !fit)
      return refused(std::move(result), fit.error());
  // CRLs and OCSP answers change without the nodes changing: a saved plan is
  // checked against what they say now, like a fresh one.
  if (saved) {
    auto revocation = check_revocation(s, live, env);
    if (!revocation) return refused(std::move(result), revocation.error());
    if (auto missed = revoked_but_kept(*saved, *revocation); !missed.empty()) {
      result.stale_plan = true;
      return refused(std::move(result),
                     Error{ErrorCode::kConflict,
                           "the plan is stale: a certificate it leaves in place is revoked; "
                           "nothing was changed. Plan again."},
                     std::move(missed));
    }
  }

  Plan plan;
  if (saved) {
    if (auto changes = live_changes(*saved, live); !changes.empty()) {
      result.stale_plan = true;
      // A plan applied once leaves its nodes as it wanted them: say that
      // rather than only listing what changed.
      auto now = make_plan(s, live, env);
      const bool converged = now && now->empty() && !saved->actions.empty();
      return refused(std::move(result),
                     Error{ErrorCode::kConflict,
                           converged ? "the plan is stale: the live state changed since the plan "
                                       "was made, and the cluster now matches its spec (was this "
                                       "plan applied already?); nothing was changed. Changes:"
                                     : "the plan is stale: the live state changed since the plan "
                                       "was made; nothing was changed. Plan again. Changes:"},
                     std::move(changes));
    }
    // The saved plan is never executed as written: edgecert derives the plan
    // again from the same spec and the live state it just read, and runs that
    // one only when the file holds exactly the same actions (issue 16, defect
    // 4: an edited plan installed a rogue trusted CA on every node).
    auto now = make_plan(s, live, env);
    if (!now) return refused(std::move(result), now.error());
    if (auto diffs = plan_differences(saved_json, *now); !diffs.empty()) {
      result.stale_plan = true;
      Error e{ErrorCode::kConflict,
              fmt::format("{}: {}; nothing was changed", plan_name, diffs.front())};
      constexpr size_t kMoreShown = 5;
      std::vector<std::string> more(diffs.begin() + 1,
                                    diffs.begin() + std::min(diffs.size(), 1 + kMoreShown));
      if (diffs.size() > 1 + kMoreShown)
        more.push_back(fmt::format("... and {} more", diffs.size() - 1 - kMoreShown));
      if (git && saved->git->commit != git->origin().commit)
        more.push_back(
            saved->git->ref == git->origin().ref
                ? fmt::format("{} moved from commit {} (planned) to {} (now): a file the spec "
                              "names may have changed",
                              git->origin().ref, saved->git->commit.substr(0, 12),
                              git->origin().commit.substr(0, 12))
                : fmt::format("{}: a file the spec names may differ between the two",
                              planned_to_now()));
      return refused(std::move(result), std::move(e), std::move(more));
    }
    plan = std::move(*now);
  } else {
    auto p = make_plan(s, live, env);
    if (!p) return refused(std::move(result), p.error());
    plan = std::move(*p);
  }

  if (unfinished)
    notice(fmt::format(
        "Resuming: the previous run {} did not finish; the plan below was made from the live "
        "state now, so finished work is not repeated.",
        unfinished->run_id));
  verify_unverified_restarts(plan, s.spec, *entries);

  if (plan.empty()) {
    result.status = ApplyStatus::kNoChanges;
    result.plan = std::move(plan);
    if (unfinished) {
      Status st = close_run(journal, unfinished->run_id,
                            "closed: a later apply found the live state matching the spec");
      if (!st)
        result.warnings.push_back("could not close the earlier run in the journal: " +
                                  st.error().message);
    }
    return result;
  }

  std::optional<TimePoint> window_closes;
  if (!s.spec.rollout.windows.empty() && !req.ignore_windows) {
    auto ws = window_status(s.spec.rollout.windows, env.now());
    if (!ws) return refused(std::move(result), ws.error());
    if (!ws->open) {
      std::string msg = "outside the spec's rollout windows; nothing was changed.";
      if (ws->next_open)
        msg += " The next window opens " +
               format_in_zone(*ws->next_open, s.spec.rollout.windows.front().timezone) + ".";
      msg += " Use --ignore-windows to apply anyway.";
      return refused(std::move(result), Error{ErrorCode::kConflict, msg});
    }
    window_closes = ws->closes;
  }

  if (req.stop.stop_requested()) return stopped(std::move(result));
  if (!saved && req.approve && !req.approve(plan)) {
    result.status = req.stop.stop_requested() ? ApplyStatus::kInterrupted : ApplyStatus::kCancelled;
    result.plan = std::move(plan);
    return result;
  }
  if (req.stop.stop_requested()) return stopped(std::move(result));

  // Audit context: spec digest and, when the spec is in git, the commit.
  std::optional<VcsInfo> vcs;
  if (!git) vcs = make_git_vcs()->describe(s.spec.path);
  std::string audit_path = path_join(s.state_dir, "audit.jsonl");
  ProcessIdentity who = current_process(env);
  std::string run_id = new_run_id(env.now());

  NodeRunner runner(run_env, s.spec, s.nodes, s.issuer.get(), s.trust);
  runner.reuse_signed_chains(signed_chains_from_journal(*entries));
  runner.set_management_trust(&s.management_trust);
  ExecutorContext ec{env, runner, journal, run_id};
  ec.signs_through_acme =
      std::holds_alternative<spec::AcmeIssuer>(s.spec.server_certificate.issuer);
  ec.window_closes = window_closes;
  ec.progress = req.progress;
  ec.after_journal_write = req.after_journal_write;
  ec.stop = req.stop;
  ec.manual_prompt = req.manual_prompt;
  runner.set_confirmation_record(s.state_dir, run_id);
  if (req.confirm_manual) {
    ec.confirmed_manual = waited_manual_steps(*entries);
    if (ec.confirmed_manual.empty())
      notice(
          "--confirm-manual: no earlier run stopped at a manual step, so there is nothing to "
          "confirm yet; apply stops at each manual step and says what to do");
  }
  ec.audit = [&](const Action& a, const std::string& outcome, const std::string& message,
                 TimePoint started, TimePoint finished) {
    nlohmann::json j = {{"run", run_id},
                        {"cluster", s.spec.name},
                        {"action", a.id},
                        {"node", a.node},
                        {"kind", action_kind_name(a.kind())},
                        {"outcome", outcome},
                        {"message", message},
                        {"started", format_time(started)},
                        {"finished", format_time(finished)},
                        {"spec_sha256", s.spec_sha256},
                        {"user", who.user},
                        {"host", who.host}};
    if (change_id) j["change_id"] = *change_id;
    if (!approvers.empty()) j["approved_by"] = approvers;
    if (vcs) {
      j["git_commit"] = vcs->commit;
      j["git_dirty"] = vcs->dirty;
    }
    if (git) {
      j["git_repository"] = git->origin().repository;
      j["git_ref"] = git->origin().ref;
      j["git_commit"] = git->origin().commit;
    }
    // Messages may quote a node's reply; bytes that are not UTF-8 are replaced
    // rather than thrown on (issue 16, defect 2).
    if (auto st = env.append_file(
            audit_path, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
            0644);
        !st)
      result.warnings.push_back("audit log: " + st.error().message);
  };
  if (unfinished) {
    if (Status st = close_run(journal, unfinished->run_id, "superseded by run " + run_id); !st)
      return refused(std::move(result), st.error());
  }

  if (req.on_execute) req.on_execute();
  ApplyReport report = execute_plan(plan, ec);
  // "Run apply again" resumes from the spec; a saved plan is stale once
  // this run changed a node, so say which command resumes.
  if (saved)
    for (std::string& step : report.next_steps)
      if (step.find("run 'edgecert apply' again") != std::string::npos)
        step += fmt::format(
            " (give it the spec, {}: {} is stale once this run changed a node; or plan again "
            "with --out and apply the new plan)",
            git ? git->tree_path(spec_path) : spec_path, req.input);
  // A run that could not write its journal died as far as anyone can tell:
  // its lock stays, so the next run has to look first.
  if (report.outcome == ApplyOutcome::kAborted) {
    lock->keep();
    if (git_lock) git_lock->keep();
  }
  // The lock across machines is gone only when the server says so: say so
  // when it is not (the next run would find it held).
  if (git_lock && report.outcome != ApplyOutcome::kAborted)
    if (Status st = git_lock->release(); !st)
      result.warnings.push_back(fmt::format(
          "the cluster lock {} stays in {}: {}; once no run is going on, remove it with "
          "'edgecert force-unlock {} {}'",
          git_lock->ref(), *s.spec.rollout.lock_repository, st.error().message, git_lock->info().id,
          wait.unlock_args));
  if (git) {
    nlohmann::json line = {{"cluster", s.spec.name},
                           {"outcome", apply_outcome_name(report.outcome)},
                           {"run", run_id},
                           {"actions_done", report.actions_done},
                           {"finished", format_time(env.now())},
                           {"spec", git->tree_path(spec_path)},
                           {"user", who.user},
                           {"host", who.host}};
    if (change_id) line["change_id"] = *change_id;
    if (!approvers.empty()) line["approved_by"] = approvers;
    if (git->repository->local() || req.push_note) {
      auto noted = add_git_note(env, options.state_dir, *git, git_note_line(line));
      if (noted)
        result.git_note = *noted;
      else
        result.git_note_error = noted.error();
    } else {
      result.git_note = fmt::format("no git note: {} is remote, and --push-note was not given",
                                    git->origin().repository);
    }
  }
  result.status = ApplyStatus::kExecuted;
  result.plan = std::move(plan);
  result.report = std::move(report);
  return result;
}

}  // namespace

ApplyResult apply(Env& env, const ApplyRequest& req) {
  // Where the spec comes from decides what everything reads through: a
  // plan made from git, or --git, reads it from the commit's tree.
  std::optional<GitOrigin> planned;
  bool plan_without_git = false;  // a well-formed plan made from a spec file
  if (auto j = request_plan(env, req)) {
    auto p = plan_from_json(*j, req.saved_plan ? req.saved_plan->name : req.input);
    // A malformed plan is refused by apply_in, naming the field.
    if (!p) return apply_in(env, req, nullptr);
    planned = p->git;
    plan_without_git = !p->git;
  }
  if (!req.git && !planned) return apply_in(env, req, nullptr);
  ApplyResult result;
  if (req.git && plan_without_git)
    return refused(std::move(result),
                   invalid(fmt::format("{} was made from a spec file, not from a git ref: apply "
                                       "it without --git, --ref and --path; nothing was changed",
                                       req.input)));
  GitOrigin want = planned ? *planned : GitOrigin{};
  if (req.git) {
    if (planned && !req.git->path.empty() &&
        normalize_tree_path(req.git->path).value_or("") != planned->path)
      return refused(
          std::move(result),
          invalid(fmt::format("--path {} differs from the saved plan's ({}); a saved "
                              "plan's spec is the one it was made from; nothing was "
                              "changed",
                              req.git->path, planned->path.empty() ? "the root" : planned->path)));
    if (!req.git->repository.empty()) want.repository = req.git->repository;
    if (!req.git->ref.empty()) want.ref = req.git->ref;
    if (!planned) want.path = req.git->path;
  }
  if (want.repository.empty())
    return refused(std::move(result),
                   invalid("--ref and --path read a spec from git and need --git REPO; nothing "
                           "was changed"));
  auto specs = open_git_specs(env, git_state_root(req.options.state_dir), want.repository, want.ref,
                              want.path, req.git_repository);
  if (!specs)
    return refused(std::move(result),
                   Error{specs.error().code, specs.error().message + "; nothing was changed"});
  return apply_in(*specs->env, req, &*specs);
}

}  // namespace edgecert
