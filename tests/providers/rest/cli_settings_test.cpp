// The RenewalSchedule JSON a node's CLI reply carries (issue 16): a time of
// day from the wire is exactly HH:MM in range, never overflowing or negative.
#include "providers/rest/cli_settings.h"

#include <catch2/catch.hpp>

using edgecert::ErrorCode;
using edgecert::rest::detail::schedule_from_json;

TEST_CASE("rest: RenewalSchedule TimeOfDay is range-checked, naming the field", "[rest][utf8]") {
  auto ok = schedule_from_json(R"({"DaysOfWeek":["Mon","thu"],"TimeOfDay":"23:59"})");
  REQUIRE(ok);
  CHECK(ok->minute_of_day == 23 * 60 + 59);
  CHECK(ok->days.size() == 2);
  for (std::string t : {"99999999:0", "-1:-1", "24:00", "4:30", "04:60", "+4:30", "04:30 "}) {
    INFO(t);
    auto r = schedule_from_json(R"({"DaysOfWeek":["Mon"],"TimeOfDay":")" + t + R"("})");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    CHECK(r.error().message == "TimeOfDay '" + t + "' is not HH:MM");
  }
  // A reply that is not UTF-8 is not JSON: refused, nothing thrown.
  auto bytes = schedule_from_json("{\"DaysOfWeek\":[\"Mon\"],\"TimeOfDay\":\"04:\xFF\"}");
  REQUIRE_FALSE(bytes);
  CHECK(bytes.error().code == ErrorCode::kCorrupt);
}
