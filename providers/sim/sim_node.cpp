#include "providers/sim/sim_node.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <random>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"
#include "providers/sim/sim_acme.h"
#include "providers/base/fqdn.h"

namespace edgecert::sim {

using nlohmann::json;

namespace {

constexpr size_t kMaxManualCrlBytes = 16 * 1024 * 1024;

// A certificate chain (PEM, leaf first) with the key the node holds for it.
struct KeyedChain {
  std::vector<std::string> chain;
  std::string key;  // PEM; the node's disk only
};

// A certificate the ACME provider signed, staged until deployed.
struct AcmePending {
  std::vector<std::string> chain;  // PEM, leaf first
  std::string key;                 // PEM of the CSR's key; the node's disk only
  std::string csr;                 // the request it answers (PEM)
};

// The CSR (and key) of the deployed ACME certificate: what automated renewal
// re-submits (renew key retain) or copies the subject and names from (rotate).
struct AcmeStored {
  std::string csr;
  std::string key;  // PEM; the node's disk only
};

struct RestartInProgress {
  int64_t until_ms = 0;      // back up at (Unix epoch milliseconds)
  int64_t down_from_ms = 0;  // still answering before this (restart_delay_seconds)
  bool never = false;
  bool keep_old = false;
};

// The whole node file, decoded.
struct State {
  std::string name;
  std::string fqdn;
  std::string version = kSoftwareVersion;
  KeyedChain active;
  std::optional<KeyedChain> staged;
  std::optional<KeyedChain> csr;  // chain = {CSR PEM}
  std::vector<std::string> factory_cas;
  std::vector<std::string> trusted_cas;
  node::CrlSettings crl;
  std::optional<std::string> manual_crl_hex;  // bytes as uploaded, hex
  spec::RevocationChecking revocation;
  node::AcmeSettings acme;
  std::string acme_last_sign;
  std::string acme_last_deploy;
  std::string acme_account_key;        // PEM; "" until first needed; the node's disk only
  std::string acme_account_url;        // "" = not registered
  std::string acme_account_directory;  // the directory acme_account_url belongs to
  std::optional<AcmePending> acme_pending;
  std::optional<AcmeStored> acme_stored;
  std::string acme_deployed_sha256;  // leaf the ACME service deployed last
  // Simulator administration (sim_node.h): the http-01 listener address and
  // the automated-mode scheduler's seed and progress.
  std::string http01_listen = kDefaultHttp01Listen;
  uint64_t scheduler_seed = 1;
  int64_t scheduler_done_ms = 0;  // scheduler events up to here have run
  spec::TlsVerification tls = spec::TlsVerification::kEnforce;
  bool restart_required = false;
  std::optional<RestartInProgress> restarting;
  int restart_seconds = kDefaultRestartSeconds;
  FaultConfig faults;
  uint64_t request_counter = 0;
};

int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string to_hex(std::string_view data) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((val(hex[i]) << 4) | val(hex[i + 1])));
  }
  return out;
}

