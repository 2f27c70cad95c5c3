// Rollout windows: when apply may disrupt nodes.
//
// A window is a set of weekdays, a start time and a duration in an IANA time
// zone; it may run past midnight (and for up to 7 days). libstdc++ 12 has no
// std::chrono time-zone database, so local times are converted with the C
// library (TZ + mktime/localtime_r) under a process-wide lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "schema/spec.h"

namespace edgecert {

struct WindowStatus {
  bool open = false;                   // `now` is inside a window (or no windows are set)
  std::optional<TimePoint> closes;     // end of the window we are in
  std::optional<TimePoint> next_open;  // next window start after `now` (within 8 days)
};

// No windows = always open. Errors only for an unknown time zone.
Result<WindowStatus> window_status(const std::vector<spec::RolloutWindow>& windows, TimePoint now);

// "2026-11-28T01:00:00+09:00 (Asia/Tokyo)"-style rendering of a UTC time in a zone.
std::string format_in_zone(TimePoint t, const std::string& zone);

}  // namespace edgecert
