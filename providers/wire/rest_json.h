// The Expressway REST API's JSON bodies that the provider and the simulator
// both handle (the interface reference, §3.1 and §3.2): one definition, so
// both ends agree by construction.
//
// Decoders never throw; malformed input is an error naming the field. A body
// that is not JSON at all (an HTML login page) is kCorrupt saying so.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"
#include "providers/pki/types.h"

namespace edgecert::wire::rest {

// The HTTP reason phrase for a status ("Not Found", reference §3.1: error
// replies carry it); "" for a status this API does not use.
const char* reason_phrase(long status);

// `{"Message": "..."}`: every reply that is not a PEM document.
std::string format_message(std::string_view text);
// The Message of such a body; kCorrupt when the body is not JSON, not an
// object or has no string "Message".
Result<std::string> parse_message(std::string_view body);

// The body of `POST /api/provisioning/certs/generate_csr`. Field names as T1
// (py-expressway) sends them, plus edgecert's CommonName and
// PublicKeyAlgorithm [assumed].
struct GenerateCsrRequest {
  std::optional<std::string> common_name;     // "CommonName"; absent: the node's FQDN
  std::vector<std::string> additional_fqdns;  // "Additional_FQDNS"
  std::string country;                        // "Country"
  std::string province;                       // "Province"
  std::string locality;                       // "Locality"
  std::string organization;                   // "Organization"
  std::string organizational_unit;            // "OrganizationalUnit"
  std::string email;                          // "Email"
  pki::KeyAlgorithm public_key_algorithm = pki::KeyAlgorithm::kRsa;  // "PublicKeyAlgorithm"
  int key_length = 4096;                                             // "KeyLength"
  pki::Digest digest = pki::Digest::kSha256;                         // "DigestAlgorithm"
  friend bool operator==(const GenerateCsrRequest&, const GenerateCsrRequest&) = default;
};

// Always writes the T1 fields (empty strings included, as T1 does);
// CommonName only when set; PublicKeyAlgorithm only for ECDSA (RSA is the
// node's default, and a release without ECDSA support never sees the field).
// DigestAlgorithm is lower case ("sha256"), KeyLength a number.
std::string encode_generate_csr(const GenerateCsrRequest& request);
// kInvalidArgument (the node's 400) naming the field for: not a JSON object,
// KeyLength or DigestAlgorithm missing, a field of the wrong type, an unknown
// field, a PublicKeyAlgorithm other than RSA/ECDSA (any case), a KeyLength
// the algorithm does not have (RSA 2048/4096, ECDSA 256/384/521), a digest
// other than sha256/sha384/sha512 (any case), a Country that is set but not
// two letters.
Result<GenerateCsrRequest> decode_generate_csr(std::string_view body);

}  // namespace edgecert::wire::rest
