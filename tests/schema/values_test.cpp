#include <catch2/catch.hpp>

#include "schema/values.h"

using namespace std::chrono_literals;
using edgecert::schema::edit_distance;
using edgecert::schema::format_duration;
using edgecert::schema::parse_duration;
using edgecert::schema::parse_time_of_day;
using edgecert::schema::parse_weekday;
using edgecert::schema::suggest;

TEST_CASE("values: durations with one unit", "[schema][values]") {
  CHECK(parse_duration("30d") == std::chrono::seconds(30 * 86400));
  CHECK(parse_duration("4h") == std::chrono::seconds(4h));
  CHECK(parse_duration("10m") == std::chrono::seconds(10min));
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("0s") == 0s);
}

TEST_CASE("values: durations combining units, largest first", "[schema][values]") {
  CHECK(parse_duration("1h30m") == std::chrono::seconds(90min));
  CHECK(parse_duration("1d12h") == std::chrono::seconds(36h));
  CHECK(parse_duration("2d3h4m5s") == std::chrono::seconds(2 * 86400 + 3 * 3600 + 4 * 60 + 5));
}

TEST_CASE("values: malformed durations are rejected", "[schema][values]") {
  for (const char* bad : {"", "30", "d", "30 d", "30days", "1m1h", "1h1h", "-5m", "1.5h", "5w",
                          "h30", "30D", "99999999999d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("values: durations format back to the same syntax", "[schema][values]") {
  CHECK(format_duration(0s) == "0s");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(std::chrono::seconds(86400 + 5)) == "1d5s");
  CHECK(parse_duration(format_duration(std::chrono::seconds(123456))) ==
        std::chrono::seconds(123456));
}

TEST_CASE("values: times of day", "[schema][values]") {
  CHECK(parse_time_of_day("00:00") == 0);
  CHECK(parse_time_of_day("02:30") == 150);
  CHECK(parse_time_of_day("23:59") == 23 * 60 + 59);
  for (const char* bad :
       {"24:00", "12:60", "2:30", "02:3", "0230", "02-30", "", "ab:cd", " 02:30"}) {
    INFO(bad);
    CHECK_FALSE(parse_time_of_day(bad).has_value());
  }
}

TEST_CASE("values: weekdays use chrono's numbering", "[schema][values]") {
  CHECK(parse_weekday("sun") == 0u);
  CHECK(parse_weekday("mon") == 1u);
  CHECK(parse_weekday("sat") == 6u);
  CHECK(edgecert::schema::weekday_name(4) == std::string("thu"));
  for (const char* bad : {"Mon", "monday", "", "mo", "7"}) {
    INFO(bad);
    CHECK_FALSE(parse_weekday(bad).has_value());
  }
}

TEST_CASE("values: edit distance counts transpositions as one edit", "[schema][values]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("fdqn", "fqdn") == 1);
  CHECK(edit_distance("metdata", "metadata") == 1);
}

TEST_CASE("values: suggestions only for plausible typos", "[schema][values]") {
  std::vector<std::string> keys = {"product", "clusterFqdn", "peers", "serverCertificate"};
  CHECK(suggest("prodcut", keys) == std::optional<std::string>("product"));
  CHECK(suggest("clusterFQDN", keys) == std::optional<std::string>("clusterFqdn"));
  CHECK(suggest("peer", keys) == std::optional<std::string>("peers"));
  CHECK(suggest("serverCert", keys) == std::nullopt);
  CHECK(suggest("colour", keys) == std::nullopt);
  CHECK(suggest("x", {}) == std::nullopt);
}
