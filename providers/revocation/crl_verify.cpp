#include "providers/revocation/crl_verify.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <fmt/core.h>

#include "providers/base/enum_table.h"

namespace edgecert::revocation {

namespace {

// RFC 5280 compares names after normalising case and spaces; the RFC 2253
// text of two encodings of one name differs at most in letter case.
bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// Hex integers compared by value ("0C" > "A", "000A" == "0A").
int compare_hex(std::string a, std::string b) {
  auto normalise = [](std::string& s) {
    s.erase(0, std::min(s.find_first_not_of('0'), s.size()));
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  };
  normalise(a);
  normalise(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

constexpr EnumTable<SignatureVerdict, 3> kSignatureVerdictNames{{
    {SignatureVerdict::kValid, "valid"},
    {SignatureVerdict::kNoIssuer, "no-issuer"},
    {SignatureVerdict::kForged, "forged"},
}};
constexpr EnumTable<Freshness, 4> kFreshnessNames{{
    {Freshness::kFresh, "fresh"},
    {Freshness::kStale, "stale"},
    {Freshness::kNotYetValid, "not-yet-valid"},
    {Freshness::kNoNextUpdate, "no-next-update"},
}};

// The appliance tolerates a little clock skew before calling a CRL early.
constexpr std::chrono::minutes kClockSkew{5};

}  // namespace

std::string CrlVerification::verdict() const {
  if (!ok()) return problems.front();
  std::string v = delta ? fmt::format("delta of {}, ok", base_number.value_or("?")) : "ok";
  if (freshness == Freshness::kNoNextUpdate) v += " (no nextUpdate)";
  return v;
}

CrlVerification verify_crl(const pki::Crl& crl,
                           const std::vector<pki::Certificate>& candidate_issuers, TimePoint now,
                           const std::optional<std::string>& last_number) {
  CrlVerification v;
  v.issuer = crl.issuer();
  v.this_update = crl.last_update();
  v.next_update = crl.next_update();
  v.number = crl.number();
  v.delta = crl.is_delta();
  v.base_number = crl.delta_base_number();
  v.entries = crl.entry_count();

  // Who signed it: a candidate with the issuer's name whose key verifies.
  size_t named = 0;
  for (const pki::Certificate& ca : candidate_issuers) {
    if (!same_name(ca.subject(), v.issuer)) continue;
    ++named;
    if (crl.is_signed_by(ca)) {
      v.signature = SignatureVerdict::kValid;
      v.signer = ca;
      break;
    }
  }
  if (v.signature == SignatureVerdict::kValid) {
    // RFC 5280 §4.2.1.3: a key usage without cRLSign forbids signing CRLs.
    const std::vector<std::string> usage = v.signer->key_usage();
    if (v.signer->has_key_usage() &&
        std::find(usage.begin(), usage.end(), "cRLSign") == usage.end()) {
      v.problems.push_back(
          fmt::format("signed by {}, whose key usage does not include cRLSign", v.issuer));
    }
  } else if (named == 0) {
    v.signature = SignatureVerdict::kNoIssuer;
    v.problems.push_back(fmt::format(
        "no trusted CA named {} (the CRL's issuer): its signature cannot be checked; add that "
        "CA to the trusted CAs",
        v.issuer));
  } else {
    v.signature = SignatureVerdict::kForged;
    v.problems.push_back(
        named == 1 ? fmt::format("signature does not verify with the key of {}", v.issuer)
                   : fmt::format("signature does not verify with the key of any of the {} CAs "
                                 "named {}",
                                 named, v.issuer));
  }

  if (!v.next_update) {
    v.freshness = Freshness::kNoNextUpdate;
  } else if (now > *v.next_update) {
    v.freshness = Freshness::kStale;
    v.problems.push_back(
        fmt::format("stale: nextUpdate {} has passed; the appliance treats "
                    "every certificate of {} as invalid",
                    format_time(*v.next_update), v.issuer));
  }
  if (v.freshness != Freshness::kStale && v.this_update > now + kClockSkew) {
    v.freshness = Freshness::kNotYetValid;
    v.problems.push_back(
        fmt::format("not yet valid: thisUpdate {} is in the future", format_time(v.this_update)));
  }

  if (last_number && v.number && compare_hex(*v.number, *last_number) < 0) {
    v.number_regressed = true;
    v.problems.push_back(
        fmt::format("cRLNumber {} is lower than {} seen before (a replayed or "
                    "rolled-back CRL)",
                    *v.number, *last_number));
  }
  if (v.delta && v.number && v.base_number && compare_hex(*v.base_number, *v.number) >= 0) {
    v.problems.push_back(fmt::format("delta CRL {} names base CRL {}, which is not older",
                                     *v.number, *v.base_number));
  }
  return v;
}

const char* to_string(SignatureVerdict v) {
  return enum_name(kSignatureVerdictNames, v).data();
}

const char* to_string(Freshness f) {
  return enum_name(kFreshnessNames, f).data();
}

}  // namespace edgecert::revocation
