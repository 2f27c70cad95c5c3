#include "providers/base/time.h"

#include <cstdlib>
#include <mutex>

#include <fmt/core.h>

namespace edgecert {
namespace {

// Through days arithmetic, not gmtime/strftime: exact for every year
// 0001..9999 and always four digits (glibc's %Y prints year 1 as "1").
CivilTime civil_utc(TimePoint t) {
  return civil_from_time(clamp_time(t));
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
  // Never unset: removing TZ and adding it again resizes the environment
  // while other threads (clusters applied concurrently, libcurl, libgit2)
  // may be reading it. ":/etc/localtime" is what an unset TZ means.
  ::setenv("TZ", old ? saved.c_str() : ":/etc/localtime", 1);
  ::tzset();
  return result;
}

bool is_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Whether `s` has exactly `shape`'s length with a digit wherever `shape` has
// '0' and the same character everywhere else.
bool fits_shape(std::string_view s, std::string_view shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (shape[i] == '0' ? !digit : s[i] != shape[i]) return false;
  }
  return true;
}

// The number the `n` digits at `at` spell (callers checked they are digits).
unsigned digits_at(std::string_view s, std::size_t at, std::size_t n) {
  unsigned v = 0;
  for (std::size_t i = at; i < at + n; ++i) v = v * 10 + static_cast<unsigned>(s[i] - '0');
  return v;
}

// "YYYY-MM-DD?HH:MM:SS" at the start of `s` (shape checked by the caller).
std::optional<TimePoint> civil_prefix(std::string_view s, bool allow_leap_second) {
  const unsigned second = digits_at(s, 17, 2);
  if (second > (allow_leap_second ? 60u : 59u)) return std::nullopt;
  return time_from_civil(digits_at(s, 0, 4), digits_at(s, 5, 2), digits_at(s, 8, 2),
                         digits_at(s, 11, 2), digits_at(s, 14, 2), second);
}

}  // namespace

std::string format_time(TimePoint t) {
  CivilTime c = civil_utc(t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}

std::string format_time_iso(TimePoint t) {
  CivilTime c = civil_utc(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}

std::optional<TimePoint> parse_time(std::string_view s) {
  if (!fits_shape(s, "0000-00-00 00:00:00 UTC")) return std::nullopt;
  return civil_prefix(s, false);
}

std::optional<TimePoint> parse_time_iso(std::string_view s) {
  if (!fits_shape(s, "0000-00-00T00:00:00Z")) return std::nullopt;
  return civil_prefix(s, false);
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  constexpr std::size_t kDateTime = 19;  // "YYYY-MM-DDTHH:MM:SS"
  if (s.size() < kDateTime) return std::nullopt;
  std::string head(s.substr(0, kDateTime));
  if (head[10] == 't' || head[10] == ' ') head[10] = 'T';
  if (!fits_shape(head, "0000-00-00T00:00:00")) return std::nullopt;
  std::size_t pos = kDateTime;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t digits = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == digits) return std::nullopt;  // time-secfrac is "." 1*DIGIT
  }
  std::chrono::seconds offset{0};
  const std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    // UTC already.
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
             fits_shape(zone.substr(1), "00:00")) {
    const unsigned hours = digits_at(zone, 1, 2);
    const unsigned minutes = digits_at(zone, 4, 2);
    if (hours > 23 || minutes > 59) return std::nullopt;
    offset = std::chrono::seconds((hours * 3600 + minutes * 60));
    if (zone[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  // Calendar arithmetic rather than timegm: a nonsense date (month 13, year
  // 0) is refused instead of normalised.
  auto t = civil_prefix(head, true);
  if (!t) return std::nullopt;
  // Local time minus its offset is UTC.
  return sub_saturating(*t, offset);
}

std::string format_date(TimePoint t) {
  CivilTime c = civil_utc(t);
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string format_openssl_index_time(TimePoint t) {
  CivilTime c = civil_utc(t);
  // index.txt is YYMMDDHHMMSSZ (UTCTime) for 1950..2049 and, as openssl ca
  // writes it, YYYYMMDDHHMMSSZ (GeneralizedTime) outside that range.
  if (c.year >= 1950 && c.year <= 2049)
    return fmt::format("{:02}{:02}{:02}{:02}{:02}{:02}Z", c.year % 100, c.month, c.day, c.hour,
                       c.minute, c.second);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}Z", c.year, c.month, c.day, c.hour, c.minute,
                     c.second);
}

TimePoint parse_openssl_index_time(std::string_view s) {
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  int64_t year = 0;
  size_t at = 0;
  if (s.size() >= 15 && is_digits(s.substr(0, 14)) && s[14] == 'Z') {
    year = num(0, 4);
    at = 4;
  } else if (s.size() >= 13 && is_digits(s.substr(0, 12))) {
    int yy = num(0, 2);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    at = 2;
  } else {
    return TimePoint{};
  }
  auto t =
      time_from_civil(year, static_cast<unsigned>(num(at, 2)),
                      static_cast<unsigned>(num(at + 2, 2)), static_cast<unsigned>(num(at + 4, 2)),
                      static_cast<unsigned>(num(at + 6, 2)), static_cast<unsigned>(num(at + 8, 2)));
  return t ? *t : TimePoint{};
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
    std::time_t tt = Clock::to_time_t(clamp_time(t));
    std::tm local{};
    ::localtime_r(&tt, &local);
    return local;
  });
}

std::optional<TimePoint> time_from_local_in_zone(std::tm& local, const std::string& zone) {
  return with_zone(zone, [&]() -> std::optional<TimePoint> {
    std::time_t t = ::mktime(&local);
    if (t == -1) return std::nullopt;
    auto checked = time_from_unix_seconds(t);
    if (!checked) return std::nullopt;
    return *checked;
  });
}

std::string format_elapsed(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 10000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  return fmt::format("{}s", ms / 1000);
}

}  // namespace edgecert
