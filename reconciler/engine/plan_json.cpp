// The saved-plan file (docs/plan-format.md): encoding, and a decoder that
// never throws and refuses any plan that is malformed or tampered with.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "reconciler/engine/json_fields.h"
#include "reconciler/engine/manual_steps.h"
#include "reconciler/engine/plan.h"

namespace edgecert {

nlohmann::json plan_to_json(const Plan& p) {
  nlohmann::json j;
  j["format_version"] = p.format_version;
  j["edgecert_version"] = p.edgecert_version;
  j["spec"] = {
      {"path", p.spec_path}, {"absolute_path", p.spec_absolute_path}, {"sha256", p.spec_sha256}};
  j["cluster"] = p.cluster;
  j["created_at"] = p.created_at;
  j["targets"] = p.targets;
  j["replace"] = p.replace;
  j["nodes"] = nlohmann::json::object();
  for (const auto& [name, snap] : p.nodes)
    j["nodes"][name] = {{"fingerprint", snap.fingerprint}, {"live_state", snap.summary}};
  j["node_order"] = nlohmann::json::array();
  for (const auto& [name, snap] : p.nodes) j["node_order"].push_back(name);
  j["actions"] = nlohmann::json::array();
  for (const Action& a : p.actions) {
    nlohmann::json aj = {{"id", a.id},
                         {"node", a.node},
                         {"kind", action_kind_name(a.kind())},
                         {"reason", a.reason},
                         {"before", a.before},
                         {"after", a.after},
                         {"disruptive", a.disruptive()},
                         {"manual", a.manual},
                         {"depends_on", a.depends_on},
                         {"params", params_to_json(a.params)}};
    if (a.manual) {
      // For people and tools; derived from kind and params, not read back.
      ManualInstruction m = manual_instruction(a);
      aj["manual_step"] = {{"page", m.page},
                           {"settings", m.settings},
                           {"check", m.check},
                           {"verifiable", m.verifiable}};
    }
    j["actions"].push_back(std::move(aj));
  }
  j["notes"] = p.notes;
  j["next_window"] = p.next_window ? nlohmann::json(*p.next_window) : nullptr;
  if (p.change_id) j["change_id"] = *p.change_id;
  if (p.git)
    j["git"] = {{"repository", p.git->repository},
                {"ref", p.git->ref},
                {"commit", p.git->commit},
                {"path", p.git->path}};
  j["summary"] = {{"actions", p.actions.size()},      {"nodes", p.touched_nodes().size()},
                  {"restarts", p.restart_count()},    {"acme_deploys", p.deploy_count()},
                  {"manual_steps", p.manual_count()}, {"manual_nodes", p.manual_nodes().size()},
                  {"text", p.summary_line()}};
  return j;
}

namespace {

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// One action of a saved plan; the error names the action (by id, or by its
// position when the id itself is the problem) and the field.
Result<Action> action_from_json(const nlohmann::json& a, size_t index) {
  std::string where = fmt::format("action #{}", index + 1);
  if (a.is_object()) {
    auto id = a.find("id");
    if (id != a.end() && id->is_string() && !id->get<std::string>().empty())
      where = "action " + id->get<std::string>();
  }
  auto fail = [&](const Error& e) { return std::unexpected(invalid(where + ": " + e.message)); };
  JsonFields f(a, "field");
  Action act;
  act.id = f.string("id");
  act.node = f.string("node");
  std::string kind_name = f.string("kind");
  act.reason = f.string("reason");
  act.depends_on = f.strings("depends_on");
  const nlohmann::json* params = f.object("params");
  if (!f.ok()) return fail(*f.error());
  if (act.id.empty()) return fail(invalid("field id: empty"));
  auto kind = parse_action_kind(kind_name);
  if (!kind) return fail(invalid(fmt::format("field kind: unknown kind '{}'", kind_name)));
  auto decoded = params_from_json(*kind, *params);
  if (!decoded) return fail(invalid("field " + decoded.error().message));
  act.params = std::move(*decoded);
  // before/after are for people (plan text); disruptive is derived from the
  // kind, and a saved value that disagrees means the file was edited.
  act.before = a.value("before", nlohmann::json(nullptr));
  act.after = a.value("after", nlohmann::json(nullptr));
  if (auto d = a.find("disruptive"); d != a.end()) {
    if (!d->is_boolean())
      return fail(invalid(fmt::format("field disruptive: expected true or false, got {}",
                                      JsonFields::describe(*d))));
    if (d->get<bool>() != act.disruptive())
      return fail(invalid(fmt::format("field disruptive: {} is {}disruptive, the plan says {}",
                                      kind_name, act.disruptive() ? "" : "not ", d->dump())));
  }
  if (auto m = a.find("manual"); m != a.end()) {
    if (!m->is_boolean())
      return fail(invalid(
          fmt::format("field manual: expected true or false, got {}", JsonFields::describe(*m))));
    act.manual = m->get<bool>();
    if (act.manual && !manual_operation_for(*kind, /*node_signs=*/true))
      return fail(invalid(fmt::format(
          "field manual: {} is never a manual step (a node always does it itself)", kind_name)));
  }
  return act;
}

// Where two JSON values differ: "" when equal, else the dotted path of the
// first differing member below `path` (objects are descended, member by
// member, arrays and scalars compared whole).
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b,
                             const std::string& path) {
  if (a == b) return "";
  if (!a.is_object() || !b.is_object()) return path;
  // An action's identity first (a reordered or inserted action is named by
  // its id), then what it does, then the words for people; nested members in
  // name order.
  std::vector<std::string> keys;
  if (path.empty())
    for (const char* k : {"id", "node", "kind", "params", "depends_on", "manual", "disruptive",
                          "reason", "before", "after"})
      if (a.contains(k) || b.contains(k)) keys.push_back(k);
  auto add = [&](const std::string& k) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  };
  for (const auto& [k, v] : a.items()) add(k);
  for (const auto& [k, v] : b.items()) add(k);
  for (const auto& k : keys) {
    std::string sub = path.empty() ? k : path + "." + k;
    auto ia = a.find(k);
    auto ib = b.find(k);
    if (ia == a.end() || ib == b.end()) return sub;
    if (auto d = first_difference(*ia, *ib, sub); !d.empty()) return d;
  }
  return path;
}

