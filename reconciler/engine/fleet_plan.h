// A fleet plan: the plans of many clusters saved in one file by
// `edgecert plan SPEC... --out FILE` (docs/plan-format.md, "Fleet plans").
//
// It is reviewed, approved (approval.h, bound to the whole file's bytes) and
// applied as one: `edgecert apply FILE` applies each cluster's plan as a
// saved plan is applied (apply.h: re-derived from the spec and the live
// state, refused unless exactly the saved one), so staleness is per
// cluster: a cluster whose spec or nodes changed since the plan is refused
// and named, the others are applied.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "reconciler/engine/plan.h"

namespace edgecert {

inline constexpr int kFleetPlanFormatVersion = 1;

// {"fleet_format_version": 1, "edgecert_version", "created_at", "shard"
// (when one), "plans": [each cluster's plan_to_json, in the fleet's order]}.
nlohmann::json fleet_plan_to_json(const std::vector<Plan>& plans, const std::string& created_at,
                                  const std::string& shard);

struct FleetPlanFile {
  std::vector<nlohmann::json> plans;  // each as plan --out writes one
  std::vector<std::string> clusters;  // their `cluster`, in the same order
  std::string sha256;                 // of the file's bytes
};

// True when `path` holds a JSON object with fleet_format_version (what to
// read with read_fleet_plan); false for anything else, unreadable included.
bool is_fleet_plan(Env& env, const std::string& path);

// Reads and checks a fleet plan file: the version, `plans` a non-empty list
// of objects, each a well-formed plan (plan_from_json), no cluster twice.
// Refused naming the file, the entry (its position and cluster) and the
// field.
Result<FleetPlanFile> read_fleet_plan(Env& env, const std::string& path);

// "fleet.json, cluster 'tokyo'": how messages name one entry.
std::string fleet_plan_entry_name(const std::string& path, const std::string& cluster);

}  // namespace edgecert
