// `apply --output json`: one JSON event per line on stdout, for CI
// (docs/apply-events.md is the schema). Also the exit status of an apply
// result, shared with the text rendering so both agree.
#pragma once

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/apply.h"

namespace edgecert {

// 0 complete or no changes, 3 waiting (kExitWaiting), 1 anything else.
int apply_exit_code(const ApplyResult& result);

// The JSON object of a progress event (one line of the stream).
nlohmann::json progress_event_json(const ProgressEvent& event);

// Writes events to ctx.out, one compact JSON object per line, flushed, and
// serialised (heartbeats may come from another thread).
class ApplyEventStream {
 public:
  explicit ApplyEventStream(CliContext& ctx) : ctx_(ctx) {}
  void emit(const nlohmann::json& event);
  void progress(const ProgressEvent& event) { emit(progress_event_json(event)); }
  void notice(const std::string& message);
  // The end of the run: warnings, the nodes' states (when the plan ran) and
  // the result with its exit status; human-readable errors go to ctx.err as
  // in text mode. Returns the exit status.
  int finish(const ApplyResult& result);

 private:
  CliContext& ctx_;
  std::mutex mu_;
};

}  // namespace edgecert
