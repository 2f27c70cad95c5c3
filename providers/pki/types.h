// Value types pki owns: the key algorithm, the digest, the subject's name
// fields and the RFC 5280 revocation reason. Higher layers (the spec model,
// issuers, nodes) use these types rather than defining their own, so there is
// one enum per concept and one table of its spellings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/base/enum_table.h"

namespace edgecert::pki {

enum class KeyAlgorithm { kRsa, kEcdsa };
inline constexpr EnumTable<KeyAlgorithm, 2> kKeyAlgorithmNames{{
    {KeyAlgorithm::kRsa, "rsa"},
    {KeyAlgorithm::kEcdsa, "ecdsa"},
}};
const char* key_algorithm_name(KeyAlgorithm a);  // "rsa", "ecdsa"
// "RSA 4096", "ECDSA P-256": how plans and reasons name a key.
std::string key_display_name(KeyAlgorithm a, int size);

// The digest a CSR (or a certificate this project signs) is signed with.
enum class Digest { kSha256, kSha384, kSha512 };
inline constexpr EnumTable<Digest, 3> kDigestNames{{
    {Digest::kSha256, "sha256"},
    {Digest::kSha384, "sha384"},
    {Digest::kSha512, "sha512"},
}};
const char* digest_name(Digest d);  // "sha256"

// The subject's name fields other than the common name (which is always the
// cluster FQDN and is passed separately). Empty = not set.
struct SubjectFields {
  std::string country;  // 2 letters when set
  std::string state;
  std::string locality;
  std::string organization;
  std::string organizational_unit;
  std::string email;  // emailAddress, written after the CN like Expressway's CSRs
  friend bool operator==(const SubjectFields&, const SubjectFields&) = default;
};

// RFC 5280 CRLReason codes edgecert uses; the values are the wire codes (ACME
// revokeCert "reason", the node's revoke command, `openssl ca -crl_reason`).
enum class RevocationReason {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
};
// The spellings are RFC 5280's ASN.1 names, as `openssl ca -crl_reason` and
// index.txt use them.
inline constexpr EnumTable<RevocationReason, 5> kRevocationReasonNames{{
    {RevocationReason::kUnspecified, "unspecified"},
    {RevocationReason::kKeyCompromise, "keyCompromise"},
    {RevocationReason::kAffiliationChanged, "affiliationChanged"},
    {RevocationReason::kSuperseded, "superseded"},
    {RevocationReason::kCessationOfOperation, "cessationOfOperation"},
}};
const char* revocation_reason_name(RevocationReason r);  // "superseded", ...
// Accepts the RFC names ("keyCompromise") and the command line's kebab-case
// ("key-compromise"); nullopt for anything else.
std::optional<RevocationReason> parse_revocation_reason(std::string_view s);
// The reason for a wire code; nullopt for a code edgecert does not use.
std::optional<RevocationReason> revocation_reason_from_code(int code);

}  // namespace edgecert::pki
