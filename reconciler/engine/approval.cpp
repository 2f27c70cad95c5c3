#include "reconciler/engine/approval.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/base/read_limits.h"
#include "providers/base/time.h"
#include "reconciler/engine/json_fields.h"

namespace edgecert {
namespace {

// What people type: printable, one line, bounded.
bool printable_line(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// An approver's name as people mean it: trimmed of nothing (a name with
// leading or trailing spaces is refused) and compared without case, so
// "alice", "Alice" and "alice " cannot count as three people.
bool good_name(const std::string& s) {
  return printable_line(s, 100) && s.front() != ' ' && s.back() != ' ';
}
std::string name_key(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<std::string> distinct_approvers(const Approvals& a) {
  std::vector<std::string> names, keys;
  for (const Approval& ap : a.approvals) {
    std::string k = name_key(ap.by);
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    keys.push_back(k);
    names.push_back(ap.by);
  }
  return names;
}

namespace {

std::string approve_command(const std::string& plan_path) {
  return fmt::format("edgecert approve {} --by NAME", plan_path);
}

}  // namespace

std::string approvals_path(const std::string& plan_path) {
  return plan_path + ".approvals.json";
}

Result<Approvals> read_approvals(Env& env, const std::string& plan_path) {
  const std::string path = approvals_path(plan_path);
  auto text = env.read_file(path, read_limits::kLock);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return Approvals{};
    return std::unexpected(text.error());
  }
  auto corrupt = [&](const std::string& why) -> Result<Approvals> {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: not an approvals file: {}; remove it and approve the plan "
                                  "again ({}). Nothing was changed",
                                  path, why, approve_command(plan_path)));
  };
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt("not a JSON object");
  JsonFields f(j, "");
  Approvals a;
  if (f.integer("format_version", 1, 1) != 1 && f.ok()) f.fail("format_version", "expected 1");
  a.plan_sha256 = f.string("plan_sha256");
  if (f.ok() && (a.plan_sha256.size() != 64 ||
                 a.plan_sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
    f.fail("plan_sha256", "expected 64 hex digits");
  const nlohmann::json* list = f.array("approvals");
  if (!f.ok()) return corrupt(f.error()->message);
  for (size_t i = 0; list && i < list->size(); ++i) {
    const std::string where = fmt::format("approvals[{}]", i);
    if (!(*list)[i].is_object()) return corrupt(where + ": expected an object");
    JsonFields e((*list)[i], where);
    Approval ap;
    ap.by = e.string("by");
    ap.comment = e.optional_string("comment").value_or("");
    ap.at = e.string("at");
    if (e.ok() && !printable_line(ap.by, 100))
      e.fail("by", "expected 1 to 100 printable characters");
    if (e.ok() && !parse_rfc3339(ap.at)) e.fail("at", "expected an RFC 3339 time");
    if (!e.ok()) return corrupt(e.error()->message);
    a.approvals.push_back(std::move(ap));
  }
  return a;
}

Result<Approvals> approve_plan(Env& env, const std::string& plan_path,
                               const std::string& plan_sha256, const std::string& by,
                               const std::string& comment) {
  if (!good_name(by))
    return make_error(ErrorCode::kInvalidArgument,
                      "--by: the approver's name must be 1 to 100 printable characters on one "
                      "line, without leading or trailing spaces; nothing was written");
  if (!comment.empty() && !printable_line(comment, 1000))
    return make_error(ErrorCode::kInvalidArgument,
                      "--comment: at most 1000 printable characters on one line");
  auto current = read_approvals(env, plan_path);
  if (!current) return std::unexpected(current.error());
  if (!current->approvals.empty() && current->plan_sha256 != plan_sha256)
    return make_error(
        ErrorCode::kConflict,
        fmt::format("{}: its approvals are for other plan contents (sha256 {}, the plan is now "
                    "{}): the plan changed after they were given. Review it again, remove {} "
                    "and approve anew; nothing was changed",
                    approvals_path(plan_path), current->plan_sha256.substr(0, 16),
                    plan_sha256.substr(0, 16), approvals_path(plan_path)));
  for (const Approval& a : current->approvals)
    if (name_key(a.by) == name_key(by))
      return make_error(ErrorCode::kConflict,
                        fmt::format("{} already approved {} (at {}); approvals must come from "
                                    "different people",
                                    by, plan_path, a.at));
  current->plan_sha256 = plan_sha256;
  current->approvals.push_back(Approval{by, comment, format_time_iso(env.now())});
  nlohmann::json list = nlohmann::json::array();
  for (const Approval& a : current->approvals) {
    nlohmann::json e{{"by", a.by}, {"at", a.at}};
    if (!a.comment.empty()) e["comment"] = a.comment;
    list.push_back(std::move(e));
  }
  nlohmann::json j{
      {"format_version", 1}, {"plan_sha256", current->plan_sha256}, {"approvals", std::move(list)}};
  if (auto st = env.write_file_atomic(approvals_path(plan_path), j.dump(2) + "\n", 0644); !st)
    return std::unexpected(st.error());
  return *current;
}

Status check_change_id(const spec::ChangeControl& cc, const std::optional<std::string>& change_id) {
  if (change_id && !printable_line(*change_id, 128))
    return make_error(ErrorCode::kInvalidArgument,
                      "--change-id: 1 to 128 printable characters on one line");
  if (!cc.change_id_pattern) return {};
  if (!change_id)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("spec.rollout.changeControl requires a change ID: give "
                                  "--change-id matching '{}'; nothing was changed",
                                  *cc.change_id_pattern));
  // Validated when the spec was read; a pattern that still fails is refused.
  try {
    if (std::regex_match(*change_id, std::regex(*cc.change_id_pattern, std::regex::ECMAScript)))
      return {};
  } catch (const std::regex_error& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("spec.rollout.changeControl.changeIdPattern: {}", e.what()));
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("--change-id '{}' does not match spec.rollout.changeControl."
                                "changeIdPattern '{}'; nothing was changed",
                                *change_id, *cc.change_id_pattern));
}

Result<std::vector<std::string>> check_approvals(Env& env, const spec::ChangeControl& cc,
                                                 const std::string& plan_path,
                                                 const std::string& plan_sha256) {
  std::vector<std::string> names;
  if (cc.approvals == 0) return names;
  auto a = read_approvals(env, plan_path);
  if (!a) return std::unexpected(a.error());
  if (!a->approvals.empty() && a->plan_sha256 != plan_sha256)
    return make_error(
        ErrorCode::kConflict,
        fmt::format("{} changed after it was approved (approved sha256 {}, now {}): its "
                    "approvals ({}) do not cover what it says now. Plan again and have the new "
                    "plan approved; nothing was changed",
                    plan_path, a->plan_sha256.substr(0, 16), plan_sha256.substr(0, 16),
                    approvals_path(plan_path)));
  names = distinct_approvers(*a);
  if (static_cast<int>(names.size()) < cc.approvals) {
    std::string who;
    for (const auto& n : names) who += (who.empty() ? "" : ", ") + n;
    return make_error(
        ErrorCode::kConflict,
        fmt::format("{} has {} of the {} approval{} spec.rollout.changeControl requires{}; add "
                    "one with '{}'. Nothing was changed",
                    plan_path, names.size(), cc.approvals, cc.approvals == 1 ? "" : "s",
                    who.empty() ? "" : " (" + who + ")", approve_command(plan_path)));
  }
  return names;
}

}  // namespace edgecert
