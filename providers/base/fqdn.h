// Host-name rules shared by spec validation, SAN derivation and certificate
// checks. The Expressway FQDN rule (certificate guide ch.3 note): labels of
// letters, digits and hyphens separated by dots; no label starts or ends with a
// hyphen; labels 1..63 octets, the whole name at most 253; at least two labels;
// the last label starts with a letter. Wildcards and IP addresses are never
// valid (the appliance rejects both).
#pragma once

#include <string>
#include <string_view>

namespace edgecert {

enum class FqdnProblem {
  kOk,
  kEmpty,
  kWildcard,
  kIpAddress,
  kTooLong,       // > 253
  kEmptyLabel,    // "a..b", leading or trailing dot
  kLabelTooLong,  // > 63
  kBadCharacter,  // not [A-Za-z0-9-]
  kHyphenAtLabelEdge,
  kSingleLabel,
  kLastLabelNotLetter,
};

// A trailing dot (absolute form) is not accepted: certificates never carry it.
FqdnProblem check_fqdn(std::string_view name);
inline bool is_valid_fqdn(std::string_view name) {
  return check_fqdn(name) == FqdnProblem::kOk;
}

// "'edge_1.example.com' is not a valid FQDN: label 'edge_1' has a character
// other than letters, digits and hyphens"
std::string describe_fqdn_problem(std::string_view name, FqdnProblem problem);

// ASCII lower-casing for case-insensitive name comparison (DNS names are ASCII).
std::string to_lower_ascii(std::string_view s);

bool looks_like_ip_address(std::string_view s);

}  // namespace edgecert
