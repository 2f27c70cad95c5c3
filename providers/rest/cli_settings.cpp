#include "providers/rest/cli_settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "providers/base/utf8.h"
#include "schema/values.h"

namespace edgecert::rest::detail {
namespace {

using wire::xacli::Arg;
using wire::xacli::CommandLine;
using wire::xacli::Quote;
using wire::xacli::Reply;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::vector<std::string> kRevocationWords = {"xConfiguration", "SIP",        "TLS",
                                                   "Certificate",    "Revocation", "Checking"};
constexpr const char* kRevocationPrefix = "SIP TLS Certificate Revocation Checking";
constexpr const char* kRevocationCommand = "xConfiguration SIP TLS Certificate Revocation Checking";

// The `*c` value of `prefix + " " + leaf`, case-insensitively.
Result<std::string> config_value(const Reply& reply, std::string_view prefix, std::string_view leaf,
                                 std::string_view command) {
  const std::string path = fmt::format("{} {}", prefix, leaf);
  for (const auto& c : reply.config)
    if (iequals(c.path, path)) return c.value.text;
  return Error::Corrupt(fmt::format("reply to '{}' has no '{}' line", command, path));
}

Result<bool> on_off(const Reply& reply, std::string_view leaf) {
  auto v = config_value(reply, kRevocationPrefix, leaf, kRevocationCommand);
  if (!v) return std::unexpected(v.error());
  if (iequals(*v, "On")) return true;
  if (iequals(*v, "Off")) return false;
  return Error::Corrupt(
      fmt::format("reply to '{}': {} is '{}', expected On or Off", kRevocationCommand, leaf, *v));
}

CommandLine revocation_set(std::vector<std::string> extra_words, std::string name,
                           std::string value) {
  CommandLine c;
  c.words = kRevocationWords;
  for (auto& w : extra_words) c.words.push_back(std::move(w));
  c.args.push_back(Arg{std::move(name), std::move(value), Quote::kBare});
  return c;
}

const char* on(bool b) {
  return b ? "On" : "Off";
}

// A string leaf of the first result block (or "" when absent and optional).
Result<std::string> result_text(const Reply& reply, std::string_view key, std::string_view what,
                                bool required) {
  for (const auto& r : reply.results) {
    if (const auto* n = wire::xacli::find(r.fields, key); n && n->value) return n->value->text;
  }
  if (!required) return std::string();
  return Error::Corrupt(fmt::format("reply to '{}' has no field '{}'", what, key));
}

constexpr std::array<const char*, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

CommandLine revocation_read_command() {
  CommandLine c;
  c.words = kRevocationWords;
  return c;
}

Result<spec::RevocationChecking> revocation_from_reply(const Reply& reply) {
  spec::RevocationChecking r;
  auto mode = on_off(reply, "Mode");
  auto ocsp = on_off(reply, "OCSP Mode");
  auto crl = on_off(reply, "CRL Mode");
  auto fetch = on_off(reply, "CRL Network Fetch Mode");
  for (const auto* x : {&mode, &ocsp, &crl, &fetch})
    if (!*x) return std::unexpected(x->error());
  auto behavior =
      config_value(reply, kRevocationPrefix, "Source Inaccessibility Behavior", kRevocationCommand);
  if (!behavior) return std::unexpected(behavior.error());
  if (iequals(*behavior, "Fail")) {
    r.fallback = spec::RevocationFallback::kTreatAsRevoked;
  } else if (iequals(*behavior, "Ignore")) {
    r.fallback = spec::RevocationFallback::kTreatAsNotRevoked;
  } else {
    return Error::Corrupt(
        fmt::format("reply to '{}': Source Inaccessibility Behavior is '{}', expected Ignore or "
                    "Fail",
                    kRevocationCommand, *behavior));
  }
  r.enabled = *mode;
  r.ocsp = *ocsp;
  r.crl = *crl;
  r.cdp_downloads = *fetch;
  return r;
}

std::vector<CommandLine> revocation_write_commands(const spec::RevocationChecking& s) {
  return {
      revocation_set({}, "Mode", on(s.enabled)),
      revocation_set({"OCSP"}, "Mode", on(s.ocsp)),
      revocation_set({"CRL"}, "Mode", on(s.crl)),
      revocation_set({"CRL", "Network", "Fetch"}, "Mode", on(s.cdp_downloads)),
      revocation_set({"Source", "Inaccessibility"}, "Behavior",
                     s.fallback == spec::RevocationFallback::kTreatAsRevoked ? "Fail" : "Ignore"),
  };
}

CommandLine acme_command(std::initializer_list<const char*> words) {
  CommandLine c;
  c.words = {"xCommand", "ACME"};
  for (const char* w : words) c.words.emplace_back(w);
  return c;
}

CommandLine acme_providers_read_command(const std::string& provider_uuid) {
  CommandLine c = acme_command({"Providers", "Read"});
  c.args.push_back(Arg{"ProviderUuid", provider_uuid, Quote::kDouble});
  return c;
}

CommandLine acme_settings_read_command() {
  return acme_command({"Settings", "Read"});
}

std::string acme_provider_uuid(const Reply& settings_reply) {
  auto v = result_text(settings_reply, "ProviderUuid", "xCommand ACME Settings Read", false);
  return v ? *v : std::string();
}

Result<node::AcmeSettings> acme_settings_from(const Reply& providers_reply,
                                              const Reply& settings_reply) {
  constexpr const char* kSettings = "xCommand ACME Settings Read";
  constexpr const char* kProviders = "xCommand ACME Providers Read";
  node::AcmeSettings a;
  auto managed = result_text(settings_reply, "AcmeManaged", kSettings, true);
  if (!managed) return std::unexpected(managed.error());
  if (iequals(*managed, "Disabled") || managed->empty()) {
    a.mode = spec::AcmeMode::kDisabled;
  } else if (iequals(*managed, "Manual")) {
    a.mode = spec::AcmeMode::kManual;
  } else if (iequals(*managed, "Automated")) {
    a.mode = spec::AcmeMode::kAutomated;
  } else {
    return Error::Corrupt(
        fmt::format("reply to '{}': AcmeManaged is '{}', expected Disabled, Manual or Automated",
                    kSettings, *managed));
  }
  auto renew = result_text(settings_reply, "RenewKey", kSettings, false);
  if (!renew) return std::unexpected(renew.error());
  if (iequals(*renew, "Retain")) {
    a.renew_key = spec::KeyRotation::kRetain;
  } else if (iequals(*renew, "Rotate") || renew->empty()) {
    a.renew_key = spec::KeyRotation::kRotate;
  } else {
    return Error::Corrupt(fmt::format("reply to '{}': RenewKey is '{}', expected Rotate or Retain",
                                      kSettings, *renew));
  }
  auto schedule = result_text(settings_reply, "RenewalSchedule", kSettings, false);
  if (!schedule) return std::unexpected(schedule.error());
  if (!schedule->empty()) {
    auto s = schedule_from_json(*schedule);
    if (!s)
      return Error::Corrupt(
          fmt::format("reply to '{}': RenewalSchedule: {}", kSettings, s.error().message));
    a.schedule = *s;
  }
  if (providers_reply.ok) {
    for (auto [key, out] :
         {std::pair{"Name", &a.provider_name}, std::pair{"Url", &a.provider_directory},
          std::pair{"Email", &a.email}}) {
      auto v = result_text(providers_reply, key, kProviders, false);
      if (!v) return std::unexpected(v.error());
      *out = *v;
    }
    auto terms = result_text(providers_reply, "TermsOfService", kProviders, false);
    if (!terms) return std::unexpected(terms.error());
    a.terms_accepted = iequals(*terms, "Accepted");
  }
  return a;
}

CommandLine acme_providers_write_command(const node::AcmeSettings& s) {
  CommandLine c = acme_command({"Providers", "Write"});
  c.args.push_back(Arg{"ProviderUuid", kAcmeProviderUuid, Quote::kDouble});
  c.args.push_back(Arg{"Name", s.provider_name, Quote::kDouble});
  c.args.push_back(Arg{"Url", s.provider_directory, Quote::kDouble});
  c.args.push_back(Arg{"Email", s.email, Quote::kDouble});
  c.args.push_back(Arg{"TermsOfService", s.terms_accepted ? "Accepted" : "", Quote::kDouble});
  return c;
}

CommandLine acme_settings_write_command(const node::AcmeSettings& s) {
  CommandLine c = acme_command({"Settings", "Write"});
  const char* managed = s.mode == spec::AcmeMode::kAutomated ? "Automated"
                        : s.mode == spec::AcmeMode::kManual  ? "Manual"
                                                             : "Disabled";
  c.args.push_back(Arg{"AcmeManaged", managed, Quote::kDouble});
  c.args.push_back(Arg{"ProviderUuid", kAcmeProviderUuid, Quote::kDouble});
  c.args.push_back(Arg{"RenewKey", s.renew_key == spec::KeyRotation::kRetain ? "Retain" : "Rotate",
                       Quote::kDouble});
  if (s.schedule)
    c.args.push_back(Arg{"RenewalSchedule", schedule_json(*s.schedule), Quote::kSingle});
  return c;
}

Result<std::string> acme_pending_certificate(const Reply& reply) {
  return result_text(reply, "Certificate", "xCommand ACME Get Pending Cert", true);
}

CommandLine acme_revoke_command(const std::string& cert_path, const std::string& provider_name) {
  CommandLine c = acme_command({"Revoke"});
  c.args.push_back(Arg{"CertPath", cert_path, Quote::kDouble});
  c.args.push_back(Arg{"Provider", provider_name, Quote::kDouble});
  return c;
}

std::string schedule_json(const spec::Schedule& schedule) {
  nlohmann::json days = nlohmann::json::array();
  for (spec::Weekday d : schedule.days)
    if (d < kDayNames.size()) days.push_back(kDayNames[d]);
  return nlohmann::json{{"DaysOfWeek", days},
                        {"TimeOfDay", fmt::format("{:02}:{:02}", schedule.minute_of_day / 60,
                                                  schedule.minute_of_day % 60)}}
      .dump();
}

Result<spec::Schedule> schedule_from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Error::Corrupt(fmt::format("'{}' is not a JSON object", printable_utf8(text)));
  spec::Schedule s;
  auto days = j.find("DaysOfWeek");
  if (days == j.end() || !days->is_array())
    return Error::Corrupt("DaysOfWeek is missing or not a list");
  for (const auto& d : *days) {
    if (!d.is_string()) return Error::Corrupt("DaysOfWeek holds a value that is not a day name");
    const std::string name = d.get<std::string>();
    auto it = std::ranges::find_if(kDayNames, [&](const char* n) { return iequals(n, name); });
    if (it == kDayNames.end())
      return Error::Corrupt(fmt::format("DaysOfWeek: '{}' is not Sun..Sat", name));
    s.days.push_back(static_cast<spec::Weekday>(it - kDayNames.begin()));
  }
  std::ranges::sort(s.days);
  s.days.erase(std::unique(s.days.begin(), s.days.end()), s.days.end());
  auto time = j.find("TimeOfDay");
  if (time == j.end() || !time->is_string()) return Error::Corrupt("TimeOfDay is missing");
  const std::string t = time->get<std::string>();
  std::optional<int> minute = schema::parse_time_of_day(t);
  if (!minute) return Error::Corrupt(fmt::format("TimeOfDay '{}' is not HH:MM", t));
  s.minute_of_day = *minute;
  return s;
}

CommandLine alternates_command() {
  CommandLine c;
  c.words = {"xConfiguration", "Alternates"};
  return c;
}

Result<wire::xml::Alternates> alternates_from_reply(const Reply& reply) {
  constexpr const char* kWhat = "xConfiguration Alternates";
  wire::xml::Alternates a;
  for (const auto& c : reply.config) {
    std::string_view path = c.path;
    if (path.size() < 11 || !iequals(path.substr(0, 11), "Alternates ")) continue;
    path.remove_prefix(11);
    if (iequals(path, "Cluster Name")) {
      a.cluster_name = c.value.text;
    } else if (iequals(path, "ConfigurationPrimary")) {
      auto v = to_int(c.value.text);
      if (!v || *v < 0 || *v > 6)
        return Error::Corrupt(
            fmt::format("reply to '{}': ConfigurationPrimary is '{}'", kWhat, c.value.text));
      a.configuration_primary = static_cast<int>(*v);
    } else if (path.size() > 5 && iequals(path.substr(0, 5), "Peer ")) {
      std::string_view rest = path.substr(5);
      size_t sp = rest.find(' ');
      if (sp == std::string_view::npos || !iequals(rest.substr(sp + 1), "Address")) continue;
      auto index = to_int(rest.substr(0, sp));
      if (!index || *index < 1 || *index > 6)
        return Error::Corrupt(
            fmt::format("reply to '{}': peer index '{}' is not 1..6", kWhat, rest.substr(0, sp)));
      if (!c.value.text.empty()) a.peers.push_back({static_cast<int>(*index), c.value.text});
    }
  }
  std::ranges::sort(a.peers, {}, &wire::xml::Peer::index);
  return a;
}

CommandLine system_unit_command() {
  CommandLine c;
  c.words = {"xStatus", "SystemUnit"};
  return c;
}

Result<UnitStatus> system_unit_from_reply(const Reply& reply) {
  constexpr const char* kWhat = "xStatus SystemUnit";
  const wire::xacli::StatusBlock* block = nullptr;
  for (const auto& b : reply.status)
    if (iequals(b.path, "SystemUnit")) block = &b;
  if (block == nullptr)
    return Error::Corrupt(fmt::format("reply to '{}' has no SystemUnit block", kWhat));
  UnitStatus u;
  auto product = wire::xacli::field(block->children, "Product", kWhat);
  if (!product) return std::unexpected(product.error());
  u.product = product->text;
  if (auto t = wire::xacli::field(block->children, "ProductType", kWhat)) u.product_type = t->text;
  auto uptime = wire::xacli::field(block->children, "Uptime", kWhat);
  if (!uptime) return std::unexpected(uptime.error());
  auto seconds = to_int(uptime->text);
  if (!seconds || *seconds < 0)
    return Error::Corrupt(
        fmt::format("reply to '{}': Uptime '{}' is not a number of seconds", kWhat, uptime->text));
  u.uptime_seconds = *seconds;
  const wire::xacli::Node* software = wire::xacli::find(block->children, "Software");
  if (software == nullptr)
    return Error::Corrupt(fmt::format("reply to '{}' has no field 'Software'", kWhat));
  auto version = wire::xacli::field(software->children, "Version", kWhat);
  if (!version) return std::unexpected(version.error());
  u.version = version->text;
  return u;
}

node::Product product_from_type(std::string_view product_type) {
  if (iequals(product_type, "Expressway-E")) return node::Product::kExpresswayE;
  if (iequals(product_type, "Expressway-C")) return node::Product::kExpresswayC;
  return node::Product::kUnknown;
}

}  // namespace edgecert::rest::detail