// "3 (edge1 append-trusted-cas)": an action as people find it in the file.
std::string describe_saved_action(const nlohmann::json& a, size_t index) {
  auto text = [&](const char* key) {
    if (!a.is_object()) return std::string("?");
    auto it = a.find(key);
    return it != a.end() && it->is_string() ? it->get<std::string>() : std::string("?");
  };
  return fmt::format("{} ({} {})", index + 1, text("node"), text("kind"));
}

}  // namespace

std::vector<std::string> plan_differences(const nlohmann::json& saved, const Plan& now) {
  std::vector<std::string> out;
  const nlohmann::json fresh = plan_to_json(now);
  const std::string tail =
      " differs from the plan edgecert makes now; the saved plan was altered or is stale — run "
      "plan again";
  if (!saved.is_object()) return {"the saved plan is not a JSON object"};
  for (const char* key : {"cluster", "targets", "replace"}) {
    nlohmann::json have = saved.contains(key) ? saved[key] : nlohmann::json();
    // Plans written before `replace` existed carry none: the same as [].
    if (have.is_null() && fresh[key].is_array()) have = nlohmann::json::array();
    if (have != fresh[key]) out.push_back(fmt::format("field `{}`{}", key, tail));
  }
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& sa =
      saved.contains("actions") && saved["actions"].is_array() ? saved["actions"] : empty;
  const nlohmann::json& fa = fresh["actions"];
  for (size_t i = 0; i < std::max(sa.size(), fa.size()); ++i) {
    if (i >= sa.size()) {
      out.push_back(fmt::format("action {}: missing from the saved plan; edgecert plans it now{}",
                                describe_saved_action(fa[i], i), tail.substr(tail.find(';'))));
      continue;
    }
    if (i >= fa.size()) {
      out.push_back(fmt::format("action {}: not in the plan edgecert makes now{}",
                                describe_saved_action(sa[i], i), tail.substr(tail.find(';'))));
      continue;
    }
    if (sa[i] == fa[i]) continue;
    std::string field = first_difference(sa[i], fa[i], "");
    out.push_back(fmt::format("action {}: {}{}", describe_saved_action(sa[i], i),
                              field.empty() ? "the action" : "field `" + field + "`", tail));
  }
  if (sa.size() != fa.size())
    out.push_back(
        fmt::format("the saved plan has {} actions, edgecert makes {} now", sa.size(), fa.size()));
  return out;
}

Status check_plan(const Plan& plan) {
  std::set<std::string> nodes;
  for (const auto& [name, snap] : plan.nodes) nodes.insert(name);
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    if (!position.emplace(a.id, i).second)
      return std::unexpected(
          invalid(fmt::format("action {}: field id: duplicate action id", a.id)));
    if (!nodes.count(a.node))
      return std::unexpected(invalid(
          fmt::format("action {}: field node: '{}' is not one of the plan's nodes", a.id, a.node)));
  }
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    for (const std::string& dep : a.depends_on) {
      auto it = position.find(dep);
      if (it == position.end())
        return std::unexpected(invalid(fmt::format(
            "action {}: field depends_on: '{}' is not an action of this plan", a.id, dep)));
      if (it->second >= i)
        return std::unexpected(
            invalid(fmt::format("action {}: field depends_on: '{}' comes {} it; an action can only "
                                "depend on earlier ones",
                                a.id, dep, it->second == i ? "at" : "after")));
    }
  }
  return {};
}

