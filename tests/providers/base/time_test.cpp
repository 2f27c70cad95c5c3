#include "providers/base/time.h"

#include <catch2/catch.hpp>

#include "providers/base/env.h"

using namespace edgecert;

namespace {

// 2026-11-27 13:05:09 UTC.
TimePoint instant() {
  return Clock::from_time_t(1795784709);
}

}  // namespace

TEST_CASE("time: every format of one instant is UTC", "[time]") {
  CHECK(format_time(instant()) == "2026-11-27 13:05:09 UTC");
  CHECK(format_time_iso(instant()) == "2026-11-27T13:05:09Z");
  CHECK(format_date(instant()) == "2026-11-27");
  CHECK(format_openssl_index_time(instant()) == "261127130509Z");
}

TEST_CASE("time: openssl index.txt times read back", "[time]") {
  CHECK(parse_openssl_index_time(format_openssl_index_time(instant())) == instant());
  // Revocation entries carry ",reason" after the time.
  CHECK(parse_openssl_index_time("261127130509Z,superseded") == instant());
  CHECK(parse_openssl_index_time("991231235959Z") == Clock::from_time_t(946684799));
  CHECK(parse_openssl_index_time("") == TimePoint{});
  CHECK(parse_openssl_index_time("26112713x509Z") == TimePoint{});
}

TEST_CASE("time: known time zones", "[time]") {
  MemoryEnv env;
  env.put("/usr/share/zoneinfo/Asia/Tokyo", "TZif2...");
  env.put("/usr/share/zoneinfo/Fake/Zone", "not a zone file");
  env.put("/etc/TZif", "TZif2...");
  CHECK(is_known_time_zone(env, "UTC"));  // the C library needs no file for it
  CHECK(is_known_time_zone(env, "Asia/Tokyo"));
  CHECK_FALSE(is_known_time_zone(env, "Fake/Zone"));
  CHECK_FALSE(is_known_time_zone(env, "Europe/Nowhere"));
  CHECK_FALSE(is_known_time_zone(env, "../../etc/TZif"));
  CHECK_FALSE(is_known_time_zone(env, "/etc/TZif"));
  CHECK_FALSE(is_known_time_zone(env, ""));
}

TEST_CASE("time: zone-local times through the C library", "[time]") {
  if (!is_known_time_zone(default_env(), "Asia/Tokyo")) {
    WARN("tzdata not installed: skipped");
    return;
  }
  CHECK(format_in_zone(instant(), "Asia/Tokyo") == "2026-11-27T22:05:09+0900 (Asia/Tokyo)");
  CHECK(format_in_zone(instant(), "UTC") == "2026-11-27T13:05:09+0000 (UTC)");
  std::tm local = local_time_in_zone(instant(), "Asia/Tokyo");
  CHECK(local.tm_hour == 22);
  local.tm_mday += 1;  // carried by the conversion back
  local.tm_isdst = -1;
  auto back = time_from_local_in_zone(local, "Asia/Tokyo");
  REQUIRE(back);
  CHECK(*back == instant() + std::chrono::hours(24));
  CHECK(local.tm_wday == 6);  // 2026-11-28 is a Saturday
}

TEST_CASE("time: parse_time and parse_time_iso read back what format_time prints", "[time]") {
  for (TimePoint t : {instant(), TimePoint{}, kEarliestTime, kLatestTime}) {
    CHECK(parse_time(format_time(t)) == t);
    CHECK(parse_time_iso(format_time_iso(t)) == t);
  }
  // Exactly the printed shape: no other separator, zone, width or fraction.
  for (const char* bad :
       {"", "2026-11-27 13:05:09", "2026-11-27T13:05:09Z", "2026-11-27 13:05:09 utc",
        "2026-11-27 13:05:09 UTC ", " 2026-11-27 13:05:09 UTC", "26-11-27 13:05:09 UTC",
        "2026-11-27 13:05:9 UTC", "+026-11-27 13:05:09 UTC", "2026-11-27 13:05:09.5 UTC"})
    CHECK_FALSE(parse_time(bad));
  for (const char* bad :
       {"", "2026-11-27 13:05:09 UTC", "2026-11-27T13:05:09", "2026-11-27t13:05:09Z",
        "2026-11-27T13:05:09z", "2026-11-27T13:05:09+00:00", "2026-11-27T13:05:09.0Z",
        "2026-11-27T13:05:09ZZ"})
    CHECK_FALSE(parse_time_iso(bad));
  // Impossible dates, and the leap second edgecert never writes.
  for (const char* bad : {"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2016-12-31T23:59:60Z"})
    CHECK_FALSE(parse_time_iso(bad));
  CHECK(parse_time_iso("2024-02-29T00:00:00Z"));
}

TEST_CASE("time: parse_rfc3339 reads what servers send", "[time]") {
  CHECK(parse_rfc3339("2026-11-27T13:05:09Z") == instant());
  CHECK(parse_rfc3339("2026-11-27t13:05:09z") == instant());
  CHECK(parse_rfc3339("2026-11-27 13:05:09Z") == instant());
  // The fraction is dropped; offsets convert to UTC.
  CHECK(parse_rfc3339("2026-11-27T13:05:09.999999Z") == instant());
  CHECK(parse_rfc3339("2026-11-27T22:05:09+09:00") == instant());
  CHECK(parse_rfc3339("2026-11-27T08:35:09-04:30") == instant());
  // A leap second reads as the next second's start.
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z"));
  // Saturates at the ends of time rather than wrapping.
  CHECK(parse_rfc3339("9999-12-31T23:59:59-23:59") == kLatestTime);
  CHECK(parse_rfc3339("0001-01-01T00:00:00+23:59") == kEarliestTime);
  for (const char* bad :
       {"", "2026-11-27", "2026-11-27T13:05:09", "2026-11-27T13:05:09.Z",
        "2026-11-27T13:05:09+9:00", "2026-11-27T13:05:09+09:0", "2026-11-27T13:05:09+24:00",
        "2026-11-27T13:05:09+09:60", "2026-11-27T13:05:09+09:00:00", "2026-11-27X13:05:09Z",
        " 2026-11-27T13:05:09Z", "+2026-11-27T13:05:09Z", "2026-1-27T13:05:09Z",
        "2026-13-27T13:05:09Z", "2026-11-27T13:05:61Z", "2026-11-27T13:05:09Z ",
        "2026-11-27T13:05:09UTC"})
    CHECK_FALSE(parse_rfc3339(bad));
}
