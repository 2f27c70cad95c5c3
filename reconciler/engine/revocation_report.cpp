#include "reconciler/engine/revocation_report.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "providers/pki/spki.h"
#include "providers/revocation/crl_unpack.h"
#include "providers/revocation/ocsp.h"
#include "reconciler/engine/diff.h"

namespace edgecert {
namespace {

using Outcome = CrlSourceReport::Outcome;

bool treat_as_revoked(const spec::Spec& spec) {
  return spec.revocation_checking && spec.revocation_checking->enabled &&
         spec.revocation_checking->fallback == spec::RevocationFallback::kTreatAsRevoked;
}

bool automatic_updates_on(const spec::Spec& spec) {
  return spec.crl && spec.crl->automatic_updates && spec.crl->automatic_updates->enabled;
}

void add_unique(std::vector<pki::Certificate>& out, const pki::Certificate& c) {
  const std::string fp = c.sha256_fingerprint();
  for (const auto& have : out)
    if (have.sha256_fingerprint() == fp) return;
  out.push_back(c);
}

// Who may sign a CRL: the spec's trusted CAs, the issuer's chain, and the
// CAs in the chains the nodes serve, stage or hold pending.
std::vector<pki::Certificate> candidate_issuers(const DesiredTrust& trust,
                                                const ClusterLive* live) {
  std::vector<pki::Certificate> out;
  for (const auto& c : trust.required()) add_unique(out, c);
  if (!live) return out;
  for (const auto& n : live->nodes) {
    if (!n.state) continue;
    for (const auto* chain : {&n.state->server_chain, &n.state->staged_chain})
      for (size_t i = 1; i < chain->size(); ++i) add_unique(out, (*chain)[i]);
    if (auto pending = pending_acme_chain(*n.state))
      for (size_t i = 1; i < pending->size(); ++i) add_unique(out, (*pending)[i]);
  }
  return out;
}

std::string revoked_reason(const std::string& ca_cn, const pki::RevokedEntry& e,
                           const std::string& source) {
  return fmt::format("revoked by CA {}, serial {}, at {}{}, per {}", ca_cn, e.serial_hex,
                     format_time(e.revoked_at), e.reason.empty() ? "" : " (" + e.reason + ")",
                     source);
}

// The source's problems as report errors and warnings, and the CRLs it
// contributes.
class Assessor {
 public:
  Assessor(const spec::Spec& spec, const DesiredTrust& trust, const ClusterLive* live,
           const std::string& state_dir, Env& env, TimePoint now, const RevocationOptions& options)
      : spec_(spec),
        live_(live),
        env_(env),
        now_(now),
        options_(options),
        candidates_(candidate_issuers(trust, live)),
        anchors_(trust.anchors) {
    revocation::FetchOptions fetch = options.fetch;
    if (spec.crl && spec.crl->ca_bundle) fetch.ca_bundle = spec.crl->ca_bundle;
    fetcher_ = std::make_unique<revocation::CrlFetcher>(env, path_join(state_dir, "crl-cache"),
                                                        fetch, options.transport);
  }

  RevocationReport run() {
    if (automatic_updates_on(spec_))
      for (const auto& url : spec_.crl->automatic_updates->distribution_points) fetch_point(url);
    if (spec_.crl && spec_.crl->manual_file) read_manual(*spec_.crl->manual_file);
    find_revoked_certificates();
    expected_alarms();
    return std::move(report_);
  }

 private:
  void fetch_point(const std::string& url) {
    CrlSourceReport& src = report_.sources.emplace_back();
    src.source = url;
    src.kind = "distribution point";
    auto fetched = fetcher_->fetch(url);
    if (!fetched) {
      const Error& e = fetched.error();
      src.error = e.message;
      if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kPermission)
        not_downloaded_.insert(url);
      if (e.code == ErrorCode::kUnavailable) {
        src.outcome = Outcome::kUnreachable;
        unreachable(src);
      } else {
        // A bad answer, or an https server whose certificate does not
        // verify: never relied on, whatever the fallback.
        src.outcome = Outcome::kBad;
        report_.errors.push_back(
            e.code == ErrorCode::kPermission
                ? e.message +
                      "; the nodes cannot download it either: fix the server's certificate "
                      "or crl.caBundle"
                : e.message);
      }
      return;
    }
    src.from_cache = fetched->from_cache;
    check_content(src, fetched->body, url, /*cached=*/true);
  }

