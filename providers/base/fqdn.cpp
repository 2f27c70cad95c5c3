#include "providers/base/fqdn.h"

#include <arpa/inet.h>

#include <fmt/core.h>

namespace edgecert {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool looks_like_ip_address(std::string_view s) {
  std::string str(s);
  if (!str.empty() && str.front() == '[' && str.back() == ']') str = str.substr(1, str.size() - 2);
  unsigned char buf[16];
  return inet_pton(AF_INET, str.c_str(), buf) == 1 || inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

FqdnProblem check_fqdn(std::string_view name) {
  if (name.empty()) return FqdnProblem::kEmpty;
  if (name.find('*') != std::string_view::npos) return FqdnProblem::kWildcard;
  if (looks_like_ip_address(name)) return FqdnProblem::kIpAddress;
  if (name.size() > 253) return FqdnProblem::kTooLong;
  size_t labels = 0;
  std::string_view last;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return FqdnProblem::kEmptyLabel;
    if (label.size() > 63) return FqdnProblem::kLabelTooLong;
    for (char c : label)
      if (!is_alpha(c) && !is_digit(c) && c != '-') return FqdnProblem::kBadCharacter;
    if (label.front() == '-' || label.back() == '-') return FqdnProblem::kHyphenAtLabelEdge;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2) return FqdnProblem::kSingleLabel;
  if (!is_alpha(last.front())) return FqdnProblem::kLastLabelNotLetter;
  return FqdnProblem::kOk;
}

std::string describe_fqdn_problem(std::string_view name, FqdnProblem problem) {
  auto bad_label = [&](auto pred) -> std::string {
    size_t start = 0;
    while (start <= name.size()) {
      size_t dot = name.find('.', start);
      std::string_view label =
          name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (pred(label)) return std::string(label);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return "";
  };
  std::string why;
  switch (problem) {
    case FqdnProblem::kOk:
      return "";
    case FqdnProblem::kEmpty:
      return "an empty name is not a valid FQDN";
    case FqdnProblem::kWildcard:
      why = "wildcard names are not supported by Expressway";
      break;
    case FqdnProblem::kIpAddress:
      why = "an IP address is not allowed here; Expressway requires a valid FQDN";
      break;
    case FqdnProblem::kTooLong:
      why = fmt::format("it is {} characters long (at most 253)", name.size());
      break;
    case FqdnProblem::kEmptyLabel:
      why = "it has an empty label";
      break;
    case FqdnProblem::kLabelTooLong:
      why = fmt::format("label '{}' is longer than 63 characters",
                        bad_label([](std::string_view l) { return l.size() > 63; }));
      break;
    case FqdnProblem::kBadCharacter:
      why = fmt::format("label '{}' has a character other than letters, digits and hyphens",
                        bad_label([](std::string_view l) {
                          for (char c : l)
                            if (!is_alpha(c) && !is_digit(c) && c != '-') return true;
                          return false;
                        }));
      break;
    case FqdnProblem::kHyphenAtLabelEdge:
      why =
          fmt::format("label '{}' starts or ends with a hyphen", bad_label([](std::string_view l) {
                        return !l.empty() && (l.front() == '-' || l.back() == '-');
                      }));
      break;
    case FqdnProblem::kSingleLabel:
      why = "it is a bare host name (an FQDN needs at least two labels)";
      break;
    case FqdnProblem::kLastLabelNotLetter:
      why = "its last label does not start with a letter";
      break;
  }
  return fmt::format("'{}' is not a valid FQDN: {}", name, why);
}

}  // namespace edgecert