// "AB:CD" / "abcd" -> "ABCD"
std::string normalize_fingerprint(std::string_view fp) {
  std::string out;
  for (char c : fp) {
    if (c == ':' || c == ' ') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

// --- JSON mapping -------------------------------------------------------------

json chain_json(const KeyedChain& k) {
  return json{{"chain", k.chain}, {"key", k.key}};
}
KeyedChain chain_from(const json& j) {
  return KeyedChain{j.at("chain").get<std::vector<std::string>>(), j.at("key").get<std::string>()};
}

json faults_json(const FaultConfig& f) {
  return json{{"latency_ms", f.latency_ms},
              {"failure_rate", f.failure_rate},
              {"seed", f.seed},
              {"drop_connections", f.drop_connections},
              {"drop_after_apply", f.drop_after_apply},
              {"restart_never_returns", f.restart_never_returns},
              {"restart_keeps_old_certificate", f.restart_keeps_old_certificate},
              {"slow_restart_seconds", f.slow_restart_seconds},
              {"restart_delay_seconds", f.restart_delay_seconds}};
}

FaultConfig faults_from(const json& j) {
  FaultConfig f;
  f.latency_ms = j.value("latency_ms", 0);
  f.failure_rate = j.value("failure_rate", 0.0);
  f.seed = j.value("seed", uint64_t{1});
  f.drop_connections = j.value("drop_connections", 0);
  f.drop_after_apply = j.value("drop_after_apply", false);
  f.restart_never_returns = j.value("restart_never_returns", false);
  f.restart_keeps_old_certificate = j.value("restart_keeps_old_certificate", false);
  f.slow_restart_seconds = j.value("slow_restart_seconds", 0);
  f.restart_delay_seconds = j.value("restart_delay_seconds", 0);
  return f;
}

json state_json(const State& s) {
  json j;
  j["format"] = 1;
  j["name"] = s.name;
  j["fqdn"] = s.fqdn;
  j["software_version"] = s.version;
  j["active"] = chain_json(s.active);
  j["staged"] = s.staged ? chain_json(*s.staged) : json(nullptr);
  j["csr"] = s.csr ? json{{"pem", s.csr->chain.at(0)}, {"key", s.csr->key}} : json(nullptr);
  j["factory_cas"] = s.factory_cas;
  j["trusted_cas"] = s.trusted_cas;
  j["crl"] = json{{"automatic_updates", s.crl.automatic_updates},
                  {"distribution_points", s.crl.distribution_points},
                  {"daily_update_minute", s.crl.daily_update_minute}};
  j["manual_crl_hex"] = s.manual_crl_hex ? json(*s.manual_crl_hex) : json(nullptr);
  j["revocation"] = json{{"enabled", s.revocation.enabled},
                         {"ocsp", s.revocation.ocsp},
                         {"crl", s.revocation.crl},
                         {"cdp_downloads", s.revocation.cdp_downloads},
                         {"fallback_treat_as_revoked",
                          s.revocation.fallback == spec::RevocationFallback::kTreatAsRevoked}};
  json acme{{"provider_name", s.acme.provider_name},
            {"provider_directory", s.acme.provider_directory},
            {"email", s.acme.email},
            {"terms_accepted", s.acme.terms_accepted},
            {"mode", static_cast<int>(s.acme.mode)},
            {"renew_key", static_cast<int>(s.acme.renew_key)},
            {"last_sign_status", s.acme_last_sign},
            {"last_deploy_status", s.acme_last_deploy},
            {"account_key", s.acme_account_key},
            {"account_url", s.acme_account_url},
            {"account_directory", s.acme_account_directory},
            {"deployed_sha256", s.acme_deployed_sha256}};
  acme["pending"] = s.acme_pending ? json{{"chain", s.acme_pending->chain},
                                          {"key", s.acme_pending->key},
                                          {"csr", s.acme_pending->csr}}
                                   : json(nullptr);
  acme["stored_csr"] = s.acme_stored
                           ? json{{"csr", s.acme_stored->csr}, {"key", s.acme_stored->key}}
                           : json(nullptr);
  if (s.acme.schedule) {
    acme["schedule"] =
        json{{"days", s.acme.schedule->days}, {"minute_of_day", s.acme.schedule->minute_of_day}};
  } else {
    acme["schedule"] = nullptr;
  }
  j["acme"] = acme;
  j["tls_verification"] = spec::tls_verification_name(s.tls);
  j["restart_required"] = s.restart_required;
  if (s.restarting) {
    j["restarting"] = json{{"until_ms", s.restarting->until_ms},
                           {"down_from_ms", s.restarting->down_from_ms},
                           {"never", s.restarting->never},
                           {"keep_old", s.restarting->keep_old}};
  } else {
    j["restarting"] = nullptr;
  }
  j["restart_seconds"] = s.restart_seconds;
  j["faults"] = faults_json(s.faults);
  j["sim_acme"] = json{{"http01_listen", s.http01_listen},
                       {"scheduler_seed", s.scheduler_seed},
                       {"scheduler_done_ms", s.scheduler_done_ms}};
  j["request_counter"] = s.request_counter;
  return j;
}

State state_from(const json& j) {
  State s;
  s.name = j.at("name").get<std::string>();
  s.fqdn = j.at("fqdn").get<std::string>();
  s.version = j.value("software_version", std::string(kSoftwareVersion));
  s.active = chain_from(j.at("active"));
  if (!j.at("staged").is_null()) s.staged = chain_from(j.at("staged"));
  if (!j.at("csr").is_null()) {
    s.csr =
        KeyedChain{{j["csr"].at("pem").get<std::string>()}, j["csr"].at("key").get<std::string>()};
  }
  s.factory_cas = j.at("factory_cas").get<std::vector<std::string>>();
  s.trusted_cas = j.at("trusted_cas").get<std::vector<std::string>>();
  const json& c = j.at("crl");
  s.crl.automatic_updates = c.at("automatic_updates").get<bool>();
  s.crl.distribution_points = c.at("distribution_points").get<std::vector<std::string>>();
  s.crl.daily_update_minute = c.at("daily_update_minute").get<int>();
  if (!j.at("manual_crl_hex").is_null()) s.manual_crl_hex = j["manual_crl_hex"].get<std::string>();
  const json& r = j.at("revocation");
  s.revocation.enabled = r.at("enabled").get<bool>();
  s.revocation.ocsp = r.at("ocsp").get<bool>();
  s.revocation.crl = r.at("crl").get<bool>();
  s.revocation.cdp_downloads = r.at("cdp_downloads").get<bool>();
  s.revocation.fallback = r.at("fallback_treat_as_revoked").get<bool>()
                              ? spec::RevocationFallback::kTreatAsRevoked
                              : spec::RevocationFallback::kTreatAsNotRevoked;
  const json& a = j.at("acme");
  s.acme.provider_name = a.at("provider_name").get<std::string>();
  s.acme.provider_directory = a.at("provider_directory").get<std::string>();
  s.acme.email = a.at("email").get<std::string>();
  s.acme.terms_accepted = a.at("terms_accepted").get<bool>();
  s.acme.mode = static_cast<spec::AcmeMode>(a.at("mode").get<int>());
  s.acme.renew_key = static_cast<spec::KeyRotation>(a.at("renew_key").get<int>());
  s.acme_last_sign = a.value("last_sign_status", std::string());
  s.acme_last_deploy = a.value("last_deploy_status", std::string());
  s.acme_account_key = a.value("account_key", std::string());
  s.acme_account_url = a.value("account_url", std::string());
  s.acme_account_directory = a.value("account_directory", std::string());
  s.acme_deployed_sha256 = a.value("deployed_sha256", std::string());
  if (a.contains("pending") && !a["pending"].is_null()) {
    const json& p = a["pending"];
    s.acme_pending = AcmePending{p.at("chain").get<std::vector<std::string>>(),
                                 p.at("key").get<std::string>(), p.at("csr").get<std::string>()};
  }
  if (a.contains("stored_csr") && !a["stored_csr"].is_null()) {
    const json& p = a["stored_csr"];
    s.acme_stored = AcmeStored{p.at("csr").get<std::string>(), p.at("key").get<std::string>()};
  }
  if (!a.at("schedule").is_null()) {
    spec::Schedule sch;
    sch.days = a["schedule"].at("days").get<std::vector<spec::Weekday>>();
    sch.minute_of_day = a["schedule"].at("minute_of_day").get<int>();
    s.acme.schedule = sch;
  }
  s.tls = j.at("tls_verification").get<std::string>() == "permissive"
              ? spec::TlsVerification::kPermissive
              : spec::TlsVerification::kEnforce;
  s.restart_required = j.at("restart_required").get<bool>();
  if (!j.at("restarting").is_null()) {
    const json& rs = j["restarting"];
    s.restarting =
        RestartInProgress{rs.at("until_ms").get<int64_t>(), rs.value("down_from_ms", int64_t{0}),
                          rs.at("never").get<bool>(), rs.at("keep_old").get<bool>()};
  }
  s.restart_seconds = j.value("restart_seconds", kDefaultRestartSeconds);
  s.faults = faults_from(j.value("faults", json::object()));
  const json sa = j.value("sim_acme", json::object());
  s.http01_listen = sa.value("http01_listen", std::string(kDefaultHttp01Listen));
  s.scheduler_seed = sa.value("scheduler_seed", uint64_t{1});
  s.scheduler_done_ms = sa.value("scheduler_done_ms", int64_t{0});
  s.request_counter = j.value("request_counter", uint64_t{0});
  return s;
}

// Deterministic per-request randomness: SplitMix64 of (seed, request number).
double unit_random(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (counter + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

Result<std::vector<pki::Certificate>> parse_pems(const std::vector<std::string>& pems,
                                                 const std::string& what) {
  std::vector<pki::Certificate> out;
  out.reserve(pems.size());
  for (size_t i = 0; i < pems.size(); ++i) {
    auto c = pki::Certificate::parse_one(pems[i], fmt::format("{} {}", what, i));
    if (!c) return make_error(ErrorCode::kCorrupt, c.error().message);
    out.push_back(std::move(*c));
  }
  return out;
}

// A uuid-looking tag for the factory CA, as fresh installs have.
std::string uuid_ish() {
  std::random_device rd;
  auto r32 = [&] { return static_cast<uint32_t>(rd()); };
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:08x}{:04x}", r32(), r32() & 0xffff,
                     (r32() & 0x0fff) | 0x4000, (r32() & 0x3fff) | 0x8000, r32(), r32() & 0xffff);
}

Result<std::string> key_pem(const pki::PrivateKey& key) {
  auto pem = key.to_pem();
  if (!pem) return std::unexpected(pem.error());
  return std::string(pem->view());
}

// A fresh install: temporary CA + server certificate for the node FQDN.
Result<State> factory_state(const std::string& name, const std::string& fqdn, TimePoint now) {
  State s;
  s.name = name;
  s.fqdn = fqdn;
  auto ca_key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  if (!ca_key) return std::unexpected(ca_key.error());
  pki::CaOptions ca_opts;
  ca_opts.common_name = "TEMPORARY CA " + uuid_ish();
  ca_opts.subject.organization = "Temporary CA";
  ca_opts.not_before = now - std::chrono::hours(1);
  ca_opts.not_after = now + std::chrono::days(365 * 5);
  auto ca = pki::create_self_signed_ca(*ca_key, ca_opts);
  if (!ca) return std::unexpected(ca.error());

  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  if (!key) return std::unexpected(key.error());
  pki::CsrOptions csr_opts;
  csr_opts.common_name = fqdn;
  csr_opts.dns_names = {fqdn};
  auto csr = pki::CertificateRequest::create(*key, csr_opts);
  if (!csr) return std::unexpected(csr.error());
  pki::IssueOptions issue;
  issue.not_before = now - std::chrono::hours(1);
  issue.not_after = now + std::chrono::days(365 * 2);
  issue.serial_hex = "02";
  auto cert = pki::sign_csr(*csr, *ca, *ca_key, issue);
  if (!cert) return std::unexpected(cert.error());

  auto pem = key_pem(*key);
  if (!pem) return std::unexpected(pem.error());
  s.active = KeyedChain{{cert->to_pem()}, *pem};
  s.factory_cas = {ca->to_pem()};
  s.trusted_cas = s.factory_cas;
  return s;
}

// Appliance-style alarms on the serving certificate.
std::vector<node::Alarm> alarms_for(const pki::Certificate& leaf, TimePoint now) {
  std::vector<node::Alarm> out;
  auto left = leaf.not_after() - now;
  auto days = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
  if (leaf.is_expired_at(now) || days < 1) {
    out.push_back({"40068", fmt::format("Security alert: the server certificate has expired or "
                                        "expires today ({})",
                                        pki::format_time(leaf.not_after()))});
  } else if (days <= 30) {
    out.push_back(
        {"40069", fmt::format("Security alert: the server certificate expires in {} days", days)});
  }
  if (leaf.subject_cn().empty()) {
    // The appliance raises an alarm for a certificate without CN; its id is not
    // in our references, so the simulator uses a name instead of a number.
    out.push_back({"missing-common-name", "The server certificate has no common name (CN)"});
  }
  return out;
}

bool valid_node_name(const std::string& n) {
  if (n.empty() || n.size() > 63) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

// ---------------------------------------------------------------------------
// Operation plumbing: load, faults, restart, body, save, audit.

namespace {

struct OpContext {
  State state;
  json details = json::object();
  bool changed = false;
  // Save the state even when the operation fails: a failed ACME sign still
  // registered the account and records its last sign status.
  bool persist_on_error = false;
};

void write_audit(Env& env, const std::string& audit_path, const std::string& node, TimePoint t,
                 const std::string& op, const std::string& outcome, const json& details) {
  json line{{"time", pki::format_time_iso(t)},
            {"node", node},
            {"operation", op},
            {"outcome", outcome},
            {"details", details}};
  (void)env.append_file(audit_path, line.dump() + "\n", 0600);
}

std::string error_outcome(const Error& e) {
  return fmt::format("error: {}: {}", error_code_name(e.code), e.message);
}

// --- The ACME service (guide ch.4) ---------------------------------------------

// Why the service cannot sign, deploy or revoke with these settings.
std::optional<Error> acme_unusable(const node::AcmeSettings& a) {
  if (a.mode == spec::AcmeMode::kDisabled) {
    return invalid("the ACME service is disabled; configure the provider, e-mail and terms first");
  }
  if (a.provider_directory.rfind("https://", 0) != 0 || a.email.empty() || !a.terms_accepted) {
    return invalid("the ACME settings are incomplete (provider directory, e-mail, terms)");
  }
  return std::nullopt;
}

std::string status_line(const char* what, TimePoint t) {
  return fmt::format("{}: {}", what, pki::format_time_iso(t));
}

std::string chain_text(const std::vector<std::string>& chain) {
  std::string out;
  for (const std::string& pem : chain) {
    out += pem;
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

// The node's ACME client with its account: the account key is created on
// first use, the account registered with the configured provider when it is
// not yet (both kept in `s`, whatever happens next).
Result<std::unique_ptr<NodeAcmeClient>> acme_client_for(Env& env, State& s, json& details) {
  if (s.acme_account_key.empty()) {
    auto k = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    if (!k) return std::unexpected(k.error());
    auto pem = key_pem(*k);
    if (!pem) return std::unexpected(pem.error());
    s.acme_account_key = *pem;
    details["account_key_created"] = true;
  }
  auto key = pki::PrivateKey::parse(s.acme_account_key, "ACME account key");
  if (!key) return make_error(ErrorCode::kCorrupt, key.error().message);
  auto client =
      NodeAcmeClient::open(env, s.acme.provider_directory, s.trusted_cas, std::move(*key));
  if (!client) return std::unexpected(client.error());
  const bool known =
      !s.acme_account_url.empty() && s.acme_account_directory == s.acme.provider_directory;
  auto url = (*client)->ensure_account(known ? s.acme_account_url : "", s.acme.email);
  if (!url) return std::unexpected(url.error());
  if (!known) details["account_registered"] = *url;
  s.acme_account_url = *url;
  s.acme_account_directory = s.acme.provider_directory;
  return client;
}

// Signs `csr_pem` through the provider; returns the chain (PEM, leaf first)
// after checking that it certifies the request's key.
Result<std::vector<std::string>> acme_sign_csr(Env& env, State& s, const std::string& csr_pem,
                                               json& details) {
  auto csr = pki::CertificateRequest::parse(csr_pem, "ACME CSR");
  if (!csr) return make_error(ErrorCode::kCorrupt, csr.error().message);
  auto names = acme::order_names(*csr);
  if (!names) return std::unexpected(names.error());
  details["names"] = *names;
  details["provider"] = s.acme.provider_name;
  details["directory"] = s.acme.provider_directory;
  const std::string where = "ACME provider " + s.acme.provider_directory;
  auto client = acme_client_for(env, s, details);
  if (!client) return std::unexpected(client.error().with_context(where));
  auto pem = (*client)->sign(*csr, s.http01_listen);
  if (!pem) return std::unexpected(pem.error().with_context(where));
  auto chain = pki::Certificate::parse_all(*pem, "ACME certificate chain");
  if (!chain || chain->empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "the ACME provider returned no usable certificate chain" +
                          (chain ? std::string() : ": " + chain.error().message));
  }
  if (pki::spki_sha256(chain->front()) != pki::spki_sha256(*csr)) {
    return make_error(ErrorCode::kUnavailable,
                      "the ACME provider's certificate is not for the CSR's key");
  }
  std::vector<std::string> out;
  for (const pki::Certificate& c : *chain) out.push_back(c.to_pem());
  details["sha256"] = chain->front().sha256_fingerprint();
  details["serial"] = chain->front().serial_hex();
  details["not_after"] = pki::format_time(chain->front().not_after());
  return out;
}

// Makes the pending ACME certificate the active one, at once (no restart:
// the appliance reloads its certificate in place, guide ch.4). The request it
// answers becomes the stored CSR for automated renewal.
void acme_activate(State& s, TimePoint t, json& details) {
  AcmePending p = std::move(*s.acme_pending);
  s.acme_pending.reset();
  if (s.csr && s.csr->chain.at(0) == p.csr) s.csr.reset();  // consumed by the deploy
  s.active = KeyedChain{p.chain, p.key};
  s.acme_stored = AcmeStored{p.csr, p.key};
  auto leaf = pki::Certificate::parse_one(p.chain.at(0), "ACME certificate");
  s.acme_deployed_sha256 = leaf ? leaf->sha256_fingerprint() : std::string();
  s.acme_last_deploy = status_line("Success", t);
  details["sha256"] = s.acme_deployed_sha256;
}

// A CSR like `stored` (subject, names, key type and size, digest) for a fresh
// key: automated renewal with renew key "rotate".
Result<AcmeStored> rotated_request(const std::string& stored_csr) {
  auto old = pki::CertificateRequest::parse(stored_csr, "stored ACME CSR");
  if (!old) return make_error(ErrorCode::kCorrupt, old.error().message);
  pki::KeyInfo ki = old->key_info();
  bool rsa = ki.algorithm == "RSA";
  auto key = pki::PrivateKey::generate(rsa ? spec::KeyAlgorithm::kRsa : spec::KeyAlgorithm::kEcdsa,
                                       ki.bits);
  if (!key) return std::unexpected(key.error());
  pki::CsrOptions o;
  o.common_name = old->subject_cn();
  for (const pki::NameAttribute& a : old->subject_attributes()) {
    if (a.short_name == "C") o.subject.country = a.value;
    if (a.short_name == "ST") o.subject.state = a.value;
    if (a.short_name == "L") o.subject.locality = a.value;
    if (a.short_name == "O") o.subject.organization = a.value;
    if (a.short_name == "OU") o.subject.organizational_unit = a.value;
  }
  o.dns_names = old->subject_alt_names().dns;
  std::string d = old->signature_digest();
  o.digest = d == "sha384"   ? spec::Digest::kSha384
             : d == "sha512" ? spec::Digest::kSha512
                             : spec::Digest::kSha256;
  auto csr = pki::CertificateRequest::create(*key, o);
  if (!csr) return std::unexpected(csr.error());
  auto pem = key_pem(*key);
  if (!pem) return std::unexpected(pem.error());
  return AcmeStored{csr->to_pem(), *pem};
}

// Where the node writes its audit trail, for the scheduler's own entries.
struct AuditSink {
  Env& env;
  const std::string& path;
  const std::string& node;
};

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;
constexpr int64_t kHalfDayMs = kDayMs / 2;

// The appliance's automated mode, run for every scheduler event in
// (s.scheduler_done_ms, now]: twice a day, at random (seeded) times in each
// half of the UTC day, it renews once two thirds of the lifetime of the
// certificate it deployed have passed; at every scheduled slot (days of the
// week + time of day, UTC) it deploys a pending certificate. Events run in
// time order, as if the node's scheduler had been running all along. Returns
// whether the state changed.
bool run_acme_scheduler(Env& env, State& s, TimePoint now, const AuditSink& audit) {
  const int64_t from = s.scheduler_done_ms;
  const int64_t to = to_ms(now);
  s.scheduler_done_ms = std::max(from, to);
  const bool automated = s.acme.mode == spec::AcmeMode::kAutomated && s.acme.schedule &&
                         !s.acme.schedule->days.empty();
  // First run in automated mode (a node file from before the scheduler):
  // start counting now, and save that.
  if (automated && from <= 0) return true;
  if (!automated || from >= to) return false;

  struct Event {
    int64_t at_ms;
    bool deploy_slot;
  };
  std::vector<Event> events;
  for (int64_t day = from / kDayMs; day <= to / kDayMs; ++day) {
    for (int half = 0; half < 2; ++half) {
      double r =
          unit_random(s.scheduler_seed ^ 0x5eedacedULL, static_cast<uint64_t>(day * 2 + half));
      events.push_back({day * kDayMs + half * kHalfDayMs +
                            static_cast<int64_t>(r * static_cast<double>(kHalfDayMs)),
                        false});
    }
    // 1970-01-01 was a Thursday (weekday 4, 0 = Sunday).
    auto weekday = static_cast<spec::Weekday>((day + 4) % 7);
    const auto& days = s.acme.schedule->days;
    if (std::find(days.begin(), days.end(), weekday) != days.end()) {
      events.push_back({day * kDayMs + int64_t{s.acme.schedule->minute_of_day} * 60 * 1000, true});
    }
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at_ms < b.at_ms; });

  bool changed = false;
  bool failed = false;  // one failed renewal per catch-up: the next check is hours away
  for (const Event& e : events) {
    if (e.at_ms <= from || e.at_ms > to) continue;
    const TimePoint t{std::chrono::milliseconds(e.at_ms)};
    if (e.deploy_slot) {
      if (!s.acme_pending) continue;
      json details{{"slot", pki::format_time_iso(t)}};
      acme_activate(s, t, details);
      write_audit(env, audit.path, audit.node, t, "acme_automated_deploy", "ok", details);
      changed = true;
      continue;
    }
    if (failed || s.acme_pending || !s.acme_stored || s.acme_deployed_sha256.empty()) continue;
    auto active = pki::Certificate::parse_one(s.active.chain.at(0), "active certificate");
    // Only the certificate the service deployed itself is renewed.
    if (!active || active->sha256_fingerprint() != s.acme_deployed_sha256) continue;
    TimePoint due = active->not_before() + (active->not_after() - active->not_before()) * 2 / 3;
    if (t < due) continue;

    json details{{"renew_key", spec::key_rotation_name(s.acme.renew_key)},
                 {"replaces", s.acme_deployed_sha256}};
    Result<AcmeStored> request = s.acme.renew_key == spec::KeyRotation::kRotate
                                     ? rotated_request(s.acme_stored->csr)
                                     : Result<AcmeStored>(*s.acme_stored);
    Result<std::vector<std::string>> chain =
        request ? acme_sign_csr(env, s, request->csr, details)
                : Result<std::vector<std::string>>(std::unexpected(request.error()));
    changed = true;
    if (!chain) {
      failed = true;
      s.acme_last_sign = fmt::format("{}: {}", status_line("Failed", t), chain.error().message);
      write_audit(env, audit.path, audit.node, t, "acme_automated_sign",
                  error_outcome(chain.error()), details);
      continue;
    }
    s.acme_pending = AcmePending{std::move(*chain), request->key, request->csr};
    s.acme_last_sign = status_line("Success", t);
    write_audit(env, audit.path, audit.node, t, "acme_automated_sign", "ok", details);
  }
  return changed;
}

}  // namespace

namespace {

// Reads the node file; a node without one boots (and is written) first.
Result<State> load_state(Env& env, const std::string& path, const std::string& name,
                         const std::string& fqdn);

Status save_state(Env& env, const std::string& path, const State& s) {
  if (auto st = env.create_dirs(path_dirname(path), 0700); !st) return st;
  return env.write_file_atomic(path, state_json(s).dump(1) + "\n", 0600);
}

Result<State> load_state(Env& env, const std::string& path, const std::string& name,
                         const std::string& fqdn) {
  Result<std::string> data = env.read_file(path);
  if (!data) {
    if (data.error().code != ErrorCode::kNotFound) return std::unexpected(data.error());
    auto fresh = factory_state(name, fqdn, env.now());
    if (!fresh) return std::unexpected(fresh.error());
    if (auto st = save_state(env, path, *fresh); !st) return std::unexpected(st.error());
    return fresh;
  }
  try {
    return state_from(json::parse(*data));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: corrupt simulator node file: {}", path, e.what()));
  }
}

}  // namespace

namespace {

// Finishes a restart whose time is up: the staged certificate becomes active
// (unless the fault says the node comes back with the old one).
void complete_restart(State& s) {
  bool keep_old = s.restarting && s.restarting->keep_old;
  if (s.staged && !keep_old) s.active = std::move(*s.staged);
  s.staged.reset();
  s.restart_required = false;
  s.restarting.reset();
}

}  // namespace

SimNode::SimNode(Env& env, std::string dir, std::string name, std::string fqdn)
    : env_(env), dir_(std::move(dir)), name_(std::move(name)), fqdn_(std::move(fqdn)) {}

std::string SimNode::state_path() const {
  return path_join(dir_, name_ + ".json");
}
std::string SimNode::audit_path() const {
  return path_join(dir_, name_ + ".audit.jsonl");
}

// How run_op treats a request. Appliance operations get everything; the
// administration API's scheduler run is neither faulted nor audited itself
// (only what its events do is).
struct OpMode {
  bool faults = true;
  bool audit = true;
};

// Runs one appliance operation: every request goes through the same restart,
// scheduler catch-up, fault and persistence handling, then lands in the audit
// trail.
template <class Body>
auto run_op(SimNode& node, Env& env, const std::string& path, const std::string& audit_path,
            const std::string& fqdn, const char* op, OpMode mode, Body&& body)
    -> decltype(body(std::declval<OpContext&>())) {
  using R = decltype(body(std::declval<OpContext&>()));
  OpContext ctx;
  auto audit = [&](const std::string& outcome, const json& d) {
    if (mode.audit) write_audit(env, audit_path, node.name(), env.now(), op, outcome, d);
  };
  auto fail = [&](const Error& e) -> R {
    audit(error_outcome(e), ctx.details);
    return std::unexpected(e);
  };

  if (!valid_node_name(node.name())) {
    return std::unexpected(invalid(fmt::format(
        "simulator node name '{}' must be 1-63 characters of a-z, 0-9 and '-'", node.name())));
  }
  auto loaded = load_state(env, path, node.name(), fqdn);
  if (!loaded) return std::unexpected(loaded.error());
  ctx.state = std::move(*loaded);
  State& s = ctx.state;

  if (mode.faults && s.faults.latency_ms > 0)
    env.sleep_for(std::chrono::milliseconds(s.faults.latency_ms));

  // Still shutting down (restart_delay_seconds): the node answers as before.
  const bool shutting_down = s.restarting && to_ms(env.now()) < s.restarting->down_from_ms;
  if (s.restarting && !shutting_down) {
    if (s.restarting->never || to_ms(env.now()) < s.restarting->until_ms) {
      return fail(Error{ErrorCode::kUnavailable, "node is restarting"});
    }
    complete_restart(s);
    ctx.changed = true;
  }

  // The appliance's ACME scheduler ran while nobody watched: its events up to
  // now happen before this request, and are saved at once so that a failing
  // request cannot make them happen twice.
  if (run_acme_scheduler(env, s, env.now(), AuditSink{env, audit_path, node.name()})) {
    if (auto st = save_state(env, path, s); !st) return fail(st.error());
    ctx.changed = true;
  }

  bool counter_used = false;
  if (mode.faults && s.faults.failure_rate > 0) {
    double r = unit_random(s.faults.seed, s.request_counter++);
    counter_used = true;
    if (r < s.faults.failure_rate) {
      (void)save_state(env, path, s);
      return fail(Error{ErrorCode::kUnavailable,
                        "HTTP 503 Service Unavailable (simulator: injected failure)"});
    }
  }
  if (mode.faults && s.faults.drop_connections > 0 && !s.faults.drop_after_apply) {
    --s.faults.drop_connections;
    (void)save_state(env, path, s);
    return fail(Error{ErrorCode::kUnavailable, "connection dropped (simulator: injected fault)"});
  }

  R result = body(ctx);
  if (result.has_value() && (ctx.changed || counter_used)) {
    if (auto st = save_state(env, path, s); !st) return fail(st.error());
  } else if (!result.has_value() && (counter_used || ctx.persist_on_error)) {
    (void)save_state(env, path, s);
  }
  if (!result.has_value()) return fail(result.error());

  if (mode.faults && s.faults.drop_connections > 0 && s.faults.drop_after_apply) {
    // The change is on disk; only the reply is lost.
    --s.faults.drop_connections;
    (void)save_state(env, path, s);
    return fail(Error{ErrorCode::kUnavailable,
                      "connection dropped after the request was applied (simulator: injected "
                      "fault)"});
  }
  audit("ok", ctx.details);
  return result;
}

#define SIM_RUN(op, ...) \
  run_op(*this, env_, state_path(), audit_path(), fqdn_, op, OpMode{}, __VA_ARGS__)

Status SimNode::ensure_booted() {
  if (!valid_node_name(name_)) {
    return std::unexpected(invalid(fmt::format(
        "simulator node name '{}' must be 1-63 characters of a-z, 0-9 and '-'", name_)));
  }
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  return {};
}

Status SimNode::set_faults(const FaultConfig& faults) {
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  s->faults = faults;
  // A new configuration restarts the random sequence, so a test that sets the
  // same seed twice sees the same failures.
  s->request_counter = 0;
  return save_state(env_, state_path(), *s);
}

Result<FaultConfig> SimNode::faults() {
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  return s->faults;
}

Status SimNode::set_restart_seconds(int seconds) {
  if (seconds < 0) return std::unexpected(invalid("restart seconds must be >= 0"));
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  s->restart_seconds = seconds;
  return save_state(env_, state_path(), *s);
}

Status SimNode::set_acme_http01_listen(const std::string& listen) {
  if (auto why = http01_listen_problem(listen))
    return std::unexpected(invalid("http-01 listen address " + *why));
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  s->http01_listen = listen;
  return save_state(env_, state_path(), *s);
}

Result<std::string> SimNode::acme_http01_listen() {
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  return s->http01_listen;
}

Status SimNode::set_acme_scheduler_seed(uint64_t seed) {
  auto s = load_state(env_, state_path(), name_, fqdn_);
  if (!s) return std::unexpected(s.error());
  s->scheduler_seed = seed;
  return save_state(env_, state_path(), *s);
}

Status SimNode::run_scheduler() {
  return run_op(*this, env_, state_path(), audit_path(), fqdn_, "run_scheduler",
                OpMode{false, false}, [](OpContext&) -> Status { return {}; });
}

Result<std::vector<AuditEntry>> SimNode::audit() {
  std::vector<AuditEntry> out;
  Result<std::string> data = env_.read_file(audit_path());
  if (!data) {
    if (data.error().code == ErrorCode::kNotFound) return out;
    return std::unexpected(data.error());
  }
  size_t pos = 0;
  while (pos < data->size()) {
    size_t nl = data->find('\n', pos);
    if (nl == std::string::npos) nl = data->size();
    std::string line = data->substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    try {
      json j = json::parse(line);
      out.push_back(AuditEntry{j.at("time").get<std::string>(),
                               j.at("operation").get<std::string>(),
                               j.at("outcome").get<std::string>(), j.at("details").dump()});
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}: corrupt audit line: {}", audit_path(), e.what()));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Appliance operations.

Result<std::string> SimNode::ping() {
  return SIM_RUN("ping", [](OpContext& c) -> Result<std::string> { return c.state.version; });
}

Result<node::NodeState> SimNode::read_state() {
  Env& env = env_;
  return SIM_RUN("read_state", [&env](OpContext& c) -> Result<node::NodeState> {
    const State& s = c.state;
    node::NodeState out;
    out.software_version = s.version;
    auto active = parse_pems(s.active.chain, "active chain");
    if (!active) return std::unexpected(active.error());
    out.server_chain = std::move(*active);
    if (s.staged) {
      auto staged = parse_pems(s.staged->chain, "staged chain");
      if (!staged) return std::unexpected(staged.error());
      out.staged_chain = std::move(*staged);
    }
    if (s.csr) {
      auto req = pki::CertificateRequest::parse(s.csr->chain.at(0), "pending CSR");
      if (!req) return make_error(ErrorCode::kCorrupt, req.error().message);
      node::PendingCsr p;
      p.pem = req->to_pem();
      p.common_name = req->subject_cn();
      p.dns_names = req->subject_alt_names().dns;
      p.key = req->key_info();
      p.digest = req->signature_digest();
      out.pending_csr = std::move(p);
    }
    auto cas = parse_pems(s.trusted_cas, "trusted CA");
    if (!cas) return std::unexpected(cas.error());
    out.trusted_cas = std::move(*cas);
    out.crl = s.crl;
    if (s.manual_crl_hex)
      out.manual_crl_sha256 = pki::sha256_fingerprint(from_hex(*s.manual_crl_hex));
    out.revocation = s.revocation;
    out.acme = s.acme;
    const bool registered =
        !s.acme_account_url.empty() && s.acme_account_directory == s.acme.provider_directory;
    out.acme_status.status = s.acme.mode == spec::AcmeMode::kDisabled ? kAcmeStatusDisabled
                             : registered                             ? kAcmeStatusRegistered
                                                                      : kAcmeStatusNotRegistered;
    out.acme_status.last_sign_status = s.acme_last_sign;
    out.acme_status.last_deploy_status = s.acme_last_deploy;
    if (s.acme_pending) out.acme_status.pending_certificate_pem = chain_text(s.acme_pending->chain);
    out.tls_verification = s.tls;
    if (!out.server_chain.empty()) out.alarms = alarms_for(out.server_chain.front(), env.now());
    out.restart_required = s.restart_required;
    return out;
  });
}

Result<std::string> SimNode::generate_csr(const node::CsrRequest& request) {
  return SIM_RUN("generate_csr", [&request](OpContext& c) -> Result<std::string> {
    State& s = c.state;
    c.details["common_name"] = request.common_name;
    if (s.csr) {
      return make_error(ErrorCode::kAlreadyExists,
                        "a CSR is already in progress; discard it before generating a new one");
    }
    if (FqdnProblem p = check_fqdn(request.common_name); p != FqdnProblem::kOk) {
      return std::unexpected(invalid("Common name must be a valid FQDN: " +
                                     describe_fqdn_problem(request.common_name, p)));
    }
    std::vector<std::string> names = {request.common_name};
    for (const std::string& n : request.dns_names) {
      if (FqdnProblem p = check_fqdn(n); p != FqdnProblem::kOk) {
        return std::unexpected(invalid("Subject alternative name must be a valid FQDN: " +
                                       describe_fqdn_problem(n, p)));
      }
      bool dup = std::any_of(names.begin(), names.end(), [&](const std::string& x) {
        return to_lower_ascii(x) == to_lower_ascii(n);
      });
      if (!dup) names.push_back(n);
    }
    bool rsa = request.key_algorithm == spec::KeyAlgorithm::kRsa;
    bool size_ok =
        rsa ? (request.key_size == 2048 || request.key_size == 4096)
            : (request.key_size == 256 || request.key_size == 384 || request.key_size == 521);
    if (!size_ok) {
      return std::unexpected(
          invalid(fmt::format("unsupported key: {} {} (RSA 2048/4096 or ECDSA 256/384/521)",
                              spec::key_algorithm_name(request.key_algorithm), request.key_size)));
    }
    auto key = pki::PrivateKey::generate(request.key_algorithm, request.key_size);
    if (!key) return std::unexpected(key.error());
    pki::CsrOptions opts;
    opts.common_name = request.common_name;
    opts.subject = request.subject;
    opts.dns_names = names;
    opts.digest = request.digest;
    auto csr = pki::CertificateRequest::create(*key, opts);
    if (!csr) return std::unexpected(csr.error());
    auto pem = key_pem(*key);
    if (!pem) return std::unexpected(pem.error());
    s.csr = KeyedChain{{csr->to_pem()}, *pem};
    c.changed = true;
    c.details["dns_names"] = names;
    c.details["key"] =
        fmt::format("{} {}", spec::key_algorithm_name(request.key_algorithm), request.key_size);
    return csr->to_pem();
  });
}

Status SimNode::discard_csr() {
  return SIM_RUN("discard_csr", [](OpContext& c) -> Status {
    if (!c.state.csr) return make_error(ErrorCode::kNotFound, "no CSR is in progress");
    c.state.csr.reset();
    c.changed = true;
    return {};
  });
}

Result<node::UploadResult> SimNode::upload_server_certificate(
    const node::CertificateUpload& upload) {
  Env& env = env_;
  return SIM_RUN("upload_server_certificate", [&](OpContext& c) -> Result<node::UploadResult> {
    State& s = c.state;
    c.details["with_key"] = upload.key.has_value();
    if (upload.key && s.csr) {
      return std::unexpected(
          invalid("a private key cannot be uploaded while a CSR is in progress; discard the CSR "
                  "or upload the certificate alone"));
    }
    if (upload.chain_pem.find("-----BEGIN") == std::string::npos) {
      return std::unexpected(invalid("the server certificate is not a PEM file"));
    }
    auto chain = pki::Certificate::parse_all(upload.chain_pem, "server certificate");
    if (!chain) {
      return std::unexpected(invalid("the server certificate is not a valid PEM certificate: " +
                                     chain.error().message));
    }
    const pki::Certificate& leaf = chain->front();
    std::vector<pki::Certificate> intermediates(chain->begin() + 1, chain->end());
    c.details["sha256"] = leaf.sha256_fingerprint();
    c.details["subject"] = leaf.subject();

    // The key the certificate will be paired with.
    pki::KeyFile kf;
    if (upload.key) {
      auto inspected = pki::inspect_private_key(upload.key->view(), "private key");
      if (!inspected) {
        // The pki message names only the source and block, never key bytes.
        return std::unexpected(invalid(inspected.error().message));
      }
      kf = std::move(*inspected);
    } else {
      const std::string& held = s.csr ? s.csr->key : s.active.key;
      auto k = pki::PrivateKey::parse(held, s.csr ? "pending CSR key" : "current server key");
      if (!k) return make_error(ErrorCode::kCorrupt, k.error().message);
      kf.source = s.csr ? "the pending CSR's key" : "the current server key";
      kf.pem = false;  // not a file: no trailing-newline question
      kf.key = std::move(*k);
    }

    pki::ServerCheckOptions opts;
    opts.now = env.now();
    opts.key = &kf;
    opts.chain = intermediates;
    std::vector<pki::Finding> findings = pki::check_server_certificate(leaf, opts);
    std::vector<std::string> errors;
    node::UploadResult result;
    for (const pki::Finding& f : findings) {
      if (f.severity == Severity::kError) {
        errors.push_back(f.message);
      } else if (f.id == "missing-common-name" || f.id == "key-missing-trailing-newline") {
        // Only the warnings the appliance itself shows (guide ch.6); edgecert's
        // operational warnings (expiring-soon, missing-client-auth...) are not
        // the node's to report.
        result.warnings.push_back({f.id, f.message});
      }
    }
    if (!errors.empty()) {
      std::string msg;
      for (const std::string& e : errors) msg += (msg.empty() ? "" : "; ") + e;
      return std::unexpected(invalid(msg));
    }

    auto anchors = parse_pems(s.trusted_cas, "trusted CA");
    if (!anchors) return std::unexpected(anchors.error());
    pki::VerifyOptions vo;
    vo.at = env.now();
    pki::VerifyResult vr = pki::verify_chain(leaf, intermediates, *anchors, vo);
    if (!vr.ok) {
      return std::unexpected(invalid(fmt::format(
          "the certificate's issuer chain does not verify against the trusted CA list ({}: {}); "
          "install the CA certificates before the server certificate",
          vr.error_name, vr.message)));
    }

    // "Unknown CRL": revocation checking by CRL is on but the node has no CRL
    // source for this issuer.
    if (s.revocation.enabled && s.revocation.crl) {
      bool known = s.crl.automatic_updates && !s.crl.distribution_points.empty();
      if (!known && s.manual_crl_hex) {
        auto crls = pki::Crl::parse_all(from_hex(*s.manual_crl_hex), "manual CRL");
        if (crls) {
          for (const pki::Crl& crl : *crls) known = known || crl.issuer() == leaf.issuer();
        }
      }
      if (!known) {
        result.warnings.push_back(
            {"unknown-crl",
             fmt::format("no CRL is known for the issuer {} of the certificate", leaf.issuer())});
      }
    }

    KeyedChain staged;
    for (const pki::Certificate& cert : *chain) staged.chain.push_back(cert.to_pem());
    if (upload.key) {
      auto pem = key_pem(*kf.key);
      if (!pem) return std::unexpected(pem.error());
      staged.key = *pem;
    } else {
      staged.key = s.csr ? s.csr->key : s.active.key;
    }
    s.staged = std::move(staged);
    s.csr.reset();
    s.restart_required = true;
    c.changed = true;
    result.staged_sha256 = leaf.sha256_fingerprint();
    json w = json::array();
    for (const auto& x : result.warnings) w.push_back(x.id);
    c.details["warnings"] = w;
    return result;
  });
}

Result<node::AppendCasResult> SimNode::append_trusted_cas(std::string_view pem_bundle) {
  return SIM_RUN("append_trusted_cas", [&](OpContext& c) -> Result<node::AppendCasResult> {
    State& s = c.state;
    if (pem_bundle.find("-----BEGIN") == std::string_view::npos) {
      return std::unexpected(invalid("the CA certificate file is not a PEM file"));
    }
    auto certs = pki::Certificate::parse_all(pem_bundle, "CA certificate file");
    if (!certs) return std::unexpected(invalid(certs.error().message));
    auto existing = parse_pems(s.trusted_cas, "trusted CA");
    if (!existing) return std::unexpected(existing.error());
    std::vector<std::string> have;
    for (const pki::Certificate& e : *existing) have.push_back(e.sha256_fingerprint());
    node::AppendCasResult r;
    std::vector<std::string> add_pems;
    for (const pki::Certificate& cert : *certs) {
      std::string fp = cert.sha256_fingerprint();
      if (std::find(have.begin(), have.end(), fp) != have.end()) {
        r.skipped.push_back(fp);
        continue;
      }
      have.push_back(fp);
      r.added.push_back(fp);
      add_pems.push_back(cert.to_pem());
    }
    if (s.trusted_cas.size() + add_pems.size() > pki::kMaxTrustedCas) {
      return std::unexpected(invalid(
          fmt::format("the trusted CA list would hold {} certificates, above the maximum of {}",
                      s.trusted_cas.size() + add_pems.size(), pki::kMaxTrustedCas)));
    }
    s.trusted_cas.insert(s.trusted_cas.end(), add_pems.begin(), add_pems.end());
    c.changed = !add_pems.empty();
    c.details["added"] = r.added;
    c.details["skipped"] = r.skipped;
    return r;
  });
}

Status SimNode::delete_trusted_ca(const std::string& sha256) {
  return SIM_RUN("delete_trusted_ca", [&](OpContext& c) -> Status {
    State& s = c.state;
    c.details["sha256"] = sha256;
    std::string want = normalize_fingerprint(sha256);
    for (size_t i = 0; i < s.trusted_cas.size(); ++i) {
      auto cert = pki::Certificate::parse_one(s.trusted_cas[i], "trusted CA");
      if (!cert) return make_error(ErrorCode::kCorrupt, cert.error().message);
      if (normalize_fingerprint(cert->sha256_fingerprint()) == want) {
        s.trusted_cas.erase(s.trusted_cas.begin() + static_cast<std::ptrdiff_t>(i));
        c.changed = true;
        return {};
      }
    }
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no trusted CA certificate has SHA-256 fingerprint {}", sha256));
  });
}

Status SimNode::reset_trusted_cas() {
  return SIM_RUN("reset_trusted_cas", [](OpContext& c) -> Status {
    c.state.trusted_cas = c.state.factory_cas;
    c.changed = true;
    return {};
  });
}

Status SimNode::set_crl_settings(const node::CrlSettings& settings) {
  return SIM_RUN("set_crl_settings", [&](OpContext& c) -> Status {
    for (const std::string& url : settings.distribution_points) {
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return std::unexpected(
            invalid(fmt::format("CRL distribution point '{}' must be an HTTP or HTTPS URL", url)));
      }
    }
    if (settings.daily_update_minute < 0 || settings.daily_update_minute >= 24 * 60) {
      return std::unexpected(invalid("daily update time must be between 00:00 and 23:59"));
    }
    c.state.crl = settings;
    c.changed = true;
    c.details["automatic_updates"] = settings.automatic_updates;
    c.details["distribution_points"] = settings.distribution_points;
    return {};
  });
}

Status SimNode::upload_manual_crl(std::string_view data) {
  return SIM_RUN("upload_manual_crl", [&](OpContext& c) -> Status {
    if (data.size() >= kMaxManualCrlBytes) {
      return std::unexpected(invalid("the CRL file must be smaller than 16 MB"));
    }
    auto crls = pki::Crl::parse_all(data, "CRL file");
    if (!crls) return std::unexpected(invalid(crls.error().message));
    c.state.manual_crl_hex = to_hex(data);
    c.changed = true;
    c.details["sha256"] = pki::sha256_fingerprint(data);
    return {};
  });
}

Status SimNode::remove_manual_crl() {
  return SIM_RUN("remove_manual_crl", [](OpContext& c) -> Status {
    if (!c.state.manual_crl_hex)
      return make_error(ErrorCode::kNotFound, "no manual CRL is installed");
    c.state.manual_crl_hex.reset();
    c.changed = true;
    return {};
  });
}

Status SimNode::set_revocation_checking(const spec::RevocationChecking& settings) {
  return SIM_RUN("set_revocation_checking", [&](OpContext& c) -> Status {
    c.state.revocation = settings;
    c.changed = true;
    c.details["enabled"] = settings.enabled;
    return {};
  });
}

Status SimNode::set_tls_verification(spec::TlsVerification mode) {
  return SIM_RUN("set_tls_verification", [&](OpContext& c) -> Status {
    c.state.tls = mode;
    c.changed = true;
    c.details["mode"] = spec::tls_verification_name(mode);
    return {};
  });
}

Result<node::AcmeSettings> SimNode::acme_settings() {
  return SIM_RUN("acme_settings",
                 [](OpContext& c) -> Result<node::AcmeSettings> { return c.state.acme; });
}

Status SimNode::set_acme_settings(const node::AcmeSettings& settings) {
  return SIM_RUN("set_acme_settings", [&](OpContext& c) -> Status {
    if (settings.mode != spec::AcmeMode::kDisabled) {
      if (settings.provider_directory.rfind("https://", 0) != 0) {
        return std::unexpected(invalid("the ACME provider directory must be an HTTPS URL"));
      }
      if (settings.email.find('@') == std::string::npos) {
        return std::unexpected(invalid("the ACME account e-mail address is not valid"));
      }
      if (!settings.terms_accepted) {
        return std::unexpected(invalid("the ACME provider's terms of service must be accepted"));
      }
    }
    if (settings.mode == spec::AcmeMode::kAutomated &&
        (!settings.schedule || settings.schedule->days.empty())) {
      return std::unexpected(
          invalid("automated ACME mode needs a schedule with at least one day of the week"));
    }
    c.state.acme = settings;
    c.changed = true;
    c.details["mode"] = spec::acme_mode_name(settings.mode);
    c.details["provider"] = settings.provider_name;
    return {};
  });
}

Status SimNode::acme_sign() {
  Env& env = env_;
  return SIM_RUN("acme_sign", [&env](OpContext& c) -> Status {
    State& s = c.state;
    if (auto e = acme_unusable(s.acme)) return std::unexpected(*e);
    if (!s.csr) {
      return make_error(ErrorCode::kNotFound,
                        "no CSR is in progress; generate a CSR before signing it with the ACME "
                        "provider");
    }
    // From here on the attempt counts: its outcome is the last sign status,
    // and a registered account stays registered.
    c.persist_on_error = true;
    const TimePoint started = env.now();
    auto chain = acme_sign_csr(env, s, s.csr->chain.at(0), c.details);
    if (!chain) {
      s.acme_last_sign =
          fmt::format("{}: {}", status_line("Failed", started), chain.error().message);
      return std::unexpected(chain.error());
    }
    s.acme_pending = AcmePending{std::move(*chain), s.csr->key, s.csr->chain.at(0)};
    s.acme_last_sign = status_line("Success", started);
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_deploy() {
  Env& env = env_;
  return SIM_RUN("acme_deploy", [&env](OpContext& c) -> Status {
    State& s = c.state;
    if (auto e = acme_unusable(s.acme)) return std::unexpected(*e);
    if (!s.acme_pending) {
      return make_error(ErrorCode::kNotFound,
                        "no ACME certificate is pending; sign a CSR with the ACME provider first");
    }
    acme_activate(s, env.now(), c.details);
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_discard_pending() {
  return SIM_RUN("acme_discard_pending", [](OpContext& c) -> Status {
    State& s = c.state;
    if (!s.acme_pending) return make_error(ErrorCode::kNotFound, "no ACME certificate is pending");
    auto leaf = pki::Certificate::parse_one(s.acme_pending->chain.at(0), "pending ACME");
    if (leaf) c.details["sha256"] = leaf->sha256_fingerprint();
    s.acme_pending.reset();
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_revoke(std::string_view certificate_pem, int reason) {
  Env& env = env_;
  return SIM_RUN("acme_revoke", [&](OpContext& c) -> Status {
    State& s = c.state;
    c.details["reason"] = reason;
    if (auto e = acme_unusable(s.acme)) return std::unexpected(*e);
    if (!is_acme_revocation_reason(reason)) {
      return std::unexpected(invalid(
          fmt::format("revocation reason {} is not one an ACME provider accepts (0 unspecified, 1 "
                      "keyCompromise, 3 affiliationChanged, 4 superseded, 5 cessationOfOperation)",
                      reason)));
    }
    if (certificate_pem.find("-----BEGIN") == std::string_view::npos) {
      return std::unexpected(invalid("the certificate to revoke is not a PEM file"));
    }
    auto certs = pki::Certificate::parse_all(certificate_pem, "certificate to revoke");
    if (!certs || certs->empty()) {
      return std::unexpected(invalid("the certificate to revoke is not a valid PEM certificate" +
                                     (certs ? std::string() : ": " + certs.error().message)));
    }
    const pki::Certificate& cert = certs->front();
    c.details["sha256"] = cert.sha256_fingerprint();
    c.details["serial"] = cert.serial_hex();
    auto active = pki::Certificate::parse_one(s.active.chain.at(0), "active certificate");
    if (!active) return make_error(ErrorCode::kCorrupt, active.error().message);
    if (active->sha256_fingerprint() == cert.sha256_fingerprint()) {
      return std::unexpected(invalid(
          fmt::format("certificate serial {} is in use (the node serves it); deploy a replacement "
                      "first: never revoke the certificate in use",
                      cert.serial_hex())));
    }
    c.persist_on_error = true;  // a registered account stays registered
    const std::string where = "ACME provider " + s.acme.provider_directory;
    auto client = acme_client_for(env, s, c.details);
    c.changed = true;
    if (!client) return std::unexpected(client.error().with_context(where));
    if (auto st = (*client)->revoke(cert, reason); !st)
      return std::unexpected(st.error().with_context(where));
    return {};
  });
}

Status SimNode::restart() {
  Env& env = env_;
  return SIM_RUN("restart", [&env](OpContext& c) -> Status {
    State& s = c.state;
    int secs =
        s.faults.slow_restart_seconds > 0 ? s.faults.slow_restart_seconds : s.restart_seconds;
    RestartInProgress r;
    r.down_from_ms = to_ms(env.now()) + int64_t{s.faults.restart_delay_seconds} * 1000;
    r.until_ms = r.down_from_ms + int64_t{secs} * 1000;
    r.never = s.faults.restart_never_returns;
    r.keep_old = s.faults.restart_keeps_old_certificate;
    s.restarting = r;
    c.changed = true;
    c.details["seconds"] = secs;
    c.details["staged"] = s.staged.has_value();
    return {};
  });
}

Result<std::vector<pki::Certificate>> SimNode::served_chain() {
  return SIM_RUN("served_chain", [](OpContext& c) -> Result<std::vector<pki::Certificate>> {
    auto chain = parse_pems(c.state.active.chain, "active chain");
    if (!chain) return std::unexpected(chain.error());
    if (!chain->empty()) c.details["sha256"] = chain->front().sha256_fingerprint();
    return chain;
  });
}

}  // namespace edgecert::sim
