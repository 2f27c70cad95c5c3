// The CLI over SSH (the interface reference §3.4): one command line in, its
// XACLI reply out, formatted by providers/wire/xacli.h. The commands
// edgecert sends: xStatus SystemUnit; xConfiguration Alternates; xConfiguration
// SIP TLS Certificate Revocation Checking (read, and one leaf set per line);
// xCommand ACME Providers Read/Write, Settings Read/Write, Sign, Get Pending
// Cert, Delete Pending Cert, Deploy, Revoke; xCommand Restart. Anything else
// is `Reason: "Unknown command"` + ERROR, and recorded as unrecognised.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "providers/base/utf8.h"
#include "providers/simserver/sim_server_internal.h"
#include "providers/ssh/ssh_client.h"
#include "providers/wire/xacli.h"
#include "schema/values.h"

namespace edgecert::simserver::internal {

namespace {

namespace x = wire::xacli;
using x::CommandLine;
using x::Node;
using x::Value;

constexpr const char* kProviderUuid = "Default";
constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const std::vector<std::string> kRevocationWords = {"xConfiguration", "SIP",        "TLS",
                                                   "Certificate",    "Revocation", "Checking"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char p, char q) {
           return std::tolower(static_cast<unsigned char>(p)) ==
                  std::tolower(static_cast<unsigned char>(q));
         });
}

std::string text(const x::Reply& reply) {
  return x::format_reply(reply);
}
std::string ok_reply(std::vector<Node> fields = {}) {
  x::Reply r;
  r.results.push_back(x::ResultBlock{true, std::move(fields)});
  return text(r);
}
std::string error_reply(const std::string& reason) {
  return text(x::error_reply(reason));
}

// A SimNode error as the CLI shows it; an injected connection drop ends the
// session mid-reply.
ssh::Reply failed(const Error& e) {
  if (e.code == ErrorCode::kUnavailable && e.message.rfind("connection dropped", 0) == 0)
    return ssh::Reply("*r Result (status=OK):\r\n", true);
  return error_reply(e.message);
}
template <class T>
ssh::Reply done(const Result<T>& r, std::vector<Node> fields = {}) {
  if (!r) return failed(r.error());
  return ok_reply(std::move(fields));
}

// Arguments outside `allowed` are refused like the appliance refuses them.
std::optional<std::string> unknown_argument(const CommandLine& c,
                                            std::initializer_list<std::string_view> allowed) {
  for (const x::Arg& a : c.args) {
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](std::string_view n) { return iequals(a.name, n); }))
      return fmt::format("Unknown parameter: {}", a.name);
  }
  return std::nullopt;
}

std::string arg_or(const CommandLine& c, std::string_view name, std::string fallback) {
  const x::Arg* a = c.arg(name);
  return a != nullptr ? a->value : fallback;
}

// --- Status and configuration ---------------------------------------------------

ssh::Reply system_unit(NodeServer& n, sim::SimNode& sim) {
  auto v = appliance_view(n, sim);
  if (!v) return failed(v.error());
  x::Reply r;
  r.status.push_back(x::StatusBlock{
      "SystemUnit",
      {Node::leaf("Product", Value::string("TANDBERG VCS")),
       Node::leaf("ProductType", Value::string(v->product_type)),
       Node::leaf("Uptime", Value::bare(std::to_string(v->uptime_seconds))),
       Node::parent("Software", {Node::leaf("Version", Value::string(v->version))})}});
  return text(r);
}

ssh::Reply alternates(NodeServer& n, sim::SimNode& sim) {
  auto v = appliance_view(n, sim);
  if (!v) return failed(v.error());
  x::Reply r;
  r.config.push_back({"Alternates Cluster Name", Value::string(v->cluster_name)});
  r.config.push_back({"Alternates ConfigurationPrimary", Value::bare("1")});
  for (size_t i = 0; i < 6; ++i) {
    r.config.push_back({fmt::format("Alternates Peer {} Address", i + 1),
                        Value::string(i < v->peers.size() ? v->peers[i] : std::string())});
  }
  return text(r);
}

constexpr const char* kRevocationPrefix = "SIP TLS Certificate Revocation Checking ";

