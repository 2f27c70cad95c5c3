#include "reconciler/engine/action.h"

#include <array>

#include <fmt/core.h>

#include "reconciler/engine/json_fields.h"
#include "schema/values.h"

namespace edgecert {
namespace {

using nlohmann::json;
constexpr bool kYes = true;
constexpr bool kNo = false;

// name, symbol, disruptive, window-gated, while waiting, retry, failure stops the run
constexpr std::array<ActionTraits, std::variant_size_v<ActionParams>> kTraits{{
    {ActionKind::kDiscardCsr, "discard-csr", '-', kNo, kNo, kYes, RetryPolicy::kTransient, kYes},
    {ActionKind::kAppendTrustedCas, "append-trusted-cas", '+', kNo, kNo, kYes,
     RetryPolicy::kTransient, kYes},
    {ActionKind::kGenerateCsr, "generate-csr", '+', kNo, kNo, kYes, RetryPolicy::kTransient, kYes},
    {ActionKind::kSignCsr, "sign-csr", '~', kNo, kNo, kYes, RetryPolicy::kUnlessAcmeIssuer, kYes},
    {ActionKind::kSetTlsVerification, "set-tls-verification", '~', kNo, kNo, kNo,
     RetryPolicy::kTransient, kYes},
    {ActionKind::kUploadCertificate, "upload-certificate", '~', kNo, kNo, kNo,
     RetryPolicy::kTransient, kYes},
    {ActionKind::kRestart, "restart", '!', kYes, kYes, kNo, RetryPolicy::kRestart, kYes},
    // Its own deadline (rollout.healthTimeout) is the retry.
    {ActionKind::kWaitHealthy, "wait-healthy", '~', kNo, kNo, kNo, RetryPolicy::kNever, kYes},
    {ActionKind::kVerifyServed, "verify-served", '~', kNo, kNo, kNo, RetryPolicy::kTransient, kYes},
    // The replacement already serves everywhere: a failed revocation is
    // reported for a human to finish, never undoes or stops the rollout.
    {ActionKind::kRevokeSuperseded, "revoke-superseded", '-', kNo, kNo, kNo,
     RetryPolicy::kTransient, kNo},
    {ActionKind::kDeleteTrustedCa, "delete-trusted-ca", '-', kNo, kNo, kNo, RetryPolicy::kTransient,
     kYes},
    {ActionKind::kSetCrlSettings, "set-crl-settings", '~', kNo, kNo, kNo, RetryPolicy::kTransient,
     kYes},
    {ActionKind::kUploadManualCrl, "upload-manual-crl", '+', kNo, kNo, kNo, RetryPolicy::kTransient,
     kYes},
    {ActionKind::kSetRevocationChecking, "set-revocation-checking", '~', kNo, kNo, kNo,
     RetryPolicy::kTransient, kYes},
    {ActionKind::kSetAcmeSettings, "set-acme-settings", '~', kNo, kNo, kNo, RetryPolicy::kTransient,
     kYes},
    // Every ACME attempt is a new order against the CA's rate limits.
    {ActionKind::kAcmeSign, "acme-sign", '~', kNo, kNo, kNo, RetryPolicy::kNever, kYes},
    {ActionKind::kAcmeDeploy, "acme-deploy", '~', kNo, kYes, kNo, RetryPolicy::kTransient, kYes},
    {ActionKind::kAcmeDiscardPending, "acme-discard-pending", '-', kNo, kNo, kNo,
     RetryPolicy::kTransient, kYes},
    {ActionKind::kRemoveManualCrl, "remove-manual-crl", '-', kNo, kNo, kNo, RetryPolicy::kTransient,
     kYes},
}};

constexpr bool traits_in_kind_order() {
  for (size_t i = 0; i < kTraits.size(); ++i)
    if (static_cast<size_t>(kTraits[i].kind) != i) return false;
  return true;
}
static_assert(traits_in_kind_order(), "kTraits must list every ActionKind in enum order");

template <size_t... I>
ActionParams params_at(size_t index, std::index_sequence<I...>) {
  ActionParams out;
  ((index == I ? (out = std::variant_alternative_t<I, ActionParams>{}, 0) : 0), ...);
  return out;
}

json subject_json(const pki::SubjectFields& s) {
  return {{"country", s.country},
          {"state", s.state},
          {"locality", s.locality},
          {"organization", s.organization},
          {"organizational_unit", s.organizational_unit},
          {"email", s.email}};
}

json csr_json(const CsrParams& c) {
  return {{"common_name", c.common_name},
          {"dns_names", c.dns_names},
          {"subject", subject_json(c.subject)},
          {"key_algorithm", pki::key_algorithm_name(c.key_algorithm)},
          {"key_size", c.key_size},
          {"digest", pki::digest_name(c.digest)},
          {"reuse_current_key", c.reuse_current_key}};
}

// An enum field spelled by its table; an unknown spelling is an error naming
// the field and what is accepted.
template <class E, size_t N>
E enum_field(JsonFields& f, const char* key, const EnumTable<E, N>& table) {
  std::string s = f.string(key);
  if (!f.ok()) return table[0].value;
  auto v = enum_parse(table, s);
  if (!v) {
    f.fail(key, fmt::format("unknown value '{}' (expected one of: {})", s, enum_spellings(table)));
    return table[0].value;
  }
  return *v;
}

CsrParams csr_from(JsonFields& f) {
  CsrParams c;
  c.common_name = f.string("common_name");
  c.dns_names = f.strings("dns_names");
  if (const json* s = f.object("subject")) {
    JsonFields sf(*s, "params.subject");
    c.subject = {sf.string("country"),
                 sf.string("state"),
                 sf.string("locality"),
                 sf.string("organization"),
                 sf.string("organizational_unit"),
                 sf.string("email")};
    f.adopt(sf);
  }
  c.key_algorithm = enum_field(f, "key_algorithm", pki::kKeyAlgorithmNames);
  c.key_size = static_cast<int>(f.integer("key_size", 256, 16384));
  c.digest = enum_field(f, "digest", pki::kDigestNames);
  c.reuse_current_key = f.boolean("reuse_current_key");
  return c;
}

// One encoder per params type.
struct ToJson {
  json operator()(const DiscardCsrParams&) const { return json::object(); }
  json operator()(const AppendTrustedCasParams& p) const {
    return {{"pem", p.pem}, {"sha256", p.sha256}};
  }
  json operator()(const GenerateCsrParams& p) const { return csr_json(p.csr); }
  json operator()(const SignCsrParams& p) const { return csr_json(p.csr); }
  json operator()(const SetTlsVerificationParams& p) const {
    return {{"mode", spec::tls_verification_name(p.mode)}};
  }
  json operator()(const UploadCertificateParams&) const { return json::object(); }
  json operator()(const RestartParams&) const { return json::object(); }
  json operator()(const WaitHealthyParams& p) const {
    return {{"timeout_seconds", p.timeout.count()}};
  }
  json operator()(const VerifyServedParams& p) const { return {{"fqdn", p.fqdn}}; }
  json operator()(const RevokeSupersededParams& p) const {
    return {
        {"pem", p.pem}, {"sha256", p.sha256}, {"reason", pki::revocation_reason_name(p.reason)}};
  }
  json operator()(const DeleteTrustedCaParams& p) const { return {{"sha256", p.sha256}}; }
  json operator()(const SetCrlSettingsParams& p) const { return crl_settings_json(p.settings); }
  json operator()(const UploadManualCrlParams& p) const {
    return {{"path", p.path}, {"sha256", p.sha256}};
  }
  json operator()(const SetRevocationCheckingParams& p) const {
    return revocation_checking_json(p.settings);
  }
  json operator()(const SetAcmeSettingsParams& p) const { return acme_settings_json(p.settings); }
  json operator()(const AcmeSignParams& p) const { return csr_json(p.csr); }
  json operator()(const AcmeDeployParams& p) const {
    return p.sha256 ? json{{"sha256", *p.sha256}} : json::object();
  }
  json operator()(const AcmeDiscardPendingParams& p) const {
    return p.sha256 ? json{{"sha256", *p.sha256}} : json::object();
  }
  json operator()(const RemoveManualCrlParams& p) const { return {{"sha256", p.sha256}}; }
};

}  // namespace

const ActionTraits& traits(ActionKind kind) {
  return kTraits[static_cast<size_t>(kind)];
}

const char* action_kind_name(ActionKind kind) {
  return traits(kind).name.data();
}

std::optional<ActionKind> parse_action_kind(std::string_view name) {
  for (const ActionTraits& t : kTraits)
    if (t.name == name) return t.kind;
  return std::nullopt;
}

ActionParams default_params(ActionKind kind) {
  return params_at(static_cast<size_t>(kind),
                   std::make_index_sequence<std::variant_size_v<ActionParams>>{});
}

json params_to_json(const ActionParams& params) {
  return std::visit(ToJson{}, params);
}

json crl_settings_json(const node::CrlSettings& c) {
  return {{"automatic_updates", c.automatic_updates},
          {"distribution_points", c.distribution_points},
          {"daily_update_time", schema::format_time_of_day(c.daily_update_minute)}};
}

json revocation_checking_json(const spec::RevocationChecking& r) {
  return {{"enabled", r.enabled},
          {"ocsp", r.ocsp},
          {"crl", r.crl},
          {"cdp_downloads", r.cdp_downloads},
          {"fallback", spec::revocation_fallback_name(r.fallback)}};
}

json acme_settings_json(const node::AcmeSettings& a) {
  json schedule = nullptr;
  if (a.schedule) {
    std::vector<std::string> days;
    for (auto d : a.schedule->days) days.emplace_back(enum_name(spec::kWeekdayNames, d));
    schedule = {{"days", days}, {"time", schema::format_time_of_day(a.schedule->minute_of_day)}};
  }
  return {{"provider_name", a.provider_name},
          {"provider_directory", a.provider_directory},
          {"email", a.email},
          {"terms_accepted", a.terms_accepted},
          {"mode", spec::acme_mode_name(a.mode)},
          {"renew_key", spec::key_rotation_name(a.renew_key)},
          {"schedule", schedule}};
}

namespace {

node::AcmeSettings acme_settings_from(JsonFields& f) {
  node::AcmeSettings a;
  a.provider_name = f.string("provider_name");
  a.provider_directory = f.string("provider_directory");
  a.email = f.string("email");
  a.terms_accepted = f.boolean("terms_accepted");
  a.mode = enum_field(f, "mode", spec::kAcmeModeNames);
  a.renew_key = enum_field(f, "renew_key", spec::kKeyRotationNames);
  return a;
}

}  // namespace

Result<node::AcmeSettings> acme_settings_from_json(const json& j) {
  JsonFields f(j, "params");
  node::AcmeSettings a = acme_settings_from(f);
  if (!f.ok()) return std::unexpected(*f.error());
  auto sch = j.find("schedule");
  if (sch == j.end()) return make_error(ErrorCode::kInvalidArgument, "params.schedule: missing");
  if (!sch->is_null()) {
    JsonFields sf(*sch, "params.schedule");
    spec::Schedule schedule;
    for (const std::string& d : sf.strings("days")) {
      auto day = enum_parse(spec::kWeekdayNames, d);
      if (!day) {
        sf.fail("days", fmt::format("unknown day '{}' (expected one of: {})", d,
                                    enum_spellings(spec::kWeekdayNames)));
        break;
      }
      schedule.days.push_back(*day);
    }
    std::string t = sf.string("time");
    if (!sf.ok()) return std::unexpected(*sf.error());
    auto minute = schema::parse_time_of_day(t);
    if (!minute)
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("params.schedule.time: '{}' is not HH:MM", t));
    schedule.minute_of_day = *minute;
    a.schedule = schedule;
  }
  return a;
}

