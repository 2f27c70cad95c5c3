#include "reconciler/engine/fleet_plan.h"

#include <set>

#include <fmt/core.h>

#include "providers/base/read_limits.h"
#include "providers/pki/spki.h"

namespace edgecert {

namespace {

std::optional<nlohmann::json> parse_object(Env& env, const std::string& path, std::string* text) {
  auto bytes = env.read_file(path, read_limits::kSavedPlan);
  if (!bytes) return std::nullopt;
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (text) *text = std::move(*bytes);
  return j;
}

}  // namespace

nlohmann::json fleet_plan_to_json(const std::vector<Plan>& plans, const std::string& created_at,
                                  const std::string& shard) {
  nlohmann::json j;
  j["fleet_format_version"] = kFleetPlanFormatVersion;
  j["edgecert_version"] = plans.empty() ? std::string() : plans.front().edgecert_version;
  j["created_at"] = created_at;
  if (!shard.empty()) j["shard"] = shard;
  j["plans"] = nlohmann::json::array();
  for (const Plan& p : plans) j["plans"].push_back(plan_to_json(p));
  return j;
}

bool is_fleet_plan(Env& env, const std::string& path) {
  if (env.is_directory(path)) return false;
  auto j = parse_object(env, path, nullptr);
  return j && j->contains("fleet_format_version");
}

std::string fleet_plan_entry_name(const std::string& path, const std::string& cluster) {
  return fmt::format("{}, cluster '{}'", path, cluster);
}

Result<FleetPlanFile> read_fleet_plan(Env& env, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, what));
  };
  std::string text;
  if (auto bytes = env.read_file(path, read_limits::kSavedPlan); !bytes)
    return std::unexpected(bytes.error());
  auto j = parse_object(env, path, &text);
  if (!j) return bad("not a JSON object");
  const nlohmann::json& version = (*j)["fleet_format_version"];
  if (!version.is_number_integer() || version.get<long long>() != kFleetPlanFormatVersion)
    return bad(
        fmt::format("field fleet_format_version: {} is not supported (this edgecert reads "
                    "{})",
                    version.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    kFleetPlanFormatVersion));
  auto it = j->find("plans");
  if (it == j->end() || !it->is_array()) return bad("field plans: expected a list of plans");
  if (it->empty()) return bad("field plans: the list is empty");
  FleetPlanFile out;
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& entry = (*it)[i];
    if (!entry.is_object()) return bad(fmt::format("field plans[{}]: expected a plan object", i));
    auto plan = plan_from_json(entry, fmt::format("{}: plans[{}]", path, i));
    if (!plan) return std::unexpected(plan.error());
    if (!seen.insert(plan->cluster).second)
      return bad(
          fmt::format("field plans[{}]: cluster '{}' has a plan earlier in the file: a "
                      "fleet plan holds one plan per cluster",
                      i, plan->cluster));
    out.plans.push_back(entry);
    out.clusters.push_back(plan->cluster);
  }
  out.sha256 = pki::sha256_hex(text);
  return out;
}

}  // namespace edgecert
