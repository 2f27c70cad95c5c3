#include "reconciler/engine/windows.h"

#include <ctime>

#include <fmt/core.h>

namespace edgecert {

Result<WindowStatus> window_status(const std::vector<spec::RolloutWindow>& windows, TimePoint now) {
  WindowStatus out;
  if (windows.empty()) {
    out.open = true;
    return out;
  }
  for (const auto& w : windows) {
    if (!is_known_time_zone(default_env(), w.timezone))
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("rollout window time zone '{}' is not a known IANA zone", w.timezone));
    // Candidate starts: local midnight of each day from 7 days back (a window
    // lasts at most 7 days) to 8 days ahead, on the window's weekdays.
    std::vector<TimePoint> starts;
    const std::tm local = local_time_in_zone(now, w.timezone);
    for (int offset = -8; offset <= 8; ++offset) {
      std::tm day = local;
      day.tm_mday += offset;
      day.tm_hour = w.start_minute / 60;
      day.tm_min = w.start_minute % 60;
      day.tm_sec = 0;
      day.tm_isdst = -1;
      auto start = time_from_local_in_zone(day, w.timezone);  // normalises day (weekday)
      if (!start) continue;
      bool on_day = false;
      for (unsigned d : w.days)
        if (static_cast<int>(d) == day.tm_wday) on_day = true;
      if (on_day) starts.push_back(*start);
    }
    for (TimePoint s : starts) {
      TimePoint e = s + w.duration;
      if (s <= now && now < e) {
        out.open = true;
        if (!out.closes || e > *out.closes) out.closes = e;
      }
      if (s > now && (!out.next_open || s < *out.next_open)) out.next_open = s;
    }
  }
  return out;
}

}  // namespace edgecert
