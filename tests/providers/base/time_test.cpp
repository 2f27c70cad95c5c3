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