  void unreachable(const CrlSourceReport& src) {
    if (treat_as_revoked(spec_) && !options_.allow_unreachable) {
      report_.errors.push_back(fmt::format(
          "{}; revocationChecking.fallback is treat-as-revoked, so while the nodes cannot "
          "fetch it they reject every certificate this CRL covers; make the source reachable, "
          "or plan with --allow-unreachable-crl to go on anyway",
          src.error));
      return;
    }
    report_.warnings.push_back(
        fmt::format("{}; the nodes will raise alarm 40006 (CRL download failed) until it can be "
                    "fetched{}",
                    src.error,
                    treat_as_revoked(spec_)
                        ? " and, with fallback treat-as-revoked, reject every certificate it "
                          "covers (going on because of --allow-unreachable-crl)"
                        : ""));
  }

  void read_manual(const std::string& path) {
    CrlSourceReport& src = report_.sources.emplace_back();
    src.source = path;
    src.kind = "manual file";
    auto data = env_.read_file(path, read_limits::kCrl);
    if (!data) {
      src.outcome = Outcome::kBad;
      src.error = path + ": " + data.error().message;
      report_.errors.push_back(src.error);
      return;
    }
    check_content(src, *data, path, /*cached=*/false);
  }

  void check_content(CrlSourceReport& src, const std::string& body, const std::string& source,
                     bool cached) {
    auto unpacked = revocation::unpack_crls(body, source);
    if (!unpacked) {
      src.outcome = Outcome::kBad;
      src.error = unpacked.error().message;
      report_.errors.push_back(src.error);
      return;
    }
    std::vector<std::string> problems;
    for (auto& u : *unpacked) {
      std::optional<std::string> last;
      if (cached) last = fetcher_->last_number(source, u.crl.issuer());
      CrlRow row;
      row.format = u.format;
      row.member = u.member;
      row.check = revocation::verify_crl(u.crl, candidates_, now_, last);
      const std::string where = u.member.empty() ? source : source + " (" + u.member + ")";
      if (!row.check.ok()) {
        problems.push_back(fmt::format("{}: CRL of {}: {}", where, row.check.issuer,
                                       fmt::join(row.check.problems, "; ")));
      } else {
        if (cached && row.check.number)
          if (auto st = fetcher_->remember_number(source, u.crl.issuer(), *row.check.number); !st)
            report_.warnings.push_back(st.error().message);
        crls_.push_back(
            Kept{u.crl, source, u.member, row.check.signer ? row.check.signer->subject_cn() : ""});
      }
      src.crls.push_back(std::move(row));
    }
    if (!problems.empty()) {
      src.outcome = Outcome::kBad;
      src.error = problems.front();
      for (auto& p : problems) report_.errors.push_back(std::move(p));
    }
  }

  // The entry that revokes `cert`, from the first usable CRL of its issuer
  // that lists it (a delta's removeFromCRL takes it off again).
  std::optional<RevokedFinding> crl_finding(const pki::Certificate& cert) {
    const std::string issuer = cert.issuer();
    for (const auto& k : crls_) {
      if (k.crl.issuer() != issuer) continue;
      auto entry = k.crl.find_revoked(cert.serial_hex());
      if (!entry || entry->reason == "removeFromCRL") continue;
      const std::string cn = k.signer_cn.empty() ? cert.issuer_cn() : k.signer_cn;
      RevokedFinding f;
      f.source = k.source;
      f.member = k.member;
      f.reason = revoked_reason(cn.empty() ? issuer : cn, *entry,
                                k.member.empty() ? k.source : k.source + " (" + k.member + ")");
      return f;
    }
    return std::nullopt;
  }

  // The certificate that signed `cert`: the next one in its chain, else a
  // candidate with its issuer's name whose key verifies it.
  std::optional<pki::Certificate> issuer_of(const std::vector<pki::Certificate>& chain) {
    if (chain.size() > 1 && chain.front().is_signed_by(chain[1])) return chain[1];
    for (const auto& c : candidates_)
      if (c.subject() == chain.front().issuer() && chain.front().is_signed_by(c)) return c;
    return std::nullopt;
  }

