// Retry-After as the ACME client reads it (issue 16): numbers and HTTP-dates
// from the server are capped at kMaxRetryAfter, never overflow a duration.
#include "providers/acme/acme_wire.h"

#include <catch2/catch.hpp>

#include "providers/base/time.h"

using namespace edgecert;
using namespace edgecert::acme;
using namespace std::chrono_literals;
using edgecert::acme::wire::kMaxRetryAfter;

namespace {

http::Response with_headers(std::vector<std::pair<std::string, std::string>> headers) {
  http::Response r;
  r.status = 503;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST_CASE("Retry-After: delay-seconds are read and capped at 31 days", "[acme][time]") {
  CHECK(kMaxRetryAfter == 31 * 24h);
  CHECK(wire::retry_after(with_headers({{"retry-after", "120"}})) == 120s);
  CHECK(wire::retry_after(with_headers({{"retry-after", "0"}})) == 0s);
  CHECK(wire::retry_after(with_headers({{"retry-after", "2678400"}})) == kMaxRetryAfter);
  CHECK(wire::retry_after(with_headers({{"retry-after", "2678401"}})) == kMaxRetryAfter);
  // Past int64 (std::stoll would throw) and past what milliseconds can hold.
  CHECK(wire::retry_after(with_headers({{"retry-after", "9223372036854775807"}})) ==
        kMaxRetryAfter);
  CHECK(wire::retry_after(with_headers({{"retry-after", std::string(400, '9')}})) ==
        kMaxRetryAfter);
  CHECK_FALSE(wire::retry_after(with_headers({})));
  CHECK_FALSE(wire::retry_after(with_headers({{"retry-after", "-5"}})));
  CHECK_FALSE(wire::retry_after(with_headers({{"retry-after", "1e300"}})));
  CHECK_FALSE(wire::retry_after(with_headers({{"retry-after", "soon"}})));
}

TEST_CASE("Retry-After: an HTTP-date is relative to Date, else to now, and capped",
          "[acme][time]") {
  const TimePoint now = *time_from_civil(2027, 1, 1);
  CHECK(wire::parse_http_date("Fri, 01 Jan 2027 00:00:00 GMT") == now);
  CHECK(wire::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT") == kLatestTime);
  CHECK_FALSE(wire::parse_http_date("Fri, 31 Feb 2027 00:00:00 GMT"));
  CHECK_FALSE(wire::parse_http_date("Fri, 01 Foo 2027 00:00:00 GMT"));
  CHECK_FALSE(wire::parse_http_date("Friday, 01-Jan-27 00:00:00 GMT"));

  // Relative to our clock when the response has no Date.
  CHECK(wire::retry_after(with_headers({{"retry-after", "Fri, 01 Jan 2027 00:02:00 GMT"}}), now) ==
        120s);
  // Relative to the server's Date when there is one (its clock, not ours).
  CHECK(wire::retry_after(with_headers({{"date", "Fri, 01 Jan 2027 00:10:00 GMT"},
                                        {"retry-after", "Fri, 01 Jan 2027 00:10:30 GMT"}}),
                          now) == 30s);
  // Already past: retry now.
  CHECK(wire::retry_after(with_headers({{"retry-after", "Thu, 31 Dec 2026 00:00:00 GMT"}}), now) ==
        0s);
  // The end of time is capped, not a wrapped negative.
  CHECK(wire::retry_after(with_headers({{"retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"}}), now) ==
        kMaxRetryAfter);
  // Without any reference an HTTP-date says nothing usable.
  CHECK_FALSE(wire::retry_after(with_headers({{"retry-after", "Fri, 01 Jan 2027 00:02:00 GMT"}})));
}
