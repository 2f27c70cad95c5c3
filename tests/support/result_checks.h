// Catch2 checks on Result<T> / Status values that print the error's code and
// message when they fail.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "providers/base/error.h"

namespace edgecert::testing {

// Fails the test (with `what`, the code and the message) unless `r` holds a value.
template <class R>
void require_ok(const R& r, const std::string& what) {
  if (!r) FAIL(what << ": " << error_code_name(r.error().code) << ": " << r.error().message);
}

// Requires an error, and checks its code and that its message contains `needle`.
template <class R>
void require_error(const R& r, ErrorCode code, const std::string& needle) {
  REQUIRE_FALSE(r.has_value());
  INFO("error: " << error_code_name(r.error().code) << ": " << r.error().message);
  CHECK(r.error().code == code);
  CHECK(r.error().message.find(needle) != std::string::npos);
}

}  // namespace edgecert::testing
