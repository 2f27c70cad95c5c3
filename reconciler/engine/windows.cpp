#include "reconciler/engine/windows.h"

#include <cstdlib>
#include <ctime>
#include <mutex>

#include <fmt/core.h>

namespace edgecert {
namespace {

std::mutex& tz_mutex() {
  static std::mutex m;
  return m;
}

// Runs `f` with the process time zone set to `zone`, restoring it after.
template <class F>
auto with_zone(const std::string& zone, F f) {
  std::lock_guard<std::mutex> lock(tz_mutex());
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  ::setenv("TZ", (":" + zone).c_str(), 1);
  ::tzset();
  auto result = f();
  if (old)
    ::setenv("TZ", saved.c_str(), 1);
  else
    ::unsetenv("TZ");
  ::tzset();
  return result;
}

bool zone_exists(const std::string& zone) {
  if (zone == "UTC") return true;
  if (zone.empty() || zone.find("..") != std::string::npos || zone.front() == '/') return false;
  std::FILE* f = std::fopen(("/usr/share/zoneinfo/" + zone).c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::string(magic, 4) == "TZif";
}

}  // namespace

Result<WindowStatus> window_status(const std::vector<spec::RolloutWindow>& windows, TimePoint now) {
  WindowStatus out;
  if (windows.empty()) {
    out.open = true;
    return out;
  }
  for (const auto& w : windows) {
    if (!zone_exists(w.timezone))
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("rollout window time zone '{}' is not a known IANA zone", w.timezone));
    // Candidate starts: local midnight of each day from 7 days back (a window
    // lasts at most 7 days) to 8 days ahead, on the window's weekdays.
    auto starts = with_zone(w.timezone, [&] {
      std::vector<TimePoint> v;
      std::time_t t = Clock::to_time_t(now);
      std::tm local{};
      ::localtime_r(&t, &local);
      for (int offset = -8; offset <= 8; ++offset) {
        std::tm day = local;
        day.tm_mday += offset;
        day.tm_hour = w.start_minute / 60;
        day.tm_min = w.start_minute % 60;
        day.tm_sec = 0;
        day.tm_isdst = -1;
        std::time_t start = ::mktime(&day);  // normalises tm too (weekday)
        if (start == -1) continue;
        bool on_day = false;
        for (unsigned d : w.days)
          if (static_cast<int>(d) == day.tm_wday) on_day = true;
        if (on_day) v.push_back(Clock::from_time_t(start));
      }
      return v;
    });
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

std::string format_in_zone(TimePoint t, const std::string& zone) {
  return with_zone(zone, [&] {
    std::time_t tt = Clock::to_time_t(t);
    std::tm local{};
    ::localtime_r(&tt, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &local);
    return fmt::format("{} ({})", buf, zone);
  });
}

}  // namespace edgecert
