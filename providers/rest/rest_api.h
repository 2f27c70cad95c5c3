// The REST paths the https:// provider and edgecert-sim share (all
// Cisco-documented: docs/expressway-interfaces.md), the status mapping of
// edgecert-sim's errors, and the certrevokecheck body, the REST alternative
// to the CLI (encode_revocation/decode_revocation: the CLI's five leaves as
// JSON, [assumed]).
//
// No codec here ever encodes a private key.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "providers/base/error.h"
#include "providers/node/node.h"
#include "providers/pki/types.h"

namespace edgecert::rest {

// [cisco] GET chain PEM / POST multipart `file` (+ edgecert's `key`).
inline constexpr const char* kServerCertPath = "/api/provisioning/certs/server";
// [cisco] GET trusted CA bundle PEM / POST multipart `file` (append).
inline constexpr const char* kRootCertsPath = "/api/provisioning/certs/root";
// [cisco] GET pending CSR PEM or 404 / POST JSON (generate).
inline constexpr const char* kGenerateCsrPath = "/api/provisioning/certs/generate_csr";
// [cisco] POST restart (X-CSRF-Header since X14.2).
inline constexpr const char* kRestartPath = "/api/provisioning/restart";
// [cisco] GET/PUT SIP TLS revocation checking.
inline constexpr const char* kRevocationPath =
    "/api/provisioning/common/protocol/sip/certrevokecheck";
// [cisco] POST sign the pending CSR with the ACME provider (creates the
// pending cert). GET (pending chain PEM or 404) and DELETE (discard) are
// edgecert's reading of the CLI's "ACME Get|Delete Pending Cert".
inline constexpr const char* kAcmePendingCertPath = "/api/provisioning/certs/acme/pendingcert";
// [cisco] POST deploy the pending ACME certificate.
inline constexpr const char* kAcmeDeployPath = "/api/provisioning/certs/acme/pendingcert/deploy";

// The header the appliance requires on state-changing requests (any value).
inline constexpr const char* kCsrfHeader = "X-CSRF-Header";

// Error category -> HTTP status (the simulator's documented mapping).
int status_for(ErrorCode code);
// The "Message" of a JSON error body; the body itself (trimmed, bounded)
// when it is not one.
std::string message_of(std::string_view body);

// The REST alternative to the CLI's SIP TLS revocation checking leaves
// (`GET`/`PUT .../certrevokecheck`, [assumed]: the five leaves as JSON
// On/Off/Ignore/Fail). decode_revocation is kCorrupt naming the field.
nlohmann::json encode_revocation(const spec::RevocationChecking& settings);
Result<spec::RevocationChecking> decode_revocation(std::string_view body);

}  // namespace edgecert::rest
