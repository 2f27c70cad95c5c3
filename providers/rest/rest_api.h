// The JSON shapes of the REST API as the OLD https:// provider spoke it,
// kept only for edgecert-sim's legacy routes
// (providers/simserver/sim_server_routes_legacy.cpp) until the lead removes
// them. The https:// provider (rest_provider.h) uses from here only the
// certrevokecheck body (encode_revocation/decode_revocation: the CLI's five
// leaves as JSON [assumed], the REST alternative to the CLI); everything under
// kEdgecertPrefix is edgecert's invention and no longer requested by it.
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
// [cisco] GET pending CSR PEM or 404 / POST JSON / DELETE discard.
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

// edgecert's assumptions, all under one prefix.
inline constexpr const char* kEdgecertPrefix = "/api/provisioning/edgecert";
inline constexpr const char* kStatusPath = "/api/provisioning/edgecert/status";
inline constexpr const char* kPingPath = "/api/provisioning/edgecert/ping";
inline constexpr const char* kTrustedCaPath = "/api/provisioning/edgecert/trustedcas";  // /<sha256>
inline constexpr const char* kTrustedCaResetPath = "/api/provisioning/edgecert/trustedcas/reset";
inline constexpr const char* kCrlSettingsPath = "/api/provisioning/edgecert/crl";
inline constexpr const char* kManualCrlPath = "/api/provisioning/edgecert/crl/manual";
inline constexpr const char* kClusterTlsPath = "/api/provisioning/edgecert/clustertls";
inline constexpr const char* kAcmeSettingsPath = "/api/provisioning/edgecert/acme";
// POST JSON {"Certificate": PEM, "Reason": RFC 5280 code} (the appliance has
// only the CLI `xCommand ACME Revoke` / `xcommand Acmerevoke`).
inline constexpr const char* kAcmeRevokePath = "/api/provisioning/edgecert/acme/revoke";

// The header the appliance requires on state-changing requests (any value).
inline constexpr const char* kCsrfHeader = "X-CSRF-Header";

// Error category -> HTTP status (the simulator's documented mapping).
int status_for(ErrorCode code);
// HTTP status -> error category, as the provider reports it: 400
// kInvalidArgument, 401/403 kPermission, 404 kNotFound, 409 kAlreadyExists,
// 500/501 kInternal (the node failed or does not implement the operation:
// retrying will not help), any other 5xx kUnavailable (transient).
ErrorCode code_for_status(long status);
// Whether a GET answered with `status` is worth retrying (502/503/504).
bool retryable_status(long status);

// {"Message": text}
std::string message_body(std::string_view text);
// The "Message" of a JSON error body; the body itself (trimmed, bounded)
// when it is not one.
std::string message_of(std::string_view body);

// --- JSON codecs. decode_* return kCorrupt naming the field on bad input. ---
nlohmann::json encode_state(const node::NodeState& state);
Result<node::NodeState> decode_state(std::string_view body);

nlohmann::json encode_csr_request(const node::CsrRequest& request);
Result<node::CsrRequest> decode_csr_request(std::string_view body);

nlohmann::json encode_crl_settings(const node::CrlSettings& settings);
Result<node::CrlSettings> decode_crl_settings(std::string_view body);

nlohmann::json encode_revocation(const spec::RevocationChecking& settings);
Result<spec::RevocationChecking> decode_revocation(std::string_view body);

nlohmann::json encode_tls_verification(spec::TlsVerification mode);
Result<spec::TlsVerification> decode_tls_verification(std::string_view body);

nlohmann::json encode_acme_settings(const node::AcmeSettings& settings);
Result<node::AcmeSettings> decode_acme_settings(std::string_view body);

struct AcmeRevokeRequest {
  std::string certificate_pem;
  pki::RevocationReason reason = pki::RevocationReason::kUnspecified;
};
nlohmann::json encode_acme_revoke(const AcmeRevokeRequest& request);
Result<AcmeRevokeRequest> decode_acme_revoke(std::string_view body);

nlohmann::json encode_upload_result(const node::UploadResult& result);
Result<node::UploadResult> decode_upload_result(std::string_view body);

nlohmann::json encode_append_result(const node::AppendCasResult& result);
Result<node::AppendCasResult> decode_append_result(std::string_view body);

}  // namespace edgecert::rest
