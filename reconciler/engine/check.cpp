#include "reconciler/engine/check.h"

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/checks.h"

namespace edgecert {
namespace {

constexpr ActionKind kLastKind = ActionKind::kRemoveManualCrl;

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A label value in the text format: backslash, double quote and line feed
// escaped (anything else, UTF-8 included, is taken as it is).
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric family: samples keep the order they were added in.
struct Family {
  std::string help;
  std::vector<std::pair<Labels, std::int64_t>> samples;
};

std::string render(const std::vector<std::pair<std::string, Family>>& families) {
  std::string out;
  for (const auto& [name, f] : families) {
    if (f.samples.empty()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, f.help, name);
    for (const auto& [labels, value] : f.samples) {
      std::string ls;
      for (const auto& [k, v] : labels)
        ls += fmt::format("{}{}=\"{}\"", ls.empty() ? "" : ",", k, label_value(v));
      out += fmt::format("{}{{{}}} {}\n", name, ls, value);
    }
  }
  return out;
}

}  // namespace

bool ClusterCheck::needs_apply() const {
  return std::any_of(nodes.begin(), nodes.end(),
                     [](const NodeCheck& n) { return n.renewal_is_due || !n.drift.empty(); });
}

ClusterCheck summarize_check(const std::string& spec_path, const spec::Spec& spec,
                             const ClusterLive& live, const std::optional<Result<Plan>>& plan,
                             const RunState& run_state, TimePoint now) {
  ClusterCheck c;
  c.spec_path = spec_path;
  c.cluster = spec.name;
  c.checked_at = now;
  const auto& config = spec.server_certificate;
  for (const spec::Peer& peer : spec.peers) {
    NodeCheck n;
    n.node = peer.name;
    const NodeLive* nl = live.find(peer.name);
    if (!nl || !nl->state) {
      // A provider's error names the node already ("edge1: read state: ...").
      n.error = nl && nl->error ? nl->error->message : peer.name + ": not read";
      c.errors.push_back(*n.error);
    } else {
      const node::NodeState& s = *nl->state;
      if (!s.server_chain.empty()) {
        const pki::Certificate& leaf = s.server_chain.front();
        n.not_after = leaf.not_after();
        n.renewal_due =
            pki::renewal_time(leaf, config.renew_before, config.renew_at_lifetime_fraction);
        n.renewal_is_due = now >= *n.renewal_due;
      }
      for (const node::Alarm& a : s.alarms) n.alarms.push_back(a.id);
      std::sort(n.alarms.begin(), n.alarms.end());
      n.alarms.erase(std::unique(n.alarms.begin(), n.alarms.end()), n.alarms.end());
    }
    c.nodes.push_back(std::move(n));
  }
  if (plan && *plan) {
    c.plan_known = true;
    for (const Action& a : (*plan)->actions) {
      auto n = std::find_if(c.nodes.begin(), c.nodes.end(),
                            [&](const NodeCheck& x) { return x.node == a.node; });
      if (n == c.nodes.end()) continue;  // cluster-wide steps belong to no node
      if (std::find(n->drift.begin(), n->drift.end(), a.kind()) == n->drift.end())
        n->drift.push_back(a.kind());
    }
    for (NodeCheck& n : c.nodes) std::sort(n.drift.begin(), n.drift.end());
  } else if (plan) {
    c.errors.push_back(fmt::format("plan: {}", plan->error().message));
  }
  c.lock_held = run_state.lock.has_value() || run_state.git_lock.has_value();
  for (const std::string& p : run_state.problems) c.errors.push_back(p);
  if (run_state.last_end) {
    c.last_apply = run_state.last_end->time;
    c.last_apply_outcome = run_state.last_end->message;
  }
  // A run that never wrote its end and holds no lock was killed (or lost
  // its journal): that is the last apply, and it did not complete. One that
  // holds the lock is still going; the last finished one stands until it ends.
  if (run_state.unfinished && !c.lock_held) {
    c.last_apply = run_state.unfinished->started;
    c.last_apply_outcome = fmt::format(
        "unfinished: run {} stopped after {} action{} without ending (killed?); the next apply "
        "resumes it",
        run_state.unfinished->run_id, run_state.unfinished->actions_done,
        run_state.unfinished->actions_done == 1 ? "" : "s");
  }
  return c;
}

ClusterCheck failed_check(const std::string& spec_path, std::string error, TimePoint now) {
  ClusterCheck c;
  c.spec_path = spec_path;
  c.checked_at = now;
  c.errors.push_back(std::move(error));
  return c;
}

std::string check_metrics_text(const std::vector<ClusterCheck>& checks) {
  std::vector<std::pair<std::string, Family>> f = {
      {"edgecert_check_success",
       {"1 when edgecert check read every node, made a plan and read the run state; 0 otherwise.",
        {}}},
      {"edgecert_check_timestamp_seconds", {"When edgecert check ran (Unix time).", {}}},
      {"edgecert_certificate_not_after_timestamp_seconds",
       {"notAfter of the certificate the node serves (Unix time).", {}}},
      {"edgecert_certificate_renewal_due_timestamp_seconds",
       {"When the served certificate is due for renewal under the spec (Unix time).", {}}},
      {"edgecert_drift",
       {"1 when the plan has an action of this kind for the node (the node differs from the "
        "spec), else 0.",
        {}}},
      {"edgecert_alarm_active", {"1 for every alarm the node raises, by alarm id.", {}}},
      {"edgecert_lock_held", {"1 while a run holds the cluster lock.", {}}},
      {"edgecert_last_apply_timestamp_seconds",
       {"When the last finished apply run ended (Unix time).", {}}},
      {"edgecert_last_apply_success", {"1 when the last finished apply run completed.", {}}},
  };
  auto add = [&](size_t family, Labels labels, std::int64_t value) {
    f[family].second.samples.emplace_back(std::move(labels), value);
  };
  for (const ClusterCheck& c : checks) {
    add(0, {{"cluster", c.cluster}, {"spec", c.spec_path}}, c.complete() ? 1 : 0);
    if (c.cluster.empty()) continue;  // a spec that did not load names no cluster
    add(1, {{"cluster", c.cluster}}, unix_seconds(c.checked_at));
    for (const NodeCheck& n : c.nodes) {
      const Labels node{{"cluster", c.cluster}, {"node", n.node}};
      if (n.not_after) add(2, node, unix_seconds(*n.not_after));
      if (n.renewal_due) add(3, node, unix_seconds(*n.renewal_due));
      // Every kind, 0 or 1, so an alert on drift resolves when it is gone;
      // nothing when drift is unknown (no plan), so an alert does not resolve
      // on a check that could not tell.
      if (c.plan_known && !n.error)
        for (int k = 0; k <= static_cast<int>(kLastKind); ++k) {
          const auto kind = static_cast<ActionKind>(k);
          Labels l = node;
          l.emplace_back("kind", action_kind_name(kind));
          const bool on = std::find(n.drift.begin(), n.drift.end(), kind) != n.drift.end();
          add(4, std::move(l), on ? 1 : 0);
        }
      for (const std::string& id : n.alarms) {
        Labels l = node;
        l.emplace_back("alarm", id);
        add(5, std::move(l), 1);
      }
    }
    add(6, {{"cluster", c.cluster}}, c.lock_held ? 1 : 0);
    if (c.last_apply) {
      add(7, {{"cluster", c.cluster}}, unix_seconds(*c.last_apply));
      add(8, {{"cluster", c.cluster}}, c.last_apply_outcome == "complete" ? 1 : 0);
    }
  }
  return render(f);
}

nlohmann::json check_to_json(const ClusterCheck& c) {
  using nlohmann::json;
  auto time_or_null = [](const std::optional<TimePoint>& t) {
    return t ? json(format_time_iso(*t)) : json(nullptr);
  };
  json nodes = json::array();
  for (const NodeCheck& n : c.nodes) {
    json drift = json::array();
    for (ActionKind k : n.drift) drift.push_back(action_kind_name(k));
    nodes.push_back({{"name", n.node},
                     {"error", n.error ? json(*n.error) : json(nullptr)},
                     {"not_after", time_or_null(n.not_after)},
                     {"renewal_due", time_or_null(n.renewal_due)},
                     {"renewal_is_due", n.renewal_is_due},
                     {"drift", c.plan_known ? drift : json(nullptr)},
                     {"alarms", n.alarms}});
  }
  return {{"spec", c.spec_path},
          {"cluster", c.cluster.empty() ? json(nullptr) : json(c.cluster)},
          {"status", !c.complete() ? "error" : (c.needs_apply() ? "needs-apply" : "in-sync")},
          {"checked_at", format_time_iso(c.checked_at)},
          {"errors", c.errors},
          {"nodes", nodes},
          {"lock_held", c.lock_held},
          {"last_apply", c.last_apply ? json{{"time", format_time_iso(*c.last_apply)},
                                             {"outcome", c.last_apply_outcome}}
                                      : json(nullptr)}};
}

}  // namespace edgecert
