// Spec enum spellings: one table per enum, in documentation order (the order
// error messages list them), and one parser over it.
//
// The spelling of each value lives once, in the enum's EnumTable (schema/spec.h,
// providers/pki/types.h); this header only adapts the tables to the decoder. parse_enum returns
// nullopt for an unknown spelling: callers must report it, never fall back to a default.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "schema/spec.h"

namespace edgecert::schema {

// Every value of E, in documentation order. Specialised for each enum.
template <class E>
std::span<const E> enum_values();

// enum_name(E) and enum_values<E>() of a spec enum, both from its one table
// in schema/spec.h or providers/pki/types.h.
#define EDGECERT_ENUM_TABLE(E, TABLE)                                        \
  inline const char* enum_name(E v) {                                        \
    return ::edgecert::enum_name(TABLE, v).data();                           \
  }                                                                          \
  template <>                                                                \
  inline std::span<const E> enum_values<E>() {                               \
    static const auto kValues = [] {                                         \
      std::array<E, std::tuple_size_v<decltype(TABLE)>> values{};            \
      for (size_t i = 0; i < values.size(); ++i) values[i] = TABLE[i].value; \
      return values;                                                         \
    }();                                                                     \
    return kValues;                                                          \
  }

EDGECERT_ENUM_TABLE(spec::Product, spec::kProductNames)
EDGECERT_ENUM_TABLE(spec::TlsVerification, spec::kTlsVerificationNames)
EDGECERT_ENUM_TABLE(spec::Role, spec::kRoleNames)
EDGECERT_ENUM_TABLE(spec::KeyAlgorithm, pki::kKeyAlgorithmNames)
EDGECERT_ENUM_TABLE(spec::Digest, pki::kDigestNames)
EDGECERT_ENUM_TABLE(spec::DomainFormat, spec::kDomainFormatNames)
EDGECERT_ENUM_TABLE(spec::KeyRotation, spec::kKeyRotationNames)
EDGECERT_ENUM_TABLE(spec::AcmeMode, spec::kAcmeModeNames)
EDGECERT_ENUM_TABLE(spec::ExtendedKeyUsage, spec::kExtendedKeyUsageNames)
EDGECERT_ENUM_TABLE(spec::RevocationFallback, spec::kRevocationFallbackNames)
EDGECERT_ENUM_TABLE(spec::Interface, spec::kInterfaceNames)

#undef EDGECERT_ENUM_TABLE

// "dns", "collab-edge-dns".
inline const char* domain_format_name(spec::DomainFormat f) {
  return enum_name(f);
}

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
