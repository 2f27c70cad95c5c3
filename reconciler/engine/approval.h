// Change control: approvals of a saved plan and the change ID
// (spec.rollout.changeControl).
//
// An approval is bound to the plan's digest, the SHA-256 of the saved
// plan's bytes, and kept in a sidecar file next to it, `<PLAN>.approvals.json`
// (docs/plan-format.md): editing the plan after approval, by one byte,
// voids every approval. An approver is a name the approver gives (`--by`):
// this records who reviewed what, as a change board's minutes do; who may
// run `approve` is the business of the CI system (a protected environment,
// a required reviewer), not of this file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "schema/spec.h"

namespace edgecert {

struct Approval {
  std::string by;
  std::string comment;
  std::string at;  // RFC 3339 UTC
};

struct Approvals {
  std::string plan_sha256;
  std::vector<Approval> approvals;
};

// The approvers, each once: names are compared without case (the first
// spelling is kept), in the order they approved.
std::vector<std::string> distinct_approvers(const Approvals& approvals);

// "<plan>.approvals.json".
std::string approvals_path(const std::string& plan_path);

// The sidecar of `plan_path`; an empty Approvals when there is none.
// kCorrupt naming the file and the field when it cannot be read as one.
Result<Approvals> read_approvals(Env& env, const std::string& plan_path);

// Records an approval of the plan at `plan_path` by `by` (1 to 100
// printable characters, no line breaks, no leading or trailing space):
// written atomically. Refused (kInvalidArgument / kConflict) for a bad name,
// a name that already approved (compared without case), or a sidecar whose
// approvals are for other plan bytes.
// Returns the approvals now recorded.
// `plan_sha256`: the SHA-256 (hex) of the plan's bytes as the caller read
// and decoded them (read_saved_plan), so the approval covers exactly what
// was checked.
Result<Approvals> approve_plan(Env& env, const std::string& plan_path,
                               const std::string& plan_sha256, const std::string& by,
                               const std::string& comment);

// Whether `change_id` is acceptable under `cc`: a pattern requires one that
// matches it whole; at most 128 printable characters. The error says what
// the spec asks for.
Status check_change_id(const spec::ChangeControl& cc, const std::optional<std::string>& change_id);

// What apply requires of a saved plan at `plan_path` whose bytes (as apply
// read and decoded them) have SHA-256 `plan_sha256`, under `cc`: at least
// cc.approvals distinct approvers, all for those bytes. The error
// (kConflict; kCorrupt for an unreadable sidecar) says how many are there,
// for which digest, and the command that adds one. Returns the approvers'
// names.
Result<std::vector<std::string>> check_approvals(Env& env, const spec::ChangeControl& cc,
                                                 const std::string& plan_path,
                                                 const std::string& plan_sha256);

}  // namespace edgecert
