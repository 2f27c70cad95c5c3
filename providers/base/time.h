// Time points as edgecert prints and stores them. One formatter per format,
// so every command, plan, journal and simulator prints the same instant the
// same way.
#pragma once

#include <string>

#include "providers/base/env.h"

namespace edgecert {

// "2026-11-27 13:00:00 UTC": for people (plan text, status, check messages).
std::string format_time(TimePoint t);
// "2026-11-27T13:00:00Z" (RFC 3339, UTC, whole seconds): for files and JSON.
std::string format_time_iso(TimePoint t);

}  // namespace edgecert