  std::optional<RevokedFinding> ocsp_finding(const std::vector<pki::Certificate>& chain,
                                             const std::string& who) {
    if (!options_.ocsp || chain.empty()) return std::nullopt;
    const auto urls = chain.front().ocsp_urls();
    if (urls.empty()) return std::nullopt;
    auto issuer = issuer_of(chain);
    if (!issuer) {
      report_.warnings.push_back(
          fmt::format("{}: its OCSP responder was not asked: the issuing CA '{}' is not known here",
                      who, chain.front().issuer_cn()));
      return std::nullopt;
    }
    for (const auto& url : urls) {
      http::ClientOptions co;
      co.allow_plain_http = true;
      co.connect_timeout = options_.fetch.connect_timeout;
      co.request_timeout = options_.fetch.timeout;
      co.max_response_bytes = 1u << 20;
      if (spec_.crl && spec_.crl->ca_bundle) co.ca_bundle = spec_.crl->ca_bundle;
      auto transport = options_.transport(std::move(co));
      if (!transport) {
        report_.warnings.push_back(
            fmt::format("{}: OCSP {}: {}", who, url, transport.error().message));
        continue;
      }
      auto answer = revocation::query_ocsp(chain.front(), *issuer, url, **transport, now_);
      if (!answer) {
        report_.warnings.push_back(fmt::format("{}: OCSP responder did not answer usefully: {}",
                                               who, answer.error().message));
        continue;
      }
      if (answer->status != revocation::OcspStatus::kRevoked) return std::nullopt;
      pki::RevokedEntry e{chain.front().serial_hex(), answer->revoked_at.value_or(now_),
                          answer->reason};
      RevokedFinding f;
      f.source = url;
      f.ocsp = true;
      f.reason = revoked_reason(
          issuer->subject_cn().empty() ? issuer->subject() : issuer->subject_cn(), e, url);
      return f;
    }
    return std::nullopt;
  }

  void check_certificate(const std::string& peer, const std::string& what,
                         const std::vector<pki::Certificate>& chain, std::set<std::string>& seen) {
    if (chain.empty()) return;
    const pki::Certificate& leaf = chain.front();
    const std::string fp = leaf.sha256_fingerprint();
    if (!seen.insert(fp).second) return;
    const std::string who = peer.empty() ? fmt::format("trusted CA '{}'", leaf.subject_cn())
                                         : fmt::format("{}: {}", peer, what);
    auto found = crl_finding(leaf);
    if (!found) found = ocsp_finding(chain, who);
    if (!found) return;
    found->peer = peer;
    found->certificate = what;
    found->subject = leaf.subject();
    found->serial_hex = leaf.serial_hex();
    found->sha256 = fp;
    report_.revoked.push_back(std::move(*found));
  }

  void find_revoked_certificates() {
    if (live_) {
      for (const auto& peer : spec_.peers) {
        const NodeLive* n = live_->find(peer.name);
        if (!n || !n->state) continue;
        std::set<std::string> seen;
        check_certificate(peer.name, "serving certificate", n->state->server_chain, seen);
        check_certificate(peer.name, "staged certificate", n->state->staged_chain, seen);
        if (auto pending = pending_acme_chain(*n->state))
          check_certificate(peer.name, "pending ACME certificate", *pending, seen);
      }
    }
    // The spec's trusted CAs (a CA only in a node's chain shows up through
    // that node's certificate instead).
    std::set<std::string> seen;
    for (const auto& ca : anchors_) check_certificate("", "trusted CA", {ca}, seen);
  }

  void expected_alarms() {
    if (!automatic_updates_on(spec_)) return;
    std::vector<std::pair<int, std::string>> alarms;
    const auto& points = spec_.crl->automatic_updates->distribution_points;
    if (points.empty())
      alarms.emplace_back(40001, "automatic CRL updates are enabled with no distribution point");
    // A node that cannot download a source raises both; one that downloads
    // something unusable only 40002.
    std::vector<std::string> failed_fetch, failed_content;
    for (const auto& s : report_.sources) {
      if (s.kind != "distribution point" || s.outcome == Outcome::kOk) continue;
      (not_downloaded_.count(s.source) ? failed_fetch : failed_content).push_back(s.source);
    }
    if (!failed_fetch.empty() || !failed_content.empty()) {
      std::vector<std::string> all = failed_fetch;
      all.insert(all.end(), failed_content.begin(), failed_content.end());
      alarms.emplace_back(40002,
                          fmt::format("automatic CRL update fails: {}", fmt::join(all, ", ")));
    }
    if (!failed_fetch.empty())
      alarms.emplace_back(40006,
                          fmt::format("CRL download fails: {}", fmt::join(failed_fetch, ", ")));
    if (alarms.empty()) return;
    for (const auto& peer : spec_.peers) report_.expected_alarms[peer.name] = alarms;
  }

