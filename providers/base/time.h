// Time points as edgecert prints and stores them, and the time zones it
// accepts. One function per format, so every command, plan, journal,
// simulator and CA file prints the same instant the same way.
//
// libstdc++ 12 has no std::chrono time-zone database, so zone-local times go
// through the C library (TZ + localtime_r/mktime) under one process-wide lock:
// every zone-local conversion in the process must use the functions here.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "providers/base/env.h"

namespace edgecert {

// The format_* functions print every instant from 0001-01-01 to 9999-12-31
// (four-digit years, calendar arithmetic rather than time_t), and instants
// outside that range as its nearest end.
//
// "2026-11-27 13:00:00 UTC": for people (plan text, status, check messages).
std::string format_time(TimePoint t);
// "2026-11-27T13:00:00Z" (RFC 3339, UTC, whole seconds): for files and JSON.
std::string format_time_iso(TimePoint t);
// "0.4s", "9.9s", "41s": how long a step took, for progress lines.
std::string format_elapsed(std::chrono::milliseconds d);
// "2026-11-27" (UTC): a date alone, where the time of day is noise.
std::string format_date(TimePoint t);

// The inverses of format_time and format_time_iso: exactly the text they
// print ("2026-11-27 13:00:00 UTC", "2026-11-27T13:00:00Z"), digits where
// digits go. nullopt for any other text or an impossible date (month 13,
// February 30, second 60: edgecert never writes a leap second), so a
// hand-edited file cannot smuggle in an instant that would print differently.
std::optional<TimePoint> parse_time(std::string_view s);
std::optional<TimePoint> parse_time_iso(std::string_view s);
// An RFC 3339 date-time as a server sends it (ACME renewalInfo, RFC 9773):
// "2026-01-02T03:04:05Z", 't' or ' ' also separating date and time, a
// fraction of a second (dropped), "Z"/"z" or a "+hh:mm"/"-hh:mm" offset.
// nullopt for any other text or an impossible date or offset; a second 60
// (RFC 3339 allows a leap second) reads as the next second's start. The
// instant is converted to UTC, saturating at kEarliestTime/kLatestTime.
std::optional<TimePoint> parse_rfc3339(std::string_view s);

// openssl ca's index.txt time "261127130000Z" (YYMMDDHHMMSSZ, UTC) for 1950..2049,
// "99991231235959Z" (YYYYMMDDHHMMSSZ) outside that range, as openssl ca writes.
std::string format_openssl_index_time(TimePoint t);
// The inverse, for either form (two-digit years 50-99 are 19xx, as in RFC
// 5280's UTCTime); the epoch for text that is not one.
TimePoint parse_openssl_index_time(std::string_view s);

// Whether `zone` names an IANA time zone: "UTC" (which the C library knows
// without a file), or a path-like name ("Asia/Tokyo") that stays inside
// /usr/share/zoneinfo and whose file there, read through `env`, is a TZif
// file.
bool is_known_time_zone(Env& env, std::string_view zone);

// "2026-11-28T01:00:00+0900 (Asia/Tokyo)": `t` in `zone` (an IANA name; an
// unknown one reads as UTC, the C library's fallback).
std::string format_in_zone(TimePoint t, const std::string& zone);
// The calendar fields of `t` in `zone`.
std::tm local_time_in_zone(TimePoint t, const std::string& zone);
// The instant at which `zone`'s clocks show `local` (tm_isdst -1: the zone
// decides). Normalises `local` the way mktime does (out-of-range fields
// carried, tm_wday and tm_yday set); nullopt when it cannot be represented.
std::optional<TimePoint> time_from_local_in_zone(std::tm& local, const std::string& zone);

}  // namespace edgecert
