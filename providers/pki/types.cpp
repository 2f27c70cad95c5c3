#include "providers/pki/types.h"

#include <cctype>

#include <fmt/core.h>

namespace edgecert::pki {
namespace {

// "key-compromise", "key_compromise" and "keyCompromise" are one reason: the
// command line takes kebab-case, files take the RFC's camelCase.
std::string fold_reason(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* key_algorithm_name(KeyAlgorithm a) {
  return enum_name(kKeyAlgorithmNames, a).data();
}

std::string key_display_name(KeyAlgorithm a, int size) {
  return a == KeyAlgorithm::kRsa ? fmt::format("RSA {}", size) : fmt::format("ECDSA P-{}", size);
}

const char* digest_name(Digest d) {
  return enum_name(kDigestNames, d).data();
}

const char* revocation_reason_name(RevocationReason r) {
  return enum_name(kRevocationReasonNames, r).data();
}

std::optional<RevocationReason> parse_revocation_reason(std::string_view s) {
  for (const auto& e : kRevocationReasonNames)
    if (fold_reason(e.name) == fold_reason(s)) return e.value;
  return std::nullopt;
}

std::optional<RevocationReason> revocation_reason_from_code(int code) {
  for (const auto& e : kRevocationReasonNames)
    if (static_cast<int>(e.value) == code) return e.value;
  return std::nullopt;
}

}  // namespace edgecert::pki
