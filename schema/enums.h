// Spec enum spellings: one table per enum, in documentation order (the order
// error messages list them), and one parser over it.
//
// The spelling of each value lives once, in its spec::*_name function (plus
// domain_format_name below, which spec.h lacks); the value lists here only
// say which values exist and in what order. parse_enum returns nullopt for an
// unknown spelling: callers must report it, never fall back to a default.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schema/spec.h"

namespace edgecert::schema {

// "dns", "collab-edge-dns".
inline const char* domain_format_name(spec::DomainFormat f) {
  return f == spec::DomainFormat::kCollabEdgeDns ? "collab-edge-dns" : "dns";
}

inline const char* enum_name(spec::Product v) {
  return spec::product_name(v);
}
inline const char* enum_name(spec::TlsVerification v) {
  return spec::tls_verification_name(v);
}
inline const char* enum_name(spec::Role v) {
  return spec::role_name(v);
}
inline const char* enum_name(spec::KeyAlgorithm v) {
  return spec::key_algorithm_name(v);
}
inline const char* enum_name(spec::Digest v) {
  return spec::digest_name(v);
}
inline const char* enum_name(spec::DomainFormat v) {
  return domain_format_name(v);
}
inline const char* enum_name(spec::KeyRotation v) {
  return spec::key_rotation_name(v);
}
inline const char* enum_name(spec::AcmeMode v) {
  return spec::acme_mode_name(v);
}
inline const char* enum_name(spec::RevocationFallback v) {
  return spec::revocation_fallback_name(v);
}

// Every value of E, in documentation order. Specialised for each enum.
template <class E>
std::span<const E> enum_values();

#define EDGECERT_ENUM_VALUES(E, ...)              \
  template <>                                     \
  inline std::span<const E> enum_values<E>() {    \
    static constexpr E kValues[] = {__VA_ARGS__}; \
    return kValues;                               \
  }

EDGECERT_ENUM_VALUES(spec::Product, spec::Product::kExpresswayE, spec::Product::kExpresswayC)
EDGECERT_ENUM_VALUES(spec::TlsVerification, spec::TlsVerification::kEnforce,
                     spec::TlsVerification::kPermissive)
EDGECERT_ENUM_VALUES(spec::Role, spec::Role::kMra, spec::Role::kJabberGuest,
                     spec::Role::kXmppFederation, spec::Role::kB2b)
EDGECERT_ENUM_VALUES(spec::KeyAlgorithm, spec::KeyAlgorithm::kRsa, spec::KeyAlgorithm::kEcdsa)
EDGECERT_ENUM_VALUES(spec::Digest, spec::Digest::kSha256, spec::Digest::kSha384,
                     spec::Digest::kSha512)
EDGECERT_ENUM_VALUES(spec::DomainFormat, spec::DomainFormat::kDns,
                     spec::DomainFormat::kCollabEdgeDns)
EDGECERT_ENUM_VALUES(spec::KeyRotation, spec::KeyRotation::kRotate, spec::KeyRotation::kRetain)
EDGECERT_ENUM_VALUES(spec::AcmeMode, spec::AcmeMode::kDisabled, spec::AcmeMode::kManual,
                     spec::AcmeMode::kAutomated)
EDGECERT_ENUM_VALUES(spec::RevocationFallback, spec::RevocationFallback::kTreatAsNotRevoked,
                     spec::RevocationFallback::kTreatAsRevoked)

#undef EDGECERT_ENUM_VALUES

// The spellings of E's values, in documentation order.
template <class E>
std::vector<std::string> enum_spellings() {
  std::vector<std::string> out;
  for (E v : enum_values<E>()) out.emplace_back(enum_name(v));
  return out;
}

// The value spelled `text` (exact, case-sensitive); nullopt when none is.
template <class E>
std::optional<E> parse_enum(std::string_view text) {
  for (E v : enum_values<E>())
    if (text == enum_name(v)) return v;
  return std::nullopt;
}

}  // namespace edgecert::schema
