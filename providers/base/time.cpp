#include "providers/base/time.h"

#include <cstdlib>
#include <mutex>

#include <fmt/core.h>

namespace edgecert {
namespace {

std::string format_utc(TimePoint t, const char* format) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// TZ is process-wide: one lock for every zone-local conversion.
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

bool is_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::string format_time(TimePoint t) {
  return format_utc(t, "%Y-%m-%d %H:%M:%S UTC");
}

std::string format_time_iso(TimePoint t) {
  return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string format_date(TimePoint t) {
  return format_utc(t, "%Y-%m-%d");
}

std::string format_openssl_index_time(TimePoint t) {
  return format_utc(t, "%y%m%d%H%M%SZ");
}

TimePoint parse_openssl_index_time(std::string_view s) {
  if (s.size() < 13 || !is_digits(s.substr(0, 12))) return TimePoint{};
  auto two = [&](size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); };
  std::tm tm{};
  int yy = two(0);
  tm.tm_year = (yy < 50 ? 2000 + yy : 1900 + yy) - 1900;
  tm.tm_mon = two(2) - 1;
  tm.tm_mday = two(4);
  tm.tm_hour = two(6);
  tm.tm_min = two(8);
  tm.tm_sec = two(10);
  return Clock::from_time_t(timegm(&tm));
}

bool is_known_time_zone(Env& env, std::string_view zone) {
  if (zone == "UTC") return true;
  // IANA names are path-like ("Asia/Tokyo"); refuse anything that could
  // escape the zoneinfo folder before touching the file system.
  if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string_view::npos ||
      zone.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
          std::string_view::npos)
    return false;
  auto data = env.read_file("/usr/share/zoneinfo/" + std::string(zone), read_limits::kState);
  return data && data->starts_with("TZif");
}

std::string format_in_zone(TimePoint t, const std::string& zone) {
  std::tm local = local_time_in_zone(t, zone);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &local);
  return fmt::format("{} ({})", buf, zone);
}

std::tm local_time_in_zone(TimePoint t, const std::string& zone) {
  return with_zone(zone, [&] {
    std::time_t tt = Clock::to_time_t(t);
    std::tm local{};
    ::localtime_r(&tt, &local);
    return local;
  });
}

std::optional<TimePoint> time_from_local_in_zone(std::tm& local, const std::string& zone) {
  return with_zone(zone, [&]() -> std::optional<TimePoint> {
    std::time_t t = ::mktime(&local);
    if (t == -1) return std::nullopt;
    return Clock::from_time_t(t);
  });
}

std::string format_elapsed(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 10000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  return fmt::format("{}s", ms / 1000);
}

}  // namespace edgecert
