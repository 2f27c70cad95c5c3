// Verifying a CRL before anyone relies on it: who signed it, whether it is
// still current, whether it went backwards. Pure: no I/O (the caller gives
// the candidate issuers, the clock and the last CRL number it saw).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/time.h"
#include "providers/pki/certificate.h"
#include "providers/pki/crl.h"

namespace edgecert::revocation {

enum class SignatureVerdict {
  kValid,     // signed by `signer`
  kNoIssuer,  // no candidate CA carries the CRL's issuer name
  kForged,    // a CA with that name exists, but no candidate's key verifies the signature
};

enum class Freshness {
  kFresh,
  kStale,        // nextUpdate has passed: the appliance treats every certificate of
                 // that CA as invalid (guide ch.7)
  kNotYetValid,  // thisUpdate is more than five minutes in the future
  kNoNextUpdate, // no nextUpdate: accepted, said in the verdict
};

struct CrlVerification {
  std::string issuer;  // the CRL's issuer, RFC 2253
  std::optional<pki::Certificate> signer;
  SignatureVerdict signature = SignatureVerdict::kNoIssuer;
  Freshness freshness = Freshness::kFresh;
  TimePoint this_update{};
  std::optional<TimePoint> next_update;
  std::optional<std::string> number;  // cRLNumber, upper-case hex
  bool delta = false;                 // a delta CRL (deltaCRLIndicator)
  std::optional<std::string> base_number;  // its base CRL's number, hex
  std::size_t entries = 0;
  // Set when the cRLNumber is lower than `last_number` (a replayed or
  // rolled-back CRL).
  bool number_regressed = false;
  // Each a reason the CRL must not be relied on, in words ("signature does
  // not verify with the key of CN=Example Root", "stale: nextUpdate
  // 2026-11-30 10:00:00 UTC has passed", "cRLNumber 0A is lower than 0C seen
  // before"). Empty = usable.
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
  // "ok", "ok (no nextUpdate)", "delta of 0C, ok", or the first problem.
  std::string verdict() const;
};

// Checks `crl` against `candidate_issuers` (the spec's trusted CAs, the
// issuer's chain, the CAs of the nodes' chains): a candidate whose subject is
// the CRL's issuer and whose key verifies the signature. `last_number` is the
// highest cRLNumber seen before from the same source and issuer (hex).
CrlVerification verify_crl(const pki::Crl& crl,
                           const std::vector<pki::Certificate>& candidate_issuers, TimePoint now,
                           const std::optional<std::string>& last_number = std::nullopt);

// Lower-case names for JSON: "valid", "no-issuer", "forged"; "fresh",
// "stale", "not-yet-valid", "no-next-update".
const char* to_string(SignatureVerdict v);
const char* to_string(Freshness f);

}  // namespace edgecert::revocation
