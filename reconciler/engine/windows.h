// Rollout windows: when apply may disrupt nodes.
//
// A window is a set of weekdays, a start time and a duration in an IANA time
// zone; it may run past midnight (and for up to 7 days). Local times are
// converted by providers/base/time.h (the C library's zone database), which
// also renders a window time in its zone: format_in_zone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/time.h"
#include "schema/spec.h"

namespace edgecert {

struct WindowStatus {
  bool open = false;                   // `now` is inside a window (or no windows are set)
  std::optional<TimePoint> closes;     // end of the window we are in
  std::optional<TimePoint> next_open;  // next window start after `now` (within 8 days)
};

// No windows = always open. Errors only for an unknown time zone
// (is_known_time_zone on the machine's own zone files: the C library reads
// those, whatever Env the spec was validated through).
Result<WindowStatus> window_status(const std::vector<spec::RolloutWindow>& windows, TimePoint now);

}  // namespace edgecert
