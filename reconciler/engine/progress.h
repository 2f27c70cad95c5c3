// Progress of an apply run as typed events: what the executor and the waits
// under it report while a plan runs.
//
// The executor emits run-start, action-start/done/failed/waiting and retry;
// heartbeats come from the waits themselves (heartbeat.h) at least every
// kHeartbeatInterval of the Env's clock. The CLI renders them as lines for
// people (progress_line) or as one JSON object per line (`apply --output
// json`, docs/apply-events.md). Events carry public data only, like the
// journal: never keys or passwords.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "providers/base/enum_table.h"
#include "providers/base/env.h"

namespace edgecert {

// Longest silence during a wait (the issue asks for at most 15 s).
inline constexpr std::chrono::seconds kHeartbeatInterval{10};

enum class ProgressKind {
  kRunStart,       // the plan starts running: run id, plan summary
  kActionStart,    // an action begins (message: its reason)
  kActionDone,     // it finished (message: what it did)
  kActionFailed,   // it failed (message: the error); the rollout stops
  kActionWaiting,  // the issuer waits for a certificate (message: what to do)
  kRetry,          // a transient failure; retried after `limit` (message: the error)
  kHeartbeat,      // still waiting (message: what for; `limit`: the wait's timeout)
  kManual,         // a manual step the operator has not done yet (message: the instruction)
};
// The JSON events' names.
inline constexpr EnumTable<ProgressKind, 8> kProgressKindNames{{
    {ProgressKind::kRunStart, "run-start"},
    {ProgressKind::kActionStart, "action-start"},
    {ProgressKind::kActionDone, "action-done"},
    {ProgressKind::kActionFailed, "action-failed"},
    {ProgressKind::kActionWaiting, "action-waiting"},
    {ProgressKind::kRetry, "retry"},
    {ProgressKind::kHeartbeat, "heartbeat"},
    {ProgressKind::kManual, "manual"},
}};
inline std::string_view progress_kind_name(ProgressKind kind) {
  return enum_name(kProgressKindNames, kind);
}

struct ProgressEvent {
  ProgressKind kind = ProgressKind::kActionStart;
  TimePoint at;
  // Action events and heartbeats.
  std::string action;       // id, e.g. "edge2/restart"
  std::string node;         // peer name
  std::string action_kind;  // e.g. "restart"
  size_t position = 0;      // the node's place among the plan's nodes, 1-based; 0 = unknown
  size_t of = 0;            // how many nodes the plan touches
  std::string message;
  // Since the action began (heartbeat: since the wait began).
  std::chrono::milliseconds elapsed{0};
  // Heartbeat: the wait's timeout (unset: it has none of its own); retry: the
  // backoff before the next attempt.
  std::optional<std::chrono::milliseconds> limit;
  // Manual step: where and what (manual_steps.h ManualInstruction), what
  // the node shows now.
  std::string manual_page;
  std::vector<std::string> manual_settings;
  std::string manual_check;
  bool manual_verifiable = true;
  std::string manual_now;
  // Run start.
  std::string run_id;
  std::string cluster;
  size_t actions = 0;
  std::vector<std::string> nodes;
};

// One line for people, e.g. "[2/3 edge2] restart: started",
// "[2/3 edge2] wait-healthy: up after 41s (41s)",
// "edge2: waiting for the node to come back: 45s of 600s".
std::string progress_line(const ProgressEvent& event);

}  // namespace edgecert
