#include "providers/base/clock.h"

#include <catch2/catch.hpp>

#include <limits>

#include "providers/base/time.h"

using namespace edgecert;
using namespace std::chrono_literals;

TEST_CASE("clock: the latest X.509 date is representable and prints as itself", "[time]") {
  // system_clock on libstdc++ (64-bit nanoseconds) wraps this to 1816.
  CHECK(kLatestTime.time_since_epoch() == std::chrono::seconds(253402300799));
  CHECK(format_time(kLatestTime) == "9999-12-31 23:59:59 UTC");
  CHECK(format_time_iso(kLatestTime) == "9999-12-31T23:59:59Z");
  CHECK(format_date(kLatestTime) == "9999-12-31");
  CHECK(format_time(kEarliestTime) == "0001-01-01 00:00:00 UTC");
  CHECK(kLatestTime > Clock::now());
  CHECK(Clock::to_time_t(kLatestTime) == 253402300799);
  CHECK(Clock::from_time_t(253402300799) == kLatestTime);
}

TEST_CASE("clock: civil dates convert both ways for every year 0001..9999", "[time]") {
  CHECK(time_from_civil(1970, 1, 1) == TimePoint{});
  CHECK(time_from_civil(9999, 12, 31, 23, 59, 59) == kLatestTime);
  CHECK(time_from_civil(1, 1, 1) == kEarliestTime);
  CHECK(time_from_civil(1950, 1, 1) == Clock::from_time_t(-631152000));
  CHECK(time_from_civil(2050, 1, 1) == Clock::from_time_t(2524608000));
  for (int64_t year = 1; year <= 9999; year += 7) {
    for (unsigned month : {1u, 2u, 12u}) {
      auto t = time_from_civil(year, month, month == 2 ? 28 : 31, 13, 5, 9);
      REQUIRE(t);
      CivilTime c = civil_from_time(*t);
      CHECK(c.year == year);
      CHECK(c.month == month);
      CHECK(c.day == (month == 2 ? 28u : 31u));
      CHECK(c.hour == 13);
      CHECK(c.minute == 5);
      CHECK(c.second == 9);
    }
  }
  CHECK(format_time(*time_from_civil(1, 1, 1, 0, 0, 1)) == "0001-01-01 00:00:01 UTC");
  CHECK(format_date(*time_from_civil(999, 6, 30)) == "0999-06-30");
  // Out-of-range fields are refused, not normalised.
  CHECK_FALSE(time_from_civil(0, 1, 1));
  CHECK_FALSE(time_from_civil(10000, 1, 1));
  CHECK_FALSE(time_from_civil(2026, 13, 1));
  CHECK_FALSE(time_from_civil(2026, 2, 29));
  CHECK(time_from_civil(2024, 2, 29));
  CHECK_FALSE(time_from_civil(2100, 2, 29));
  CHECK(time_from_civil(2000, 2, 29));
  CHECK_FALSE(time_from_civil(2026, 1, 1, 24));
}

TEST_CASE("clock: durations near the ends of time saturate instead of wrapping", "[time]") {
  CHECK(add_saturating(kLatestTime, 30 * 24h) == kLatestTime);
  CHECK(add_saturating(kLatestTime - 1s, 1s) == kLatestTime);
  CHECK(sub_saturating(kLatestTime, 30 * 24h) == kLatestTime - 30 * 24h);
  CHECK(sub_saturating(kEarliestTime, 1s) == kEarliestTime);
  CHECK(add_saturating(TimePoint{}, std::chrono::seconds(std::numeric_limits<int64_t>::max())) ==
        kLatestTime);
  CHECK(add_saturating(TimePoint{}, std::chrono::hours(std::numeric_limits<int64_t>::max())) ==
        kLatestTime);
  CHECK(add_saturating(TimePoint{}, std::chrono::hours(std::numeric_limits<int64_t>::min())) ==
        kEarliestTime);
  CHECK(add_saturating(TimePoint{}, 1500ms) == TimePoint(1500ms));
}

TEST_CASE("clock: epoch numbers from outside are range-checked", "[time]") {
  CHECK(time_from_unix_seconds(253402300799) == kLatestTime);
  CHECK_FALSE(time_from_unix_seconds(253402300800));
  CHECK_FALSE(time_from_unix_seconds(std::numeric_limits<int64_t>::max()));
  CHECK_FALSE(time_from_unix_seconds(std::numeric_limits<int64_t>::min()));
  CHECK(time_from_unix_millis(253402300799999) == kLatestTime + 999ms);
  CHECK_FALSE(time_from_unix_millis(253402300800000));
  CHECK_FALSE(time_from_unix_millis(std::numeric_limits<int64_t>::max()));
}

TEST_CASE("time: openssl index.txt times outside 1950..2049 use four-digit years", "[time]") {
  // What `openssl ca` writes for a certificate valid to 9999 or from 1949.
  CHECK(format_openssl_index_time(kLatestTime) == "99991231235959Z");
  CHECK(parse_openssl_index_time("99991231235959Z") == kLatestTime);
  CHECK(parse_openssl_index_time("99991231235959Z,keyCompromise") == kLatestTime);
  CHECK(format_openssl_index_time(*time_from_civil(1949, 12, 31, 23, 59, 59)) == "19491231235959Z");
  CHECK(format_openssl_index_time(*time_from_civil(1950, 1, 1)) == "500101000000Z");
  CHECK(parse_openssl_index_time("500101000000Z") == time_from_civil(1950, 1, 1));
  CHECK(format_openssl_index_time(*time_from_civil(2050, 1, 1)) == "20500101000000Z");
  CHECK(parse_openssl_index_time("20500101000000Z") == time_from_civil(2050, 1, 1));
  CHECK(parse_openssl_index_time("261399000000Z") == TimePoint{});  // month 13
}
