// `apply --output json`: one JSON event per line on stdout, for CI
// (docs/apply-events.md is the schema). Also the exit status of an apply
// result, shared with the text rendering so both agree.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/apply.h"

namespace edgecert {

// 0 complete or no changes, 3 waiting (kExitWaiting), 4 stopped before a
// manual step (kExitManual), 1 anything else.
// `interrupted_exit`: 130 after SIGINT, 143 after SIGTERM (interrupt.h).
int apply_exit_code(const ApplyResult& result, int interrupted_exit = 130);

// How an apply ended, in one word: the result event's "status" (refused,
// cancelled, interrupted, no-changes, or the outcome of an executed run:
// complete, waiting, manual, interrupted, failed, aborted); apply's fleet
// table says the same.
const char* apply_result_status(const ApplyResult& result);

// The JSON object of a progress event (one line of the stream).
nlohmann::json progress_event_json(const ProgressEvent& event);

// Writes events to ctx.out, one compact JSON object per line, flushed, and
// serialised (heartbeats may come from another thread).
class ApplyEventStream {
 public:
  // `interrupted_exit` is asked at the end: which signal stopped the run is
  // known only then.
  // Over a fleet: every event carries "cluster": `cluster`, and the clusters'
  // streams write whole lines under one `out_mutex`.
  explicit ApplyEventStream(
      CliContext& ctx, std::function<int()> interrupted_exit = [] { return 130; },
      std::string cluster = "", std::mutex* out_mutex = nullptr)
      : ctx_(ctx),
        interrupted_exit_(std::move(interrupted_exit)),
        cluster_(std::move(cluster)),
        out_mutex_(out_mutex ? out_mutex : &mu_) {}
  void emit(const nlohmann::json& event);
  void progress(const ProgressEvent& event) { emit(progress_event_json(event)); }
  void notice(const std::string& message);
  // The end of the run: warnings, the nodes' states (when the plan ran) and
  // the result with its exit status; human-readable errors go to ctx.err as
  // in text mode. Returns the exit status.
  int finish(const ApplyResult& result);

 private:
  CliContext& ctx_;
  std::function<int()> interrupted_exit_;
  std::string cluster_;
  std::mutex mu_;
  std::mutex* out_mutex_;
};

}  // namespace edgecert
