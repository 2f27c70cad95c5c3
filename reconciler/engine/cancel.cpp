#include "reconciler/engine/cancel.h"

#include <algorithm>

namespace edgecert {
namespace {

// How often a wait looks at the stop flag: short enough that Ctrl-C feels
// immediate, long enough not to matter for the CPU.
constexpr std::chrono::milliseconds kSlice(100);

}  // namespace

bool sleep_unless_stopped(Env& env, const StopToken& stop, std::chrono::milliseconds duration) {
  while (duration.count() > 0) {
    if (stop.stop_requested()) return false;
    auto step = std::min(duration, kSlice);
    env.sleep_for(step);
    duration -= step;
  }
  return !stop.stop_requested();
}

TimePoint StoppableEnv::now() {
  return target().now() + std::chrono::milliseconds(skipped_ms_.load());
}

void StoppableEnv::sleep_for(std::chrono::milliseconds duration) {
  TimePoint start = target().now();
  if (sleep_unless_stopped(target(), stop_, duration)) return;
  // Stopped: the rest of this wait is skipped, and the clock says it passed.
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(target().now() - start);
  auto left = duration - std::clamp(waited, std::chrono::milliseconds(0), duration);
  skipped_ms_.fetch_add(left.count());
}

}  // namespace edgecert
