// What the CRLs and OCSP responders say about this cluster, before the nodes
// find out (guide ch.7: an expired CRL makes every certificate of its CA
// invalid; with "treat as revoked" an unreachable source rejects every
// peer). Built from the spec's CRL sources (crl.automaticUpdates
// distribution points, crl.manualFile) and, per node certificate, the OCSP
// responder its AIA names. Used by make_plan (revoked certificates are
// reissued, bad sources refuse the plan), by status (findings and the CRL
// alarms a node would raise) and by `edgecert crl check` (the table).
//
// Network access only through RevocationOptions::transport; files (the
// manual CRL, the fetch cache under <state_dir>/crl-cache) through the Env.
#pragma once

#include <map>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/time.h"
#include "providers/revocation/crl_fetch.h"
#include "providers/revocation/crl_verify.h"
#include "reconciler/engine/live_state.h"
#include "schema/spec.h"

namespace edgecert {

struct DesiredTrust;

struct RevocationOptions {
  // --allow-unreachable-crl: with fallback "treat as revoked", a source that
  // cannot be fetched is a warning instead of an error.
  bool allow_unreachable = false;
  // Ask OCSP responders named in node certificates' AIA.
  bool ocsp = true;
  revocation::FetchOptions fetch{};  // ca_bundle comes from spec.crl.caBundle
  revocation::TransportFactory transport = revocation::default_transport_factory();
};

// One CRL found at a source.
struct CrlRow {
  std::string format;  // "DER", "ZIP/PEM", ... (revocation::UnpackedCrl::format)
  std::string member;  // archive member, "" outside an archive
  revocation::CrlVerification check;
};

struct CrlSourceReport {
  std::string source;  // the URL, or the manual file's path as the spec gives it
  std::string kind;    // "distribution point", "manual file"
  enum class Outcome { kOk, kUnreachable, kBad } outcome = Outcome::kOk;
  std::string error;        // why not ok: starts with the source
  bool from_cache = false;  // 304 Not Modified
  std::vector<CrlRow> crls;
};

// A certificate some CRL or OCSP responder says is revoked.
struct RevokedFinding {
  std::string peer;         // "" for a trusted CA from the spec
  std::string certificate;  // "serving certificate", "staged certificate",
                            // "pending ACME certificate", "trusted CA"
  std::string subject;      // RFC 2253
  std::string serial_hex;
  std::string sha256;  // fingerprint of the revoked certificate
  std::string reason;  // "revoked by CA <issuer CN>, serial <S>, at <YYYY-MM-DD HH:MM:SS UTC>[
                       // (<reasonCode>)], per <source>"
  // Who said so: the CrlSourceReport::source (archive member in
  // `member`), or the OCSP responder's URL (`ocsp` set).
  std::string source;
  std::string member;
  bool ocsp = false;
};

struct RevocationReport {
  std::vector<CrlSourceReport> sources;  // spec order: distribution points, then the manual file
  std::vector<RevokedFinding> revoked;   // spec peer order, then trusted CAs
  // Each names the source or node; any error refuses a plan or an apply
  // (nothing is changed), and makes `crl check` exit 1:
  // a bad (forged, stale, unsigned, unparsable) CRL; an unreachable source
  // under fallback "treat as revoked" without allow_unreachable; an https
  // source whose server certificate does not verify.
  std::vector<std::string> errors;
  // Worth saying, never a refusal: an unreachable source under "treat as
  // not revoked" ("... the nodes will raise alarm 40006"), an OCSP responder
  // that did not answer.
  std::vector<std::string> warnings;
  // Per peer: the CRL alarms (40001, 40002, 40006) the node would raise with
  // the spec's CRL settings, each with its reason, from what the fetch saw.
  std::map<std::string, std::vector<std::pair<int, std::string>>> expected_alarms;

  bool ok() const { return errors.empty(); }
  // Fingerprint -> reason, for diff_cluster.
  std::map<std::string, std::string> revoked_by_fingerprint() const;
};

// Fetches and checks every source at `now`. `live` may be null (`crl check`
// without nodes: sources only). Never fails as a whole: every problem lands
// in the report.
RevocationReport assess_revocation(const spec::Spec& spec, const DesiredTrust& trust,
                                   const ClusterLive* live, const std::string& state_dir, Env& env,
                                   TimePoint now, const RevocationOptions& options);

// The spec's manual CRL as the node gets it: the guide wants PEM, so DER
// (one or several CRLs) is converted; PEM text is passed on unchanged (the
// plan's sha256 is then that of the file). An error names `source`.
Result<std::string> manual_crl_pem(std::string_view data, const std::string& source);

// The report as JSON (`crl check --output json`, docs/crl.md).
nlohmann::json revocation_report_json(const RevocationReport& report);

}  // namespace edgecert