ssh::Reply revocation(sim::SimNode& sim, const CommandLine& c) {
  auto st = sim.read_state();
  if (!st) return failed(st.error());
  spec::RevocationChecking rc = st->revocation;
  if (c.args.empty()) {
    // Typing a path prints the values under it (C1).
    auto on = [](bool b) { return Value::bare(b ? "On" : "Off"); };
    const std::string p = kRevocationPrefix;
    std::vector<x::ConfigLine> all = {
        {p + "Mode", on(rc.enabled)},
        {p + "OCSP Mode", on(rc.ocsp)},
        {p + "CRL Mode", on(rc.crl)},
        {p + "CRL Network Fetch Mode", on(rc.cdp_downloads)},
        {p + "Source Inaccessibility Behavior",
         Value::bare(rc.fallback == spec::RevocationFallback::kTreatAsRevoked ? "Fail"
                                                                              : "Ignore")}};
    std::string typed;
    for (size_t i = 1; i < c.words.size(); ++i) typed += c.words[i] + " ";
    x::Reply r;
    for (x::ConfigLine& l : all) {
      std::string path = l.path + " ";
      if (path.size() >= typed.size() &&
          iequals(std::string_view(path).substr(0, typed.size()), typed))
        r.config.push_back(std::move(l));
    }
    if (r.config.empty()) return error_reply("Unknown command");
    return text(r);
  }
  // One leaf per line: the words after the prefix and the argument's name.
  if (c.args.size() != 1) return error_reply("Set one value per command");
  std::string leaf;
  for (size_t i = kRevocationWords.size(); i < c.words.size(); ++i) leaf += c.words[i] + " ";
  leaf += c.args[0].name;
  const std::string& value = c.args[0].value;
  auto on_off = [&](bool& out) -> std::optional<std::string> {
    if (iequals(value, "On")) {
      out = true;
    } else if (iequals(value, "Off")) {
      out = false;
    } else {
      return fmt::format("{}: '{}' is not On or Off", leaf, value);
    }
    return std::nullopt;
  };
  std::optional<std::string> bad;
  if (iequals(leaf, "Mode")) {
    bad = on_off(rc.enabled);
  } else if (iequals(leaf, "OCSP Mode")) {
    bad = on_off(rc.ocsp);
  } else if (iequals(leaf, "CRL Mode")) {
    bad = on_off(rc.crl);
  } else if (iequals(leaf, "CRL Network Fetch Mode")) {
    bad = on_off(rc.cdp_downloads);
  } else if (iequals(leaf, "Source Inaccessibility Behavior")) {
    if (iequals(value, "Fail")) {
      rc.fallback = spec::RevocationFallback::kTreatAsRevoked;
    } else if (iequals(value, "Ignore")) {
      rc.fallback = spec::RevocationFallback::kTreatAsNotRevoked;
    } else {
      bad = fmt::format("{}: '{}' is not Ignore or Fail", leaf, value);
    }
  } else {
    return error_reply("Unknown command");
  }
  if (bad) return error_reply(*bad);
  auto st2 = sim.set_revocation_checking(rc);
  if (!st2) return failed(st2.error());
  return text(x::Reply{});
}

// --- ACME -------------------------------------------------------------------------

const char* managed_name(spec::AcmeMode m) {
  return m == spec::AcmeMode::kAutomated ? "Automated"
         : m == spec::AcmeMode::kManual  ? "Manual"
                                         : "Disabled";
}

std::string schedule_json(const std::optional<spec::Schedule>& s) {
  if (!s) return "";
  nlohmann::json days = nlohmann::json::array();
  for (spec::Weekday d : s->days)
    if (d < kDays.size()) days.push_back(kDays[d]);
  return nlohmann::json{
      {"DaysOfWeek", days},
      {"TimeOfDay", fmt::format("{:02}:{:02}", s->minute_of_day / 60, s->minute_of_day % 60)}}
      .dump();
}

Result<spec::Schedule> schedule_from(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](std::string why) {
    return Error::InvalidArgument("RenewalSchedule: " + std::move(why));
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  spec::Schedule s;
  auto days = j.find("DaysOfWeek");
  if (days == j.end() || !days->is_array()) return bad("DaysOfWeek is missing or not a list");
  for (const auto& d : *days) {
    auto it = std::find_if(kDays.begin(), kDays.end(), [&](const char* name) {
      return d.is_string() && iequals(d.get<std::string>(), name);
    });
    if (it == kDays.end()) return bad("DaysOfWeek holds a value that is not Sun..Sat");
    s.days.push_back(static_cast<spec::Weekday>(it - kDays.begin()));
  }
  std::ranges::sort(s.days);
  s.days.erase(std::unique(s.days.begin(), s.days.end()), s.days.end());
  auto time = j.find("TimeOfDay");
  if (time == j.end() || !time->is_string()) return bad("TimeOfDay is missing or not a string");
  // Exactly HH:MM in range, as the appliance's own check (no sign, no
  // third digit, nothing after the minutes).
  const std::string t = time->get<std::string>();
  std::optional<int> minute = schema::parse_time_of_day(t);
  if (!minute)
    return bad(fmt::format("TimeOfDay '{}' is not HH:MM from 00:00 to 23:59",
                           printable_utf8(t.substr(0, 32))));
  s.minute_of_day = *minute;
  return s;
}

