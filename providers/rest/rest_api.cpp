#include "providers/rest/rest_api.h"

#include <fmt/core.h>

#include "providers/pki/csr.h"
#include "providers/rest/node_channels.h"

namespace edgecert::rest {

using nlohmann::json;

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kPermission:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

ErrorCode code_for_status(long status) {
  return detail::code_for_http_status(status);
}

bool retryable_status(long status) {
  return status == 502 || status == 503 || status == 504;
}

std::string message_body(std::string_view text) {
  return json{{"Message", std::string(text)}}.dump();
}

std::string message_of(std::string_view body) {
  try {
    json j = json::parse(body);
    if (j.is_object() && j.contains("Message") && j["Message"].is_string())
      return j["Message"].get<std::string>();
  } catch (const std::exception&) {
  }
  std::string s(body);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  // A proxy's HTML error page can be long; a message only needs its start.
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s.empty() ? std::string("(empty reply)") : s;
}

namespace {

template <class T, class F>
Result<T> decode(std::string_view body, const char* what, F&& f) {
  try {
    return f(json::parse(body));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, fmt::format("malformed {} JSON: {}", what, e.what()));
  }
}

std::vector<std::string> pems(const std::vector<pki::Certificate>& certs) {
  std::vector<std::string> out;
  out.reserve(certs.size());
  for (const auto& c : certs) out.push_back(c.to_pem());
  return out;
}

std::vector<pki::Certificate> certs(const json& j, const char* what) {
  std::vector<pki::Certificate> out;
  for (const auto& p : j) {
    auto c = pki::Certificate::parse_one(p.get<std::string>(), what);
    if (!c) throw std::runtime_error(c.error().message);
    out.push_back(std::move(*c));
  }
  return out;
}

const char* digest_wire(spec::Digest d) {
  switch (d) {
    case spec::Digest::kSha384:
      return "SHA384";
    case spec::Digest::kSha512:
      return "SHA512";
    default:
      return "SHA256";
  }
}

spec::Digest digest_from_wire(const std::string& s) {
  if (s == "SHA256") return spec::Digest::kSha256;
  if (s == "SHA384") return spec::Digest::kSha384;
  if (s == "SHA512") return spec::Digest::kSha512;
  throw std::runtime_error("DigestAlgorithm must be SHA256, SHA384 or SHA512, not '" + s + "'");
}

std::string hhmm(int minute) {
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

int minute_from(const std::string& s) {
  int h = 0;
  int m = 0;
  if (s.size() != 5 || s[2] != ':' || std::sscanf(s.c_str(), "%2d:%2d", &h, &m) != 2)
    throw std::runtime_error("time must be HH:MM, not '" + s + "'");
  return h * 60 + m;
}

const char* mode_wire(spec::AcmeMode m) {
  switch (m) {
    case spec::AcmeMode::kManual:
      return "Manual";
    case spec::AcmeMode::kAutomated:
      return "Automated";
    default:
      return "Disabled";
  }
}

spec::AcmeMode mode_from_wire(const std::string& s) {
  if (s == "Disabled") return spec::AcmeMode::kDisabled;
  if (s == "Manual") return spec::AcmeMode::kManual;
  if (s == "Automated") return spec::AcmeMode::kAutomated;
  throw std::runtime_error("AcmeManaged must be Disabled, Manual or Automated, not '" + s + "'");
}

json acme_json(const node::AcmeSettings& a) {
  json j{{"ProviderName", a.provider_name},
         {"ProviderDirectory", a.provider_directory},
         {"Email", a.email},
         {"TermsAccepted", a.terms_accepted},
         {"AcmeManaged", mode_wire(a.mode)},
         {"RenewKey", a.renew_key == spec::KeyRotation::kRetain ? "Retain" : "Rotate"}};
  if (a.schedule) {
    j["RenewalSchedule"] =
        json{{"DaysOfWeek", a.schedule->days}, {"TimeOfDay", hhmm(a.schedule->minute_of_day)}};
  } else {
    j["RenewalSchedule"] = nullptr;
  }
  return j;
}

node::AcmeSettings acme_from(const json& j) {
  node::AcmeSettings a;
  a.provider_name = j.at("ProviderName").get<std::string>();
  a.provider_directory = j.at("ProviderDirectory").get<std::string>();
  a.email = j.at("Email").get<std::string>();
  a.terms_accepted = j.at("TermsAccepted").get<bool>();
  a.mode = mode_from_wire(j.at("AcmeManaged").get<std::string>());
  const std::string rk = j.at("RenewKey").get<std::string>();
  if (rk != "Retain" && rk != "Rotate")
    throw std::runtime_error("RenewKey must be Retain or Rotate, not '" + rk + "'");
  a.renew_key = rk == "Retain" ? spec::KeyRotation::kRetain : spec::KeyRotation::kRotate;
  if (j.contains("RenewalSchedule") && !j["RenewalSchedule"].is_null()) {
    spec::Schedule s;
    s.days = j["RenewalSchedule"].at("DaysOfWeek").get<std::vector<spec::Weekday>>();
    s.minute_of_day = minute_from(j["RenewalSchedule"].at("TimeOfDay").get<std::string>());
    a.schedule = s;
  }
  return a;
}

json crl_json(const node::CrlSettings& c) {
  return json{{"AutomaticUpdates", c.automatic_updates},
              {"DistributionPoints", c.distribution_points},
              {"DailyUpdateTime", hhmm(c.daily_update_minute)}};
}

node::CrlSettings crl_from(const json& j) {
  node::CrlSettings c;
  c.automatic_updates = j.at("AutomaticUpdates").get<bool>();
  c.distribution_points = j.at("DistributionPoints").get<std::vector<std::string>>();
  const std::string t = j.at("DailyUpdateTime").get<std::string>();
  // Range errors are the node's to report (400), so only the shape is checked.
  int h = 0;
  int m = 0;
  if (std::sscanf(t.c_str(), "%d:%d", &h, &m) != 2)
    throw std::runtime_error("DailyUpdateTime must be HH:MM, not '" + t + "'");
  c.daily_update_minute = h * 60 + m;
  return c;
}

const char* on_off(bool b) {
  return b ? "On" : "Off";
}
bool from_on_off(const json& j, const char* field) {
  const std::string s = j.at(field).get<std::string>();
  if (s == "On") return true;
  if (s == "Off") return false;
  throw std::runtime_error(fmt::format("{} must be On or Off, not '{}'", field, s));
}

json revocation_json(const spec::RevocationChecking& r) {
  return json{{"Mode", on_off(r.enabled)},
              {"OcspMode", on_off(r.ocsp)},
              {"CrlMode", on_off(r.crl)},
              {"CrlNetworkFetchMode", on_off(r.cdp_downloads)},
              {"SourceInaccessibilityBehavior",
               r.fallback == spec::RevocationFallback::kTreatAsRevoked ? "Fail" : "Ignore"}};
}

spec::RevocationChecking revocation_from(const json& j) {
  spec::RevocationChecking r;
  r.enabled = from_on_off(j, "Mode");
  r.ocsp = from_on_off(j, "OcspMode");
  r.crl = from_on_off(j, "CrlMode");
  r.cdp_downloads = from_on_off(j, "CrlNetworkFetchMode");
  const std::string f = j.at("SourceInaccessibilityBehavior").get<std::string>();
  if (f != "Fail" && f != "Ignore")
    throw std::runtime_error("SourceInaccessibilityBehavior must be Fail or Ignore, not '" + f +
                             "'");
  r.fallback = f == "Fail" ? spec::RevocationFallback::kTreatAsRevoked
                           : spec::RevocationFallback::kTreatAsNotRevoked;
  return r;
}

const char* tls_wire(spec::TlsVerification t) {
  return t == spec::TlsVerification::kPermissive ? "Permissive" : "Enforce";
}
spec::TlsVerification tls_from_wire(const std::string& s) {
  if (s == "Permissive") return spec::TlsVerification::kPermissive;
  if (s == "Enforce") return spec::TlsVerification::kEnforce;
  throw std::runtime_error("TLS verification mode must be Permissive or Enforce, not '" + s + "'");
}

}  // namespace

json encode_state(const node::NodeState& s) {
  json j;
  j["SoftwareVersion"] = s.software_version;
  j["ServerChain"] = pems(s.server_chain);
  j["StagedChain"] = pems(s.staged_chain);
  j["PendingCsr"] = s.pending_csr ? json(s.pending_csr->pem) : json(nullptr);
  j["TrustedCas"] = pems(s.trusted_cas);
  j["Crl"] = crl_json(s.crl);
  j["ManualCrlSha256"] = s.manual_crl_sha256 ? json(*s.manual_crl_sha256) : json(nullptr);
  j["RevocationChecking"] = revocation_json(s.revocation);
  j["Acme"] = acme_json(s.acme);
  j["AcmeStatus"] = json{{"Status", s.acme_status.status},
                         {"LastSignStatus", s.acme_status.last_sign_status},
                         {"LastDeployStatus", s.acme_status.last_deploy_status},
                         {"PendingCertificate", s.acme_status.pending_certificate_pem
                                                    ? json(*s.acme_status.pending_certificate_pem)
                                                    : json(nullptr)}};
  j["ClusterTlsVerification"] = tls_wire(s.tls_verification);
  json alarms = json::array();
  for (const auto& a : s.alarms) alarms.push_back(json{{"Id", a.id}, {"Text", a.text}});
  j["Alarms"] = alarms;
  j["RestartRequired"] = s.restart_required;
  return j;
}

Result<node::NodeState> decode_state(std::string_view body) {
  return decode<node::NodeState>(body, "status", [](const json& j) {
    node::NodeState s;
    s.software_version = j.at("SoftwareVersion").get<std::string>();
    s.server_chain = certs(j.at("ServerChain"), "server chain");
    s.staged_chain = certs(j.at("StagedChain"), "staged chain");
    if (!j.at("PendingCsr").is_null()) {
      // The details are read off the CSR itself, so they cannot disagree with it.
      auto p = node::pending_csr_from_pem(j["PendingCsr"].get<std::string>());
      if (!p) throw std::runtime_error(p.error().message);
      s.pending_csr = std::move(*p);
    }
    s.trusted_cas = certs(j.at("TrustedCas"), "trusted CA");
    s.crl = crl_from(j.at("Crl"));
    if (!j.at("ManualCrlSha256").is_null())
      s.manual_crl_sha256 = j["ManualCrlSha256"].get<std::string>();
    s.revocation = revocation_from(j.at("RevocationChecking"));
    s.acme = acme_from(j.at("Acme"));
    const json& as = j.at("AcmeStatus");
    s.acme_status.status = as.at("Status").get<std::string>();
    s.acme_status.last_sign_status = as.at("LastSignStatus").get<std::string>();
    s.acme_status.last_deploy_status = as.at("LastDeployStatus").get<std::string>();
    if (!as.at("PendingCertificate").is_null())
      s.acme_status.pending_certificate_pem = as["PendingCertificate"].get<std::string>();
    s.tls_verification = tls_from_wire(j.at("ClusterTlsVerification").get<std::string>());
    for (const auto& a : j.at("Alarms"))
      s.alarms.push_back({a.at("Id").get<std::string>(), a.at("Text").get<std::string>()});
    s.restart_required = j.at("RestartRequired").get<bool>();
    return s;
  });
}

json encode_csr_request(const node::CsrRequest& r) {
  json j{{"CommonName", r.common_name},
         {"Additional_FQDNS", r.dns_names},
         {"Country", r.subject.country},
         {"Province", r.subject.state},
         {"Locality", r.subject.locality},
         {"Organization", r.subject.organization},
         {"OrganizationalUnit", r.subject.organizational_unit},
         {"Email", r.subject.email},
         {"KeyType", r.key_algorithm == spec::KeyAlgorithm::kRsa ? "RSA" : "ECDSA"},
         {"KeyLength", r.key_size},
         {"DigestAlgorithm", digest_wire(r.digest)}};
  // [assumed] (docs/rest-mapping.md): sent only when asked for, so a node
  // that does not know the field sees the documented body otherwise.
  if (r.reuse_current_key) j["ReuseCurrentPrivateKey"] = true;
  return j;
}

Result<node::CsrRequest> decode_csr_request(std::string_view body) {
  return decode<node::CsrRequest>(body, "CSR request", [](const json& j) {
    node::CsrRequest r;
    r.common_name = j.at("CommonName").get<std::string>();
    r.dns_names = j.value("Additional_FQDNS", std::vector<std::string>{});
    r.subject.country = j.value("Country", std::string());
    r.subject.state = j.value("Province", std::string());
    r.subject.locality = j.value("Locality", std::string());
    r.subject.organization = j.value("Organization", std::string());
    r.subject.organizational_unit = j.value("OrganizationalUnit", std::string());
    r.subject.email = j.value("Email", std::string());
    const std::string kt = j.value("KeyType", std::string("RSA"));
    if (kt != "RSA" && kt != "ECDSA")
      throw std::runtime_error("KeyType must be RSA or ECDSA, not '" + kt + "'");
    r.key_algorithm = kt == "RSA" ? spec::KeyAlgorithm::kRsa : spec::KeyAlgorithm::kEcdsa;
    r.key_size = j.value("KeyLength", 4096);
    r.digest = digest_from_wire(j.value("DigestAlgorithm", std::string("SHA256")));
    r.reuse_current_key = j.value("ReuseCurrentPrivateKey", false);
    return r;
  });
}

json encode_crl_settings(const node::CrlSettings& s) {
  return crl_json(s);
}
Result<node::CrlSettings> decode_crl_settings(std::string_view body) {
  return decode<node::CrlSettings>(body, "CRL settings", [](const json& j) { return crl_from(j); });
}

json encode_revocation(const spec::RevocationChecking& s) {
  return revocation_json(s);
}
Result<spec::RevocationChecking> decode_revocation(std::string_view body) {
  return decode<spec::RevocationChecking>(body, "revocation checking",
                                          [](const json& j) { return revocation_from(j); });
}

json encode_tls_verification(spec::TlsVerification mode) {
  return json{{"Mode", tls_wire(mode)}};
}
Result<spec::TlsVerification> decode_tls_verification(std::string_view body) {
  return decode<spec::TlsVerification>(body, "TLS verification", [](const json& j) {
    return tls_from_wire(j.at("Mode").get<std::string>());
  });
}

json encode_acme_settings(const node::AcmeSettings& s) {
  return acme_json(s);
}
Result<node::AcmeSettings> decode_acme_settings(std::string_view body) {
  return decode<node::AcmeSettings>(body, "ACME settings",
                                    [](const json& j) { return acme_from(j); });
}

json encode_acme_revoke(const AcmeRevokeRequest& r) {
  // The wire carries the RFC 5280 code.
  return json{{"Certificate", r.certificate_pem}, {"Reason", static_cast<int>(r.reason)}};
}
Result<AcmeRevokeRequest> decode_acme_revoke(std::string_view body) {
  return decode<AcmeRevokeRequest>(body, "ACME revoke", [](const json& j) {
    AcmeRevokeRequest r;
    r.certificate_pem = j.at("Certificate").get<std::string>();
    // The reason's range is the node's to judge (400 with its message), so
    // any code passes through (the enum's underlying int holds it).
    r.reason = static_cast<pki::RevocationReason>(j.value("Reason", 0));
    return r;
  });
}

json encode_upload_result(const node::UploadResult& r) {
  json w = json::array();
  for (const auto& x : r.warnings) w.push_back(json{{"Id", x.id}, {"Message", x.message}});
  return json{{"Message", "Server certificate uploaded; restart to activate it"},
              {"StagedSha256", r.staged_sha256},
              {"Warnings", w}};
}
Result<node::UploadResult> decode_upload_result(std::string_view body) {
  return decode<node::UploadResult>(body, "upload", [](const json& j) {
    node::UploadResult r;
    r.staged_sha256 = j.at("StagedSha256").get<std::string>();
    for (const auto& w : j.at("Warnings"))
      r.warnings.push_back({w.at("Id").get<std::string>(), w.at("Message").get<std::string>()});
    return r;
  });
}

json encode_append_result(const node::AppendCasResult& r) {
  return json{{"Message", fmt::format("{} CA certificate(s) added, {} already trusted",
                                      r.added.size(), r.skipped.size())},
              {"Added", r.added},
              {"Skipped", r.skipped}};
}
Result<node::AppendCasResult> decode_append_result(std::string_view body) {
  return decode<node::AppendCasResult>(body, "append CA", [](const json& j) {
    node::AppendCasResult r;
    r.added = j.at("Added").get<std::vector<std::string>>();
    r.skipped = j.at("Skipped").get<std::vector<std::string>>();
    return r;
  });
}

}  // namespace edgecert::rest