 private:
  struct Kept {
    pki::Crl crl;
    std::string source;
    std::string member;
    std::string signer_cn;
  };
  const spec::Spec& spec_;
  const ClusterLive* live_;
  Env& env_;
  TimePoint now_;
  const RevocationOptions& options_;
  std::vector<pki::Certificate> candidates_;
  std::vector<pki::Certificate> anchors_;
  std::unique_ptr<revocation::CrlFetcher> fetcher_;
  std::vector<Kept> crls_;
  std::set<std::string> not_downloaded_;
  RevocationReport report_;
};

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kUnreachable:
      return "unreachable";
    case Outcome::kBad:
      return "bad";
  }
  return "bad";
}

}  // namespace

std::map<std::string, std::string> RevocationReport::revoked_by_fingerprint() const {
  std::map<std::string, std::string> out;
  for (const auto& f : revoked) out.emplace(f.sha256, f.reason);
  return out;
}

RevocationReport assess_revocation(const spec::Spec& spec, const DesiredTrust& trust,
                                   const ClusterLive* live, const std::string& state_dir, Env& env,
                                   TimePoint now, const RevocationOptions& options) {
  return Assessor(spec, trust, live, state_dir, env, now, options).run();
}

Result<std::string> manual_crl_pem(std::string_view data, const std::string& source) {
  if (data.find("-----BEGIN") != std::string_view::npos) return std::string(data);
  auto crls = pki::Crl::parse_all(data, source);
  if (!crls) return std::unexpected(crls.error());
  std::string pem;
  for (const auto& c : *crls) pem += c.to_pem();
  return pem;
}

nlohmann::json revocation_report_json(const RevocationReport& report) {
  using nlohmann::json;
  json sources = json::array();
  for (const auto& s : report.sources) {
    json crls = json::array();
    for (const auto& r : s.crls) {
      const auto& c = r.check;
      crls.push_back({
          {"format", r.format},
          {"member", r.member.empty() ? json(nullptr) : json(r.member)},
          {"issuer", c.issuer},
          {"signer", c.signer ? json(c.signer->subject()) : json(nullptr)},
          {"signature", revocation::to_string(c.signature)},
          {"freshness", revocation::to_string(c.freshness)},
          {"this_update", format_time_iso(c.this_update)},
          {"next_update", c.next_update ? json(format_time_iso(*c.next_update)) : json(nullptr)},
          {"number", c.number ? json(*c.number) : json(nullptr)},
          {"delta", c.delta},
          {"base_number", c.base_number ? json(*c.base_number) : json(nullptr)},
          {"entries", c.entries},
          {"number_regressed", c.number_regressed},
          {"problems", c.problems},
          {"verdict", c.verdict()},
      });
    }
    sources.push_back({{"source", s.source},
                       {"kind", s.kind},
                       {"outcome", outcome_name(s.outcome)},
                       {"error", s.error.empty() ? json(nullptr) : json(s.error)},
                       {"from_cache", s.from_cache},
                       {"crls", std::move(crls)}});
  }
  json revoked = json::array();
  for (const auto& f : report.revoked)
    revoked.push_back({{"peer", f.peer.empty() ? json(nullptr) : json(f.peer)},
                       {"certificate", f.certificate},
                       {"subject", f.subject},
                       {"serial", f.serial_hex},
                       {"sha256", f.sha256},
                       {"reason", f.reason},
                       {"source", f.source},
                       {"member", f.member.empty() ? json(nullptr) : json(f.member)},
                       {"via", f.ocsp ? "ocsp" : "crl"}});
  json alarms = json::object();
  for (const auto& [peer, list] : report.expected_alarms) {
    json a = json::array();
    for (const auto& [id, why] : list) a.push_back({{"id", id}, {"reason", why}});
    alarms[peer] = std::move(a);
  }
  return {{"ok", report.ok()},
          {"sources", std::move(sources)},
          {"revoked", std::move(revoked)},
          {"errors", report.errors},
          {"warnings", report.warnings},
          {"expected_alarms", std::move(alarms)}};
}

}  // namespace edgecert