// The DNS names, lower case and sorted (compared as a set).
std::vector<std::string> dns_names(const pki::Certificate& c) {
  std::vector<std::string> out;
  for (std::string n : c.subject_alt_names().dns) {
    for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.push_back(std::move(n));
  }
  std::ranges::sort(out);
  return out;
}

bool has_provider(const node::AcmeSettings& a) {
  return !a.provider_name.empty() || !a.provider_directory.empty();
}

ssh::Reply acme_providers(sim::SimNode& sim, const CommandLine& c, bool write) {
  const std::string uuid = arg_or(c, "ProviderUuid", kProviderUuid);
  if (!iequals(uuid, kProviderUuid))
    return error_reply(fmt::format("No ACME provider has ProviderUuid \"{}\"", uuid));
  auto a = sim.acme_settings();
  if (!a) return failed(a.error());
  if (!write) {
    if (auto bad = unknown_argument(c, {"ProviderUuid"})) return error_reply(*bad);
    if (!has_provider(*a))
      return error_reply(fmt::format("No ACME provider has ProviderUuid \"{}\"", uuid));
    return ok_reply(
        {Node::leaf("ProviderUuid", Value::string(kProviderUuid)),
         Node::leaf("Name", Value::string(a->provider_name)),
         Node::leaf("Url", Value::string(a->provider_directory)),
         Node::leaf("Email", Value::string(a->email)),
         Node::leaf("TermsOfService", Value::string(a->terms_accepted ? "Accepted" : ""))});
  }
  if (auto bad = unknown_argument(c, {"ProviderUuid", "Name", "Url", "Email", "TermsOfService"}))
    return error_reply(*bad);
  node::AcmeSettings s = *a;
  s.provider_name = arg_or(c, "Name", s.provider_name);
  s.provider_directory = arg_or(c, "Url", s.provider_directory);
  s.email = arg_or(c, "Email", s.email);
  if (const x::Arg* t = c.arg("TermsOfService")) {
    if (!t->value.empty() && !iequals(t->value, "Accepted"))
      return error_reply(fmt::format("TermsOfService: '{}' is not Accepted or \"\"", t->value));
    s.terms_accepted = !t->value.empty();
  }
  return done(sim.set_acme_settings(s));
}

ssh::Reply acme_settings(sim::SimNode& sim, const CommandLine& c, bool write) {
  auto a = sim.acme_settings();
  if (!a) return failed(a.error());
  if (!write) {
    if (auto bad = unknown_argument(c, {})) return error_reply(*bad);
    return ok_reply(
        {Node::leaf("AcmeManaged", Value::string(managed_name(a->mode))),
         Node::leaf("ProviderUuid", Value::string(has_provider(*a) ? kProviderUuid : "")),
         Node::leaf(
             "RenewKey",
             Value::string(a->renew_key == spec::KeyRotation::kRetain ? "Retain" : "Rotate")),
         Node::leaf("RenewalSchedule", Value::string(schedule_json(a->schedule)))});
  }
  if (auto bad =
          unknown_argument(c, {"AcmeManaged", "ProviderUuid", "RenewKey", "RenewalSchedule"}))
    return error_reply(*bad);
  node::AcmeSettings s = *a;
  if (const x::Arg* m = c.arg("AcmeManaged")) {
    if (iequals(m->value, "Automated")) {
      s.mode = spec::AcmeMode::kAutomated;
      if (!c.arg("RenewKey") || !c.arg("RenewalSchedule"))
        return error_reply("AcmeManaged Automated needs RenewKey and RenewalSchedule");
    } else if (iequals(m->value, "Manual")) {
      s.mode = spec::AcmeMode::kManual;
    } else if (iequals(m->value, "Disabled")) {
      s.mode = spec::AcmeMode::kDisabled;
    } else {
      return error_reply(
          fmt::format("AcmeManaged: '{}' is not Disabled, Manual or Automated", m->value));
    }
  }
  if (const x::Arg* u = c.arg("ProviderUuid"); u && !iequals(u->value, kProviderUuid))
    return error_reply(fmt::format("No ACME provider has ProviderUuid \"{}\"", u->value));
  if (const x::Arg* k = c.arg("RenewKey")) {
    if (iequals(k->value, "Rotate")) {
      s.renew_key = spec::KeyRotation::kRotate;
    } else if (iequals(k->value, "Retain")) {
      s.renew_key = spec::KeyRotation::kRetain;
    } else {
      return error_reply(fmt::format("RenewKey: '{}' is not Rotate or Retain", k->value));
    }
  }
  if (const x::Arg* r = c.arg("RenewalSchedule")) {
    if (r->value.empty()) {
      s.schedule.reset();
    } else {
      auto sch = schedule_from(r->value);
      if (!sch) return error_reply(sch.error().message);
      s.schedule = *sch;
    }
  }
  return done(sim.set_acme_settings(s));
}

