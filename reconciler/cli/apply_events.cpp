#include "reconciler/cli/apply_events.h"

#include <ostream>

#include "providers/base/time.h"

namespace edgecert {
namespace {

using nlohmann::json;

long long ms(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

}  // namespace

const char* apply_result_status(const ApplyResult& r) {
  switch (r.status) {
    case ApplyStatus::kRefused:
      return "refused";
    case ApplyStatus::kCancelled:
      return "cancelled";
    case ApplyStatus::kInterrupted:
      return "interrupted";
    case ApplyStatus::kNoChanges:
      return "no-changes";
    case ApplyStatus::kExecuted:
      return r.report ? apply_outcome_name(r.report->outcome) : "aborted";
  }
  return "?";
}

int apply_exit_code(const ApplyResult& r, int interrupted_exit) {
  switch (r.status) {
    case ApplyStatus::kRefused:
    case ApplyStatus::kCancelled:
      return kExitError;
    case ApplyStatus::kInterrupted:
      return interrupted_exit;
    case ApplyStatus::kNoChanges:
      return kExitOk;
    case ApplyStatus::kExecuted:
      break;
  }
  if (!r.report) return kExitError;
  switch (r.report->outcome) {
    case ApplyOutcome::kComplete:
      return kExitOk;
    case ApplyOutcome::kWaiting:
      return kExitWaiting;
    case ApplyOutcome::kManual:
      return kExitManual;
    case ApplyOutcome::kInterrupted:
      return interrupted_exit;
    case ApplyOutcome::kFailed:
    case ApplyOutcome::kAborted:
      return kExitError;
  }
  return kExitError;
}

json progress_event_json(const ProgressEvent& e) {
  json j = {{"event", progress_kind_name(e.kind)}, {"time", format_time_iso(e.at)}};
  if (e.kind == ProgressKind::kRunStart) {
    j["run_id"] = e.run_id;
    j["cluster"] = e.cluster;
    j["actions"] = e.actions;
    j["nodes"] = e.nodes;
    j["summary"] = e.message;
    return j;
  }
  if (!e.action.empty()) j["action"] = e.action;
  j["node"] = e.node;
  if (!e.action_kind.empty()) j["kind"] = e.action_kind;
  switch (e.kind) {
    case ProgressKind::kHeartbeat:
      j["waiting_for"] = e.message;
      j["elapsed_ms"] = ms(e.elapsed);
      j["timeout_ms"] = e.limit ? json(ms(*e.limit)) : json(nullptr);
      return j;
    case ProgressKind::kActionStart:
      j["position"] = e.position;
      j["of"] = e.of;
      j["reason"] = e.message;
      return j;
    case ProgressKind::kManual:
      j["position"] = e.position;
      j["of"] = e.of;
      j["instruction"] = e.message;
      j["page"] = e.manual_page;
      j["settings"] = e.manual_settings;
      j["check"] = e.manual_check;
      j["verifiable"] = e.manual_verifiable;
      j["now"] = e.manual_now;
      return j;
    case ProgressKind::kRetry:
      j["message"] = e.message;
      j["retry_in_ms"] = ms(e.limit.value_or(std::chrono::milliseconds(0)));
      return j;
    default:
      j["position"] = e.position;
      j["of"] = e.of;
      j["message"] = e.message;
      j["elapsed_ms"] = ms(e.elapsed);
      return j;
  }
}

void ApplyEventStream::emit(const json& event) {
  std::string line;
  if (cluster_.empty()) {
    // Display only: a message may quote what a node or server sent, in any
    // bytes; a malformed one is shown as U+FFFD rather than aborting the run.
    line = event.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    json tagged = event;
    tagged["cluster"] = cluster_;
    line = tagged.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  std::lock_guard<std::mutex> lock(*out_mutex_);
  ctx_.out << line << "\n" << std::flush;
}

void ApplyEventStream::notice(const std::string& message) {
  emit({{"event", "notice"}, {"time", format_time_iso(ctx_.env.now())}, {"message", message}});
}

int ApplyEventStream::finish(const ApplyResult& r) {
  const std::string now = format_time_iso(ctx_.env.now());
  for (const std::string& w : r.warnings) {
    ctx_.err << "edgecert: warning: " << w << "\n";
    emit({{"event", "warning"}, {"time", now}, {"message", w}});
  }
  const int code = apply_exit_code(r, interrupted_exit_());
  json result = {
      {"event", "result"}, {"time", now}, {"status", apply_result_status(r)}, {"exit_code", code}};
  if (r.status == ApplyStatus::kRefused) {
    std::string msg = r.error ? r.error->message : "refused";
    ctx_.err << "edgecert: error: " << msg << "\n";
    for (const auto& d : r.details) ctx_.err << "  " << d << "\n";
    result["message"] = msg;
    result["details"] = r.details;
  }
  if (r.report) {
    const ApplyReport& rep = *r.report;
    json nodes = json::array();
    for (const std::string& line : rep.node_report) {
      // "edge1: serving ..." (NodeRunner::describe_nodes): name, then state.
      auto colon = line.find(": ");
      nodes.push_back(colon == std::string::npos ? json{{"node", ""}, {"state", line}}
                                                 : json{{"node", line.substr(0, colon)},
                                                        {"state", line.substr(colon + 2)}});
    }
    emit({{"event", "nodes"}, {"time", now}, {"nodes", nodes}});
    result["actions_done"] = rep.actions_done;
    result["message"] = rep.message;
    if (!rep.failed_action.empty()) result["failed_action"] = rep.failed_action;
    result["next_steps"] = rep.next_steps;
    if (code == kExitError) {
      ctx_.err << "edgecert: error: apply " << apply_outcome_name(rep.outcome) << ": "
               << rep.message << "\n";
      for (const auto& n : rep.next_steps) ctx_.err << "  " << n << "\n";
    }
  }
  emit(result);
  return code;
}

}  // namespace edgecert
