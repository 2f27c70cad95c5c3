#include "reconciler/engine/progress.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"

namespace edgecert {

std::string progress_line(const ProgressEvent& e) {
  const std::string prefix =
      e.position > 0 ? fmt::format("[{}/{} {}] {}: ", e.position, e.of, e.node, e.action_kind)
                     : fmt::format("[{}] {}: ", e.node, e.action_kind);
  switch (e.kind) {
    case ProgressKind::kRunStart:
      return fmt::format("Applying {} action{} to {} (run {})", e.actions,
                         e.actions == 1 ? "" : "s", fmt::join(e.nodes, ", "), e.run_id);
    case ProgressKind::kActionStart:
      return prefix + "started";
    case ProgressKind::kActionDone:
      return fmt::format("{}{} ({})", prefix, e.message.empty() ? "done" : e.message,
                         format_elapsed(e.elapsed));
    case ProgressKind::kActionFailed:
      return fmt::format("{}FAILED: {} ({})", prefix, e.message, format_elapsed(e.elapsed));
    case ProgressKind::kActionWaiting:
      return fmt::format("{}waiting ({})", prefix, format_elapsed(e.elapsed));
    case ProgressKind::kRetry:
      return fmt::format("{}transient failure, retrying in {}: {}", prefix,
                         format_elapsed(e.limit.value_or(std::chrono::milliseconds(0))), e.message);
    case ProgressKind::kManual:
      if (!e.manual_verifiable)
        return fmt::format("{}MANUAL STEP, to confirm: {} ({}: you confirm it)", prefix, e.message,
                           e.manual_now);
      return fmt::format("{}MANUAL STEP, not done yet: {}{}", prefix, e.message,
                         e.manual_now.empty() ? "" : " (the node shows: " + e.manual_now + ")");
    case ProgressKind::kHeartbeat: {
      std::string of = e.limit ? " of " + format_elapsed(*e.limit) : " so far";
      return fmt::format("{}: {}: {}{}", e.node.empty() ? "edgecert" : e.node, e.message,
                         format_elapsed(e.elapsed), of);
    }
  }
  return prefix + e.message;
}

}  // namespace edgecert