ssh::Reply acme_pending(sim::SimNode& sim) {
  auto st = sim.read_state();
  if (!st) return failed(st.error());
  if (!st->acme_status.pending_certificate_pem) return error_reply("No pending certificate");
  return ok_reply(
      {Node::leaf("Certificate", Value::string(*st->acme_status.pending_certificate_pem))});
}

ssh::Reply acme_revoke(sim::SimNode& sim, const CommandLine& c) {
  if (auto bad = unknown_argument(c, {"CertPath", "Provider"})) return error_reply(*bad);
  const x::Arg* path = c.arg("CertPath");
  const x::Arg* provider = c.arg("Provider");
  if (path == nullptr || provider == nullptr)
    return error_reply("ACME Revoke needs CertPath and Provider");
  auto a = sim.acme_settings();
  if (!a) return failed(a.error());
  if (!has_provider(*a) || provider->value != a->provider_name)
    return error_reply(fmt::format("No ACME provider is named \"{}\"", provider->value));
  auto pem = sim.node_file(path->value);
  if (!pem) return failed(pem.error());
  // C2: only a superseded certificate: a newer one with the same names must
  // be in use (the one in use itself SimNode refuses).
  auto old_leaf = pki::Certificate::parse_one(*pem, path->value);
  if (!old_leaf) return error_reply(fmt::format("{} is not a PEM certificate", path->value));
  auto st = sim.read_state();
  if (!st) return failed(st.error());
  if (!st->server_chain.empty() &&
      st->server_chain.front().sha256_fingerprint() != old_leaf->sha256_fingerprint()) {
    const pki::Certificate& active = st->server_chain.front();
    if (dns_names(active) != dns_names(*old_leaf) || active.not_before() < old_leaf->not_before())
      return error_reply(
          "Revoke only a superseded certificate: a newer certificate with the same subject "
          "alternative names must be in use");
  }
  return done(sim.acme_revoke(*pem));
}

ssh::Reply dispatch(NodeServer& n, sim::SimNode& sim, const CommandLine& c, bool& recognised) {
  recognised = true;
  if (c.is({"xStatus", "SystemUnit"}) && c.args.empty()) return system_unit(n, sim);
  if (c.is({"xConfiguration", "Alternates"}) && c.args.empty()) return alternates(n, sim);
  if (c.starts_with({"xConfiguration", "SIP", "TLS", "Certificate", "Revocation", "Checking"}))
    return revocation(sim, c);
  if (c.is({"xCommand", "ACME", "Providers", "Read"})) return acme_providers(sim, c, false);
  if (c.is({"xCommand", "ACME", "Providers", "Write"})) return acme_providers(sim, c, true);
  if (c.is({"xCommand", "ACME", "Settings", "Read"})) return acme_settings(sim, c, false);
  if (c.is({"xCommand", "ACME", "Settings", "Write"})) return acme_settings(sim, c, true);
  if (c.is({"xCommand", "ACME", "Revoke"})) return acme_revoke(sim, c);
  if (c.args.empty()) {
    if (c.is({"xCommand", "ACME", "Sign"})) return done(sim.acme_sign());
    if (c.is({"xCommand", "ACME", "Get", "Pending", "Cert"})) return acme_pending(sim);
    if (c.is({"xCommand", "ACME", "Delete", "Pending", "Cert"}))
      return done(sim.acme_discard_pending());
    if (c.is({"xCommand", "ACME", "Deploy"})) return done(sim.acme_deploy());
    // The supervisor closes the listeners within its poll interval; not
    // woken here, so this reply is on its way before the session is cut.
    if (c.is({"xCommand", "Restart"})) return done(sim.restart());
  }
  recognised = false;
  return error_reply("Unknown command");
}

}  // namespace

std::string cli_banner(NodeServer& n) {
  std::string version;
  {
    std::lock_guard lock(n.mu);
    auto v = n.sim().ping();
    version = v ? *v : std::string("unknown");
  }
  return fmt::format("Welcome to {}\r\nTANDBERG Video Communication Server {}\r\nOK\r\n",
                     n.listener.name, version);
}

ssh::Reply handle_cli_command(NodeServer& n, const std::string& line) {
  auto c = x::parse_command(line);
  bool recognised = false;
  ssh::Reply reply = error_reply("Unknown command");
  if (c) {
    std::lock_guard lock(n.mu);
    sim::SimNode sim = n.sim();
    reply = dispatch(n, sim, *c, recognised);
  }
  // Only the command's words: its values may name files or addresses.
  if (!recognised)
    n.shared.record_unrecognised(n.listener.name, "SSH " + ssh::command_name(line),
                                 "Unknown command");
  return reply;
}

}  // namespace edgecert::simserver::internal
