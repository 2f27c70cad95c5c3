// Decoding the trust settings: spec.trustedCAs, spec.crl and
// spec.revocationChecking. The referenced files are checked in
// file_checks.cpp.
#include <set>

#include <fmt/core.h>

#include "schema/decode_internal.h"

namespace edgecert::schema::detail {
namespace {

const KeyList kTrustedCasKeys = {"certificates", "prune"};
const KeyList kCrlKeys = {"automaticUpdates", "manualFile", "caBundle"};
const KeyList kCrlAutoKeys = {"enabled", "distributionPoints", "dailyUpdateTime"};
const KeyList kRevocationKeys = {"enabled", "ocsp", "crl", "cdpDownloads", "fallback"};

}  // namespace

void Decoder::decode_trusted_cas(const Field& f) {
  Map m = map(f, kTrustedCasKeys);
  if (!m.ok) return;
  require(m, "certificates");
  spec::TrustedCAs t;
  if (auto p = boolean(m, "prune")) t.prune = *p;
  std::set<std::string> seen;
  if (const Field* cf = m.get("certificates")) {
    for (const Field& item : seq(*cf)) {
      auto p = file_path(item, PathUse::kContent);
      if (!p) continue;
      if (!seen.insert(*p).second) {
        error(item.value_pos,
              fmt::format("{}: '{}' is listed twice", item.name(), clip_for_message(*p)));
        continue;
      }
      t.certificates.push_back(*p);
      trusted_ca_fields_.push_back(item);
    }
    if (cf->value.IsSequence() && cf->value.size() == 0 && t.prune)
      error(cf->value_pos,
            "spec.trustedCAs: prune: true with no certificates would delete every "
            "trusted CA on the nodes; list the CAs to keep");
  }
  spec_.trusted_cas = std::move(t);
}

void Decoder::decode_crl(const Field& f) {
  Map m = map(f, kCrlKeys);
  if (!m.ok) return;
  spec::Crl crl;
  if (const Field* af = m.get("automaticUpdates")) {
    Map a = map(*af, kCrlAutoKeys);
    spec::CrlAutomaticUpdates au;
    if (auto e = boolean(a, "enabled")) au.enabled = *e;
    if (const Field* dp = a.get("distributionPoints"))
      for (const Field& item : seq(*dp))
        if (auto u = http_url(item, false)) au.distribution_points.push_back(*u);
    if (const Field* t = a.get("dailyUpdateTime"))
      if (auto minute = time_of_day(*t)) au.daily_update_minute = *minute;
    if (a.ok && au.enabled && !a.has("distributionPoints"))
      error(af->key_pos,
            "spec.crl.automaticUpdates: enabled automatic updates need at least one "
            "entry in distributionPoints");
    else if (a.ok && au.enabled && a.get("distributionPoints")->value.IsSequence() &&
             a.get("distributionPoints")->value.size() == 0)
      error(a.get("distributionPoints")->value_pos,
            "spec.crl.automaticUpdates.distributionPoints: enabled automatic updates need at least "
            "one distribution point");
    if (a.ok) crl.automatic_updates = std::move(au);
  }
  if (const Field* mf = m.get("manualFile")) {
    crl.manual_file = file_path(*mf, PathUse::kContent);
    if (crl.manual_file && options_.check_files) check_crl_file(mf->path, *crl.manual_file);
  }
  if (const Field* bf = m.get("caBundle")) {
    crl.ca_bundle = file_path(*bf, PathUse::kContent);
    if (crl.ca_bundle && options_.check_files) check_pem_bundle_file(bf->path, *crl.ca_bundle);
  }
  // What the coherence rules count as a CRL source: listed, even when an
  // entry has its own error (one bad URL must not also read as "no source").
  if (crl.automatic_updates && crl.automatic_updates->enabled) {
    const YAML::Node points = m.get("automaticUpdates")->value["distributionPoints"];
    crl_points_listed_ = points && points.IsSequence() && points.size() > 0;
  }
  crl_manual_listed_ = m.has("manualFile");
  spec_.crl = std::move(crl);
}

void Decoder::decode_revocation(const Field& f) {
  Map m = map(f, kRevocationKeys);
  if (!m.ok) return;
  spec::RevocationChecking r;
  if (auto v = boolean(m, "enabled")) r.enabled = *v;
  if (auto v = boolean(m, "ocsp")) r.ocsp = *v;
  if (auto v = boolean(m, "crl")) r.crl = *v;
  if (auto v = boolean(m, "cdpDownloads")) r.cdp_downloads = *v;
  if (auto v = enumeration<spec::RevocationFallback>(m, "fallback")) r.fallback = *v;
  if (r.enabled && !r.ocsp && !r.crl)
    error(f.key_pos,
          "spec.revocationChecking: enabled with both ocsp and crl off leaves no way to "
          "check revocation; turn on ocsp or crl");
  spec_.revocation_checking = r;
}

}  // namespace edgecert::schema::detail
