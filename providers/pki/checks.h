// Expressway checks on certificates, keys and CA sets.
//
// Each finding has a stable id (used in tests, JSON output and suppression
// lists), a severity and a human message. The rules come from
// ../shared/reference/expressway.md §2 (certificate guide ch.1, ch.3, ch.6,
// App. A). One implementation serves spec validation (trusted CA files),
// `edgecert show`, the simulator's upload checks and the planner.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/severity.h"
#include "providers/base/time.h"
#include "providers/pki/certificate.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

struct Finding {
  std::string id;  // e.g. "ca-without-basic-constraints", "wildcard-name"
  Severity severity = Severity::kError;
  std::string message;
  // For set checks: index of the certificate in the input it is about.
  std::optional<size_t> index;
};

// Checks a set of trusted CA certificates (in upload order) at time `now`:
// errors: CA without BasicConstraints CA:TRUE; same-CN self-signed pair
//         (Expressway trusts only one of them).
// warnings: more than 1000 CAs (the guide's recommendation, not a limit);
//           expired; two CAs with the same CN.
// Findings are ordered: per-certificate findings in input order, then the
// set-wide duplicate-CN findings (indexed at the later certificate).
std::vector<Finding> check_ca_set(const std::vector<Certificate>& cas, TimePoint now);

// Recommended maximum size of a trusted CA list (guide ch.6).
inline constexpr size_t kMaxTrustedCas = 1000;

// Where the certificate will serve, when known (from the spec / the desired
// certificate profile).
struct RoleContext {
  std::vector<std::string> roles;  // the spec's role names ("mra", "b2b", ...)
  bool clustered = false;
};

// Whether this node acts as a TLS client that must present its server
// certificate (mutual TLS): every role does (traversal zones to/from the
// other Expressway, SIP TLS to Unified CM and B2B neighbours, XMPP
// server-to-server), and so does cluster communication. Expressway-E on
// X15.4+ accepts serverAuth-only certificates, but edgecert cannot know the
// release, so it still warns.
bool needs_mutual_tls(const RoleContext& context);

struct ServerCheckOptions {
  TimePoint now;
  // Warn ("expiring-soon") from this time on; default: 30 days before notAfter.
  std::optional<TimePoint> renew_at;
  // The key file that goes with the certificate, when known.
  const KeyFile* key = nullptr;
  // Intermediate/CA certificates uploaded with it (checked for BasicConstraints).
  std::vector<Certificate> chain;
  std::optional<RoleContext> roles;
};

// Checks a server certificate as an Expressway upload would, plus edgecert's
// operational rules. Finding ids:
// errors:   wildcard-name, invalid-common-name ("Common name must be a valid
//           FQDN: ..."), invalid-san ("Subject alternative name must be a
//           valid FQDN: ..."), encrypted-private-key, key-mismatch,
//           ca-without-basic-constraints (chain members), sha1-signature
// warnings: rsa-8192, unsupported-key-size (neither RSA 2048/4096 nor ECDSA
//           P-256/384/521, guide ch.2), expires-2050-or-later,
//           missing-common-name, unsupported-name-oid,
//           key-missing-trailing-newline, missing-client-auth,
//           expiring-soon, expired
std::vector<Finding> check_server_certificate(const Certificate& cert,
                                              const ServerCheckOptions& options);

// Checks for a CA certificate looked at on its own (e.g. by `edgecert show`):
// ca-without-basic-constraints, expired ("ca-expired"), expires-2050-or-later,
// unsupported-name-oid.
std::vector<Finding> check_ca_certificate(const Certificate& cert, TimePoint now);

// Whether `show` checks `cert` as a CA rather than as a server certificate:
// it may sign certificates (keyCertSign), signed another certificate of
// `file_certs` (a CA missing BasicConstraints), or is CA:TRUE or self-signed
// without any SAN. A self-signed CA:TRUE certificate with SANs (what
// `openssl req -x509` makes) is a server certificate.
bool looks_like_ca(const Certificate& cert, const std::vector<Certificate>& file_certs);

// The certificates of one file by issuer name, built once: looks_like_ca
// for each of a bundle's n certificates is then linear in n overall, where
// comparing every pair formats 2n² names (a 1000-certificate bundle took
// seconds). The certificates must outlive the index.
class IssuerIndex {
 public:
  explicit IssuerIndex(const std::vector<Certificate>& certs);
  // The file's certificates whose issuer name is `subject`.
  const std::vector<const Certificate*>& issued_by(const std::string& subject) const;

 private:
  std::unordered_map<std::string, std::vector<const Certificate*>> by_issuer_;
};
bool looks_like_ca(const Certificate& cert, const IssuerIndex& file_certs);

// The Expressway checks on one certificate, as a CA (check_ca_certificate at
// options.now) or as a server certificate (check_server_certificate; the
// other certificates of a file or chain are checked on their own, so pass no
// options.chain to avoid double findings). `edgecert show` and the engine's
// check of every issued chain both go through here.
std::vector<Finding> check_certificate(const Certificate& cert, bool as_ca,
                                       const ServerCheckOptions& options);

// The checks on a chain an issuer returned (leaf first): the leaf as a server
// certificate, every other certificate as a CA — what `edgecert show` reports
// for the same chain in one file. Each finding's `index` is the position in
// `chain` (0 = the leaf). Errors mean an Expressway refuses the upload or the
// certificate breaks the node; the caller refuses the chain on any error.
std::vector<Finding> check_issued_chain(const std::vector<Certificate>& chain,
                                        const ServerCheckOptions& options);

// Checks a private key file on its own: encrypted-private-key,
// key-missing-trailing-newline, rsa-8192.
std::vector<Finding> check_key_file(const KeyFile& key);

// Checks a CSR about to be signed: the same name rules as the server
// certificate (wildcard-name, invalid-common-name, invalid-san,
// missing-common-name), rsa-8192, missing-client-auth (EKU requested without
// clientAuth).
std::vector<Finding> check_request(const CertificateRequest& csr);

// A CRL whose nextUpdate has passed: "crl-stale" warning.
std::vector<Finding> check_crl(const Crl& crl, TimePoint now);

// When a certificate is due for renewal: renew_before ahead of notAfter when
// set, else after `fraction` of its lifetime has passed.
TimePoint renewal_time(const Certificate& cert, std::optional<std::chrono::seconds> renew_before,
                       double fraction);

}  // namespace edgecert::pki