Result<Plan> plan_from_json(const nlohmann::json& j, const std::string& source) {
  auto fail = [&](const std::string& message) {
    return std::unexpected(
        invalid(fmt::format("{}: not a valid edgecert plan: {}", source, message)));
  };
  JsonFields f(j, "field");
  Plan p;
  p.format_version = static_cast<int>(f.integer("format_version", 0, 1000000));
  if (!f.ok()) return fail(f.error()->message);
  if (p.format_version != 1)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: plan format_version {} is not supported (this edgecert "
                                  "reads version 1)",
                                  source, p.format_version));
  p.edgecert_version = f.optional_string("edgecert_version").value_or("");
  if (const nlohmann::json* spec = f.object("spec")) {
    JsonFields sf(*spec, "field spec");
    p.spec_path = sf.string("path");
    p.spec_sha256 = sf.string("sha256");
    p.spec_absolute_path = sf.optional_string("absolute_path").value_or(p.spec_path);
    f.adopt(sf);
  }
  p.cluster = f.string("cluster");
  p.created_at = f.string("created_at");
  if (f.ok() && !plan_created_time(p.created_at))
    return fail(
        fmt::format("field created_at: expected a time like \"2026-11-27 13:00:00 UTC\" or "
                    "\"2026-11-27T13:00:00Z\", got \"{}\"",
                    p.created_at.size() > 40 ? p.created_at.substr(0, 40) + "..." : p.created_at));
  if (j.is_object() && j.contains("targets")) p.targets = f.strings("targets");
  if (j.is_object() && j.contains("replace")) p.replace = f.strings("replace");
  const nlohmann::json* nodes = f.object("nodes");
  std::vector<std::string> order = f.strings("node_order");
  const nlohmann::json* actions = f.array("actions");
  if (!f.ok()) return fail(f.error()->message);
  for (const std::string& name : order) {
    auto n = nodes->find(name);
    if (n == nodes->end()) return fail(fmt::format("field nodes: no entry for '{}'", name));
    JsonFields nf(*n, "field nodes." + name);
    std::string fingerprint = nf.string("fingerprint");
    const nlohmann::json* summary = nf.object("live_state");
    if (!nf.ok()) return fail(nf.error()->message);
    p.nodes.emplace_back(name, NodeSnapshot{fingerprint, *summary});
  }
  for (size_t i = 0; i < actions->size(); ++i) {
    auto act = action_from_json((*actions)[i], i);
    if (!act) return fail(act.error().message);
    p.actions.push_back(std::move(*act));
  }
  if (j.contains("notes")) {
    p.notes = f.strings("notes");
    if (!f.ok()) return fail(f.error()->message);
  }
  p.next_window = f.optional_string("next_window");
  p.change_id = f.optional_string("change_id");
  if (!f.ok()) return fail(f.error()->message);
  if (j.contains("git")) {
    const nlohmann::json* g = f.object("git");
    if (!f.ok()) return fail(f.error()->message);
    JsonFields gf(*g, "field git");
    GitOrigin o;
    o.repository = gf.string("repository");
    o.ref = gf.string("ref");
    o.commit = gf.string("commit");
    o.path = gf.optional_string("path").value_or("");
    if (!gf.ok()) return fail(gf.error()->message);
    bool hex40 = o.commit.size() == 40 &&
                 o.commit.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex40) return fail("field git.commit: expected a commit id of 40 hex digits");
    if (o.repository.empty() || o.ref.empty())
      return fail("field git: repository and ref must not be empty");
    // Paths in the commit's tree: relative, never climbing out of it.
    auto in_tree = [](const std::string& path) {
      if (path.starts_with("/")) return false;
      for (size_t at = 0; at <= path.size();) {
        size_t end = std::min(path.find('/', at), path.size());
        if (path.compare(at, end - at, "..") == 0) return false;
        at = end + 1;
      }
      return true;
    };
    if (!in_tree(p.spec_path))
      return fail(
          "field spec.path: a plan made from git names its spec by a relative path in "
          "the repository");
    if (!in_tree(o.path)) return fail("field git.path: not a relative path in the repository");
    p.git = std::move(o);
  }
  if (auto st = check_plan(p); !st) return fail(st.error().message);
  return p;
}

std::optional<TimePoint> plan_created_time(std::string_view s) {
  // What plan writes, or RFC 3339 in UTC for hand-made plans.
  if (auto t = parse_time(s)) return t;
  return parse_time_iso(s);
}

}  // namespace edgecert
