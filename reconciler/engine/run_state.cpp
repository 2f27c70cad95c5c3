#include "reconciler/engine/run_state.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "reconciler/engine/action.h"
#include "reconciler/engine/git_lock.h"

namespace edgecert {

std::optional<UnfinishedRun> unfinished_run(const std::vector<JournalEntry>& entries) {
  auto run = last_run(entries);
  if (!run || run->finished) return std::nullopt;
  UnfinishedRun u;
  u.run_id = run->run_id;
  for (const auto& e : entries)
    if (e.event == JournalEvent::kRunStart && e.run_id == run->run_id) u.started = e.time;
  for (const auto& [id, state] : run->actions)
    if (state == ActionState::kDone) ++u.actions_done;
  if (auto n = run->start_data.find("actions");
      n != run->start_data.end() && n->is_number_integer() && n->get<long long>() >= 0)
    u.actions_planned = static_cast<size_t>(n->get<long long>());
  return u;
}

std::vector<TlsRelaxed> tls_relaxed_by_runs(const std::vector<JournalEntry>& entries) {
  const std::string kind = action_kind_name(ActionKind::kSetTlsVerification);
  const std::string permissive = spec::tls_verification_name(spec::TlsVerification::kPermissive);
  std::map<std::pair<std::string, std::string>, std::string> target;  // (run, action) -> mode
  std::vector<TlsRelaxed> out;
  for (const auto& e : entries) {
    if (e.kind != kind || e.node.empty()) continue;
    const auto key = std::make_pair(e.run_id, e.action_id);
    if (e.event == JournalEvent::kActionStart) {
      auto after = e.data.find("after");
      target[key] = after != e.data.end() && after->is_string() ? after->get<std::string>() : "";
      continue;
    }
    if (e.event != JournalEvent::kActionDone) continue;
    auto mode = target.find(key);
    if (mode == target.end() || mode->second.empty()) continue;  // older journal: unknown
    std::erase_if(out, [&](const TlsRelaxed& r) { return r.node == e.node; });
    if (mode->second == permissive) out.push_back({e.node, e.run_id, e.time});
  }
  return out;
}

std::vector<ManualStepWaiting> manual_steps_waiting(const std::vector<JournalEntry>& entries) {
  std::string run;
  for (const auto& e : entries)
    if (e.event == JournalEvent::kRunStart) run = e.run_id;
  std::vector<ManualStepWaiting> out;
  bool stopped_for_them = false;
  for (const auto& e : entries) {
    if (e.run_id != run) continue;
    if (e.event == JournalEvent::kManualWait) {
      auto line = e.data.find("instruction");
      out.push_back(
          {e.run_id, e.time, e.node,
           line != e.data.end() && line->is_string() ? line->get<std::string>() : e.action_id});
    }
    if (e.event == JournalEvent::kRunEnd) stopped_for_them = e.message == "manual";
  }
  if (!stopped_for_them) out.clear();
  return out;
}

std::optional<JournalEntry> last_run_end(const std::vector<JournalEntry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->event == JournalEvent::kRunEnd) return *it;
  return std::nullopt;
}

RunState read_run_state(Env& env, const std::string& state_dir, const spec::Spec* spec) {
  RunState s;
  if (auto lock = read_lock(env, state_dir); lock)
    s.lock = *lock;
  else
    s.problems.push_back(lock.error().message);
  if (spec && spec->rollout.lock_repository) {
    const std::string& repo = *spec->rollout.lock_repository;
    auto store = open_lock_repository(env, repo, state_dir);
    auto lock = store ? read_git_lock(**store, spec->name, spec->path)
                      : Result<std::optional<LockInfo>>(store.error());
    if (lock) {
      s.git_lock = *lock;
      s.git_lock_where = fmt::format("{} ({})", repo, git_lock_ref(spec->name));
    } else {
      s.problems.push_back("whether a run on another machine holds the cluster is unknown: " +
                           lock.error().message);
    }
  }
  Journal journal(env, path_join(state_dir, "journal.jsonl"));
  auto entries = journal.read_all();
  if (!entries) {
    s.problems.push_back(entries.error().message);
    return s;
  }
  s.unfinished = unfinished_run(*entries);
  s.relaxed = tls_relaxed_by_runs(*entries);
  s.manual_waiting = manual_steps_waiting(*entries);
  s.last_end = last_run_end(*entries);
  return s;
}

std::vector<std::string> describe_run_state(const RunState& s,
                                            const std::vector<std::string>& permissive_now) {
  std::vector<std::string> out;
  if (s.git_lock)
    out.push_back(fmt::format("The cluster is locked in {}: {}.", s.git_lock_where,
                              describe_lock(*s.git_lock)));
  // The same run's lock here (apply takes both under one id) is said once.
  if (s.lock && !(s.git_lock && s.git_lock->id == s.lock->id))
    out.push_back(fmt::format("The cluster is locked: {}.", describe_lock(*s.lock)));
  if (s.unfinished) {
    const UnfinishedRun& u = *s.unfinished;
    std::string done =
        u.actions_planned > 0
            ? fmt::format("{} of {} actions done", u.actions_done, u.actions_planned)
            : fmt::format("{} action{} done", u.actions_done, u.actions_done == 1 ? "" : "s");
    out.push_back(fmt::format(
        "Run {} (started {}, {}) did not finish; the next apply resumes it from the live state.",
        u.run_id, format_time(u.started), done));
  }
  if (!s.manual_waiting.empty()) {
    const auto& first = s.manual_waiting.front();
    out.push_back(fmt::format(
        "Run {} stopped at {} for {} manual step{}; do {} in the web UI, then run apply again "
        "(with --confirm-manual for what a node cannot show):",
        first.run_id, format_time(first.since), s.manual_waiting.size(),
        s.manual_waiting.size() == 1 ? "" : "s", s.manual_waiting.size() == 1 ? "it" : "them"));
    for (const auto& m : s.manual_waiting) out.push_back("  " + m.instruction);
  }
  // One line per relaxing run, for the nodes still permissive now.
  std::vector<std::string> runs;
  for (const auto& r : s.relaxed)
    if (std::find(runs.begin(), runs.end(), r.run_id) == runs.end()) runs.push_back(r.run_id);
  for (const auto& run : runs) {
    std::vector<std::string> nodes;
    std::optional<TimePoint> since;
    for (const auto& r : s.relaxed) {
      if (r.run_id != run ||
          std::find(permissive_now.begin(), permissive_now.end(), r.node) == permissive_now.end())
        continue;
      nodes.push_back(r.node);
      since = since ? std::min(*since, r.since) : r.since;
    }
    if (nodes.empty()) continue;
    out.push_back(fmt::format("cluster TLS verification relaxed since {} by run {} ({} permissive)",
                              format_time(*since), run, fmt::join(nodes, ", ")));
  }
  for (const auto& p : s.problems) out.push_back("cannot read the run state: " + p);
  return out;
}

}  // namespace edgecert
