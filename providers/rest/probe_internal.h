// INTERNAL to the probe (probe.cpp, probe_support.cpp): string helpers
// both halves use.
#pragma once

#include <string_view>

namespace edgecert::rest::probe_detail {

// ASCII case-insensitive equality (the CLI's keywords, product names).
bool iequals(std::string_view a, std::string_view b);
// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);

}  // namespace edgecert::rest::probe_detail