Result<ActionParams> params_from_json(ActionKind kind, const json& j) {
  JsonFields f(j, "params");
  ActionParams out = default_params(kind);
  switch (kind) {
    case ActionKind::kDiscardCsr:
    case ActionKind::kUploadCertificate:
    case ActionKind::kRestart:
      break;
    case ActionKind::kAppendTrustedCas: {
      AppendTrustedCasParams p{f.strings("pem"), f.strings("sha256")};
      if (f.ok() && p.pem.size() != p.sha256.size())
        f.fail("sha256", "must list one fingerprint per certificate in params.pem");
      if (f.ok() && p.pem.empty()) f.fail("pem", "lists no certificate");
      out = std::move(p);
      break;
    }
    case ActionKind::kGenerateCsr:
      out = GenerateCsrParams{csr_from(f)};
      break;
    case ActionKind::kSignCsr:
      out = SignCsrParams{csr_from(f)};
      break;
    case ActionKind::kAcmeSign:
      out = AcmeSignParams{csr_from(f)};
      break;
    case ActionKind::kSetTlsVerification:
      out = SetTlsVerificationParams{enum_field(f, "mode", spec::kTlsVerificationNames)};
      break;
    case ActionKind::kWaitHealthy:
      out = WaitHealthyParams{std::chrono::seconds(f.integer("timeout_seconds", 1, 86400))};
      break;
    case ActionKind::kVerifyServed:
      out = VerifyServedParams{f.string("fqdn")};
      break;
    case ActionKind::kRevokeSuperseded: {
      RevokeSupersededParams p;
      p.pem = f.string("pem");
      p.sha256 = f.string("sha256");
      std::string reason = f.string("reason");
      if (f.ok()) {
        auto r = pki::parse_revocation_reason(reason);
        if (!r)
          f.fail("reason", fmt::format("unknown revocation reason '{}' (expected one of: {})",
                                       reason, enum_spellings(pki::kRevocationReasonNames)));
        else
          p.reason = *r;
      }
      out = std::move(p);
      break;
    }
    case ActionKind::kDeleteTrustedCa:
      out = DeleteTrustedCaParams{f.string("sha256")};
      break;
    case ActionKind::kSetCrlSettings: {
      SetCrlSettingsParams p;
      p.settings.automatic_updates = f.boolean("automatic_updates");
      p.settings.distribution_points = f.strings("distribution_points");
      std::string t = f.string("daily_update_time");
      if (f.ok()) {
        if (auto minute = schema::parse_time_of_day(t))
          p.settings.daily_update_minute = *minute;
        else
          f.fail("daily_update_time", fmt::format("'{}' is not HH:MM (00:00-23:59, UTC)", t));
      }
      out = std::move(p);
      break;
    }
    case ActionKind::kUploadManualCrl:
      out = UploadManualCrlParams{f.string("path"), f.string("sha256")};
      break;
    case ActionKind::kSetRevocationChecking: {
      SetRevocationCheckingParams p;
      p.settings.enabled = f.boolean("enabled");
      p.settings.ocsp = f.boolean("ocsp");
      p.settings.crl = f.boolean("crl");
      p.settings.cdp_downloads = f.boolean("cdp_downloads");
      p.settings.fallback = enum_field(f, "fallback", spec::kRevocationFallbackNames);
      out = std::move(p);
      break;
    }
    case ActionKind::kSetAcmeSettings: {
      if (!f.ok()) break;
      auto a = acme_settings_from_json(j);
      if (!a) return std::unexpected(a.error());
      out = SetAcmeSettingsParams{std::move(*a)};
      break;
    }
    case ActionKind::kAcmeDeploy:
      out = AcmeDeployParams{f.optional_string("sha256")};
      break;
    case ActionKind::kAcmeDiscardPending:
      out = AcmeDiscardPendingParams{f.optional_string("sha256")};
      break;
    case ActionKind::kRemoveManualCrl:
      out = RemoveManualCrlParams{f.string("sha256")};
      break;
  }
  if (!f.ok()) return std::unexpected(*f.error());
  return out;
}

}  // namespace edgecert
