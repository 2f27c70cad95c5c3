// Clock and TimePoint: the instants edgecert reasons about.
//
// std::chrono::system_clock on libstdc++ counts 64-bit nanoseconds and wraps
// after 2262-04-11, so a certificate valid to 9999-12-31 (RFC 5280's "no
// well-defined expiration date") read back as 1816 and looked expired. Clock
// counts 64-bit microseconds from the Unix epoch: ±292,000 years, enough for
// every date X.509 can carry (0001-01-01 .. 9999-12-31). Everything that turns
// numbers from outside into a TimePoint goes through the checked helpers here
// so no arithmetic can wrap.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>

namespace edgecert {

struct Clock {
  using duration = std::chrono::microseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock, duration>;
  static constexpr bool is_steady = false;

  static time_point now() noexcept {
    return time_point(
        std::chrono::duration_cast<duration>(std::chrono::system_clock::now().time_since_epoch()));
  }
  // time_t is 64-bit seconds on every platform edgecert builds for; callers
  // stay within kEarliestTime..kLatestTime so the multiplication cannot wrap.
  static constexpr time_point from_time_t(std::time_t t) noexcept {
    return time_point(std::chrono::seconds(t));
  }
  static constexpr std::time_t to_time_t(time_point t) noexcept {
    return static_cast<std::time_t>(
        std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
  }
};

using TimePoint = Clock::time_point;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil): exact for every year, no time_t or time zone involved.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilTime {
  std::int64_t year;
  unsigned month, day, hour, minute, second;
};

// The inverse of days_from_civil plus the time of day (UTC).
constexpr CivilTime civil_from_time(TimePoint t) noexcept {
  const std::int64_t secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  std::int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
  const std::int64_t sod = secs - z * 86400;
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilTime{y + (m <= 2),
                   m,
                   d,
                   static_cast<unsigned>(sod / 3600),
                   static_cast<unsigned>(sod % 3600 / 60),
                   static_cast<unsigned>(sod % 60)};
}

// A UTC calendar instant; nullopt when a field is out of range (month 13,
// February 30, second 61 ...) or the year is outside 1..9999.
constexpr std::optional<TimePoint> time_from_civil(std::int64_t year, unsigned month, unsigned day,
                                                   unsigned hour = 0, unsigned minute = 0,
                                                   unsigned second = 0) noexcept {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 ||
      second > 60)
    return std::nullopt;
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned last = month == 2 && leap ? 29u : kDays[month - 1];
  if (day > last) return std::nullopt;
  // A leap second (ASN.1 allows :60) reads as the next second's start.
  const std::int64_t secs = days_from_civil(year, month, day) * 86400 +
                            static_cast<std::int64_t>(hour) * 3600 + minute * 60 + second;
  return TimePoint(std::chrono::seconds(secs));
}

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of X.509
// GeneralizedTime, and so of every instant edgecert stores or prints.
inline constexpr TimePoint kEarliestTime = TimePoint(std::chrono::seconds(-62135596800));
inline constexpr TimePoint kLatestTime = TimePoint(std::chrono::seconds(253402300799));

// `t` moved into kEarliestTime..kLatestTime.
constexpr TimePoint clamp_time(TimePoint t) noexcept {
  return t < kEarliestTime ? kEarliestTime : (t > kLatestTime ? kLatestTime : t);
}

// t + d (d may be negative) saturating at kEarliestTime/kLatestTime: renewal
// windows and backoffs near the end of time must not wrap to the past.
template <class Rep, class Period>
constexpr TimePoint add_saturating(TimePoint t, std::chrono::duration<Rep, Period> d) noexcept {
  using std::chrono::microseconds;
  const TimePoint c = clamp_time(t);
  // Anything longer than the whole representable range saturates outright,
  // before the cast to microseconds can overflow (compared as double seconds
  // so no integer conversion can wrap either).
  constexpr double kSpan = 253402300799.0 + 62135596800.0;
  const double secs = std::chrono::duration<double>(d).count();
  if (!(secs <= kSpan)) return secs < 0 ? kEarliestTime : kLatestTime;
  if (secs < -kSpan) return kEarliestTime;
  return clamp_time(c + std::chrono::duration_cast<microseconds>(d));
}
template <class Rep, class Period>
constexpr TimePoint sub_saturating(TimePoint t, std::chrono::duration<Rep, Period> d) noexcept {
  return add_saturating(t, -d);
}

// Seconds / milliseconds since the epoch as read from a file or the network:
// nullopt outside kEarliestTime..kLatestTime (so 1e300 or 2^63 never wraps).
constexpr std::optional<TimePoint> time_from_unix_seconds(std::int64_t s) noexcept {
  if (s < -62135596800 || s > 253402300799) return std::nullopt;
  return TimePoint(std::chrono::seconds(s));
}
constexpr std::optional<TimePoint> time_from_unix_millis(std::int64_t ms) noexcept {
  if (ms < -62135596800000 || ms > 253402300799999) return std::nullopt;
  return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace edgecert
