// Scalar value syntaxes of the spec (durations, times of day, weekdays) and
// the "did you mean" helper. Pure functions: the decoder and its unit tests
// share them, and the JSON Schema patterns in schema/edgecert.schema.json
// describe the same syntaxes (tests/scripts/schema_agreement_test.sh checks
// that the two agree on the corpus).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/spec.h"

namespace edgecert::schema {

// "30d", "4h", "10m", "90s" and descending combinations such as "1h30m" or
// "1d12h". Each unit at most once, in d-h-m-s order; no sign, no spaces, no
// fractions. Zero ("0s") parses; callers decide whether zero is allowed.
// nullopt on bad syntax or overflow (more than ~68 years).
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Renders a duration in the same syntax, largest units first ("1h30m", "0s").
std::string format_duration(std::chrono::seconds d);

// "HH:MM", 00:00..23:59, exactly two digits each. Minutes after midnight.
std::optional<int> parse_time_of_day(std::string_view text);

// Minutes after midnight as "HH:MM" (how the spec writes a time of day).
std::string format_time_of_day(int minutes);

// "mon".."sun" (lower case) -> 0 = Sunday .. 6 = Saturday.
std::optional<spec::Weekday> parse_weekday(std::string_view text);
const char* weekday_name(spec::Weekday day);

// Edit distance: insert, delete, substitute and swap of two adjacent
// characters each cost 1 (optimal string alignment).
size_t edit_distance(std::string_view a, std::string_view b);

inline constexpr size_t kMaxSuggestedWordBytes = 100;

// The candidate closest to `word` when it is close enough to be a plausible
// typo (distance <= max(1, len/3), compared case-insensitively); else nullopt.
// Words longer than kMaxSuggestedWordBytes get none.
std::optional<std::string> suggest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace edgecert::schema
