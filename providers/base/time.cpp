#include "providers/base/time.h"

#include <ctime>

namespace edgecert {
namespace {

std::string format_utc(TimePoint t, const char* format) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string format_time(TimePoint t) { return format_utc(t, "%Y-%m-%d %H:%M:%S UTC"); }

std::string format_time_iso(TimePoint t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace edgecert
